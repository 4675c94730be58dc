package misp

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/indicator"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/secret"
)

// testKey has the form of a MISP key: 40 letters and digits.
const testKey = "Ab3dEf7hIj1lMn0pQr5tUv9xYz2bCd4fGh6jKl8n"

var testIndicators = []indicator.Indicator{
	{Kind: indicator.Domain, Value: "c2.evil.example", Field: "data.win.eventdata.queryName"},
	{Kind: indicator.IP, Value: "198.51.100.23", Field: "data.win.eventdata.queryResults", Query: "c2.evil.example"},
	{Kind: indicator.IP, Value: "2001:db8::17", Field: "data.win.eventdata.destinationIp"},
}

// request is what the mock server received.
type request struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// mockMISP records every request before passing it to its handler.
type mockMISP struct {
	mu       sync.Mutex
	requests []request
}

func (m *mockMISP) seen() []request {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]request(nil), m.requests...)
}

func (m *mockMISP) wrap(handler http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		m.mu.Lock()
		m.requests = append(m.requests, request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
		m.mu.Unlock()
		handler(w, r)
	}
}

func startMock(t *testing.T, handler http.HandlerFunc) (*httptest.Server, *mockMISP) {
	t.Helper()
	m := &mockMISP{}
	srv := httptest.NewServer(m.wrap(handler))
	t.Cleanup(srv.Close)
	return srv, m
}

// respond replies to every request with status, headers and body.
func respond(status int, header map[string]string, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}
}

func newTestClient(t *testing.T, baseURL string, edit ...func(*Options)) *Client {
	t.Helper()
	opts := Options{
		URL:       baseURL,
		Key:       secret.String(testKey),
		UserAgent: "custom-misp-test/1",
		Filters:   Filters{ToIDS: true, Published: true, EnforceWarninglist: true},
	}
	for _, f := range edit {
		f(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// asError checks that err is an *Error without the API key in its text.
func asError(t *testing.T, err error) *Error {
	t.Helper()
	if err == nil {
		t.Fatal("got no error")
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %q is not a *misp.Error", err, err)
	}
	if strings.Contains(err.Error(), testKey) {
		t.Fatalf("error text contains the API key: %q", err)
	}
	return e
}

var jsonHeader = map[string]string{"Content-Type": "application/json; charset=UTF-8"}

func TestSearchSendsRequest(t *testing.T) {
	srv, m := startMock(t, respond(200, jsonHeader, fixture(t, "restsearch_empty.json")))
	c := newTestClient(t, srv.URL+"/")

	if _, err := c.Search(context.Background(), testIndicators); err != nil {
		t.Fatalf("Search: %v", err)
	}

	reqs := m.seen()
	if len(reqs) != 1 {
		t.Fatalf("server saw %d requests, want 1", len(reqs))
	}
	got := reqs[0]
	if got.Method != http.MethodPost || got.Path != "/attributes/restSearch" {
		t.Errorf("request = %s %s, want POST /attributes/restSearch", got.Method, got.Path)
	}
	for name, want := range map[string]string{
		"Authorization": testKey,
		"Accept":        "application/json",
		"Content-Type":  "application/json",
		"User-Agent":    "custom-misp-test/1",
	} {
		if v := got.Header.Get(name); v != want {
			t.Errorf("header %s = %q, want %q", name, v, want)
		}
	}
	golden(t, "search_ip_domain.json", append(got.Body, '\n'))
}

func TestSearchMISPAuthHeader(t *testing.T) {
	srv, m := startMock(t, respond(200, jsonHeader, fixture(t, "restsearch_empty.json")))
	c := newTestClient(t, srv.URL, func(o *Options) { o.AuthHeader = "x-misp-auth"; o.UserAgent = "" })

	if _, err := c.Search(context.Background(), testIndicators); err != nil {
		t.Fatalf("Search: %v", err)
	}

	got := m.seen()[0]
	if v := got.Header.Get("X-MISP-AUTH"); v != testKey {
		t.Errorf("X-MISP-AUTH = %q, want the key", v)
	}
	if v := got.Header.Get("Authorization"); v != "" {
		t.Errorf("Authorization = %q, want it unset", v)
	}
	if v := got.Header.Get("User-Agent"); v != DefaultUserAgent {
		t.Errorf("User-Agent = %q, want %q", v, DefaultUserAgent)
	}
}

func TestSearchBasePath(t *testing.T) {
	srv, m := startMock(t, respond(200, jsonHeader, fixture(t, "restsearch_empty.json")))
	c := newTestClient(t, srv.URL+"/misp/")

	if _, err := c.Search(context.Background(), testIndicators); err != nil {
		t.Fatalf("Search: %v", err)
	}
	if got := m.seen()[0].Path; got != "/misp/attributes/restSearch" {
		t.Errorf("path = %q, want /misp/attributes/restSearch", got)
	}
}

func TestSearchFixtures(t *testing.T) {
	tests := []struct {
		fixture string
		status  int
		header  map[string]string

		wantCount int
	}{
		{"restsearch_single_hit.json", 200, jsonHeader, 1},
		{"restsearch_multi_hit_composite.json", 200, map[string]string{"Content-Type": "application/json", "X-Result-Count": "7"}, 6},
		{"restsearch_empty.json", 200, map[string]string{"Content-Type": "application/json", "X-Result-Count": "1"}, 0},
		{"derived_restsearch_ip_composites_2_5.json", 200, jsonHeader, 3},
		{"derived_restsearch_native_ints_2_5.json", 200, jsonHeader, 1},
	}
	for _, tc := range tests {
		t.Run(tc.fixture, func(t *testing.T) {
			srv, _ := startMock(t, respond(tc.status, tc.header, fixture(t, tc.fixture)))
			c := newTestClient(t, srv.URL)

			attrs, err := c.Search(context.Background(), testIndicators)
			if err != nil {
				t.Fatalf("Search: %v", err)
			}
			if len(attrs) != tc.wantCount {
				t.Errorf("got %d attributes, want %d", len(attrs), tc.wantCount)
			}
		})
	}
}

func TestSearchFailures(t *testing.T) {
	const loginPage = "<!DOCTYPE html>\n<html>\n<head><title>Users - MISP</title></head>\n<body>\x1b[31m<form action=\"/users/login\">Login</form></body></html>"
	internalJSON := []byte(`{"name":"An Internal Error Has Occurred.","message":"An Internal Error Has Occurred.","url":"\/attributes\/restSearch"}`)
	htmlHeader := map[string]string{"Content-Type": "text/html; charset=UTF-8"}

	tests := []struct {
		name    string
		handler http.HandlerFunc

		wantKind        Kind
		wantStatus      int
		wantMessage     string
		wantHint        string
		wantRetryable   bool
		wantUnavailable bool
		wantRetryAfter  time.Duration
	}{
		{
			name:        "403 auth failed",
			handler:     respond(403, jsonHeader, fixture(t, "error_403_auth_failed.json")),
			wantKind:    KindAuth,
			wantStatus:  403,
			wantMessage: "returned HTTP 403: Authentication failed. Please make sure you pass the API key",
			wantHint:    "check misp.api_key and that the key's user has API access and its allowed IPs include this manager",
		},
		{
			name:        "401 html",
			handler:     respond(401, htmlHeader, []byte("<html>Unauthorized</html>")),
			wantKind:    KindAuth,
			wantStatus:  401,
			wantMessage: "<html>Unauthorized</html>",
			wantHint:    "misp.api_key",
		},
		{
			// Derived from MISP source code, not captured from a live instance.
			name: "429 rate limited",
			handler: respond(429, map[string]string{
				"Content-Type":           "application/json",
				"X-Rate-Limit-Limit":     "10",
				"X-Rate-Limit-Remaining": "0",
				"X-Rate-Limit-Reset":     "120",
			}, fixture(t, "derived_error_429_rate_limited.json")),
			wantKind:        KindRateLimited,
			wantStatus:      429,
			wantMessage:     "HTTP 429: Rate limit exceeded.",
			wantHint:        "resets in 120 seconds (X-Rate-Limit-Reset)",
			wantRetryable:   true,
			wantUnavailable: true,
			wantRetryAfter:  120 * time.Second,
		},
		{
			name:            "429 without reset",
			handler:         respond(429, nil, nil),
			wantKind:        KindRateLimited,
			wantStatus:      429,
			wantMessage:     "HTTP 429: empty body",
			wantHint:        "search rate limit was reached; raise",
			wantRetryable:   true,
			wantUnavailable: true,
		},
		{
			name:        "login page 200",
			handler:     respond(200, htmlHeader, []byte(loginPage)),
			wantKind:    KindBadResponse,
			wantStatus:  200,
			wantMessage: "returned HTTP 200 with HTML instead of JSON: <!DOCTYPE html> <html> <head><title>Users - MISP</title></head> <body> [31m<form",
			wantHint:    "misp.url",
		},
		{
			name:        "unlabelled html 200",
			handler:     respond(200, map[string]string{"Content-Type": "application/json"}, []byte("  <html>proxy</html>")),
			wantKind:    KindBadResponse,
			wantStatus:  200,
			wantMessage: "HTML instead of JSON",
		},
		{
			name:            "500 html",
			handler:         respond(500, htmlHeader, []byte("<html><body><h2>An Internal Error Has Occurred.</h2></body></html>")),
			wantKind:        KindServer,
			wantStatus:      500,
			wantMessage:     "HTTP 500: <html><body><h2>An Internal Error Has Occurred.</h2></body></html>",
			wantHint:        "error.log",
			wantRetryable:   true,
			wantUnavailable: true,
		},
		{
			name:            "500 json",
			handler:         respond(500, jsonHeader, internalJSON),
			wantKind:        KindServer,
			wantStatus:      500,
			wantMessage:     "HTTP 500: An Internal Error Has Occurred.",
			wantRetryable:   true,
			wantUnavailable: true,
		},
		{
			name:            "500 empty",
			handler:         respond(500, nil, nil),
			wantKind:        KindServer,
			wantStatus:      500,
			wantMessage:     "HTTP 500: empty body",
			wantRetryable:   true,
			wantUnavailable: true,
		},
		{
			name:            "501 not retried",
			handler:         respond(501, nil, []byte("Not Implemented")),
			wantKind:        KindServer,
			wantStatus:      501,
			wantMessage:     "HTTP 501: Not Implemented",
			wantUnavailable: true,
		},
		{
			name:            "502 html",
			handler:         respond(502, htmlHeader, []byte("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")),
			wantKind:        KindServer,
			wantStatus:      502,
			wantMessage:     "HTTP 502: <html> <head><title>502 Bad Gateway</title></head> <body>",
			wantRetryable:   true,
			wantUnavailable: true,
		},
		{
			name:        "empty body 200",
			handler:     respond(200, jsonHeader, nil),
			wantKind:    KindBadResponse,
			wantStatus:  200,
			wantMessage: "returned HTTP 200 with an empty body",
		},
		{
			name:        "404 not found",
			handler:     respond(404, jsonHeader, []byte(`{"name":"Not Found","message":"Not Found","url":"\/misp\/attributes\/restSearch"}`)),
			wantKind:    KindBadResponse,
			wantStatus:  404,
			wantMessage: "HTTP 404: Not Found",
			wantHint:    "base URL",
		},
		{
			name:        "405 invalid json",
			handler:     respond(405, jsonHeader, []byte(`{"name":"Invalid JSON input. Make sure that the JSON input is a correctly formatted JSON string. This request has been blocked to avoid an unfiltered request.","message":"Invalid JSON input.","url":"\/attributes\/restSearch"}`)),
			wantKind:    KindBadResponse,
			wantStatus:  405,
			wantMessage: "HTTP 405: Invalid JSON input.",
			wantHint:    "role may not be allowed to search",
		},
		{
			name:        "400 name only",
			handler:     respond(400, jsonHeader, []byte(`{"name":"Restsearch queries using GET and no parameters are not allowed."}`)),
			wantKind:    KindBadResponse,
			wantStatus:  400,
			wantMessage: "HTTP 400: Restsearch queries using GET",
		},
		{
			name:        "events shape",
			handler:     respond(200, jsonHeader, []byte(`{"response":[{"Event":{"id":"1"}}]}`)),
			wantKind:    KindBadResponse,
			wantStatus:  200,
			wantMessage: "unexpected body: decode restSearch response: \"response\" is a list of events",
		},
		{
			name:        "not json",
			handler:     respond(200, map[string]string{"Content-Type": "text/plain"}, []byte("ok")),
			wantKind:    KindBadResponse,
			wantStatus:  200,
			wantMessage: "unexpected body",
		},
		{
			name: "oversize body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				chunk := []byte(strings.Repeat(" ", 64<<10))
				for range (maxBodyBytes >> 16) + 2 {
					if _, err := w.Write(chunk); err != nil {
						return
					}
				}
			},
			wantKind:    KindBadResponse,
			wantStatus:  200,
			wantMessage: "with a body larger than 8 MiB",
		},
		{
			name:            "json error with control characters",
			handler:         respond(500, jsonHeader, []byte(`{"message":"line one\nFAKE LOG LINE\u202e\u0007","name":"x"}`)),
			wantKind:        KindServer,
			wantStatus:      500,
			wantMessage:     "HTTP 500: line one FAKE LOG LINE;",
			wantRetryable:   true,
			wantUnavailable: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := startMock(t, tc.handler)
			c := newTestClient(t, srv.URL)

			attrs, err := c.Search(context.Background(), testIndicators)
			if attrs != nil {
				t.Errorf("got attributes %v with an error", attrs)
			}
			e := asError(t, err)
			if e.Kind != tc.wantKind {
				t.Errorf("kind = %q, want %q (error %q)", e.Kind, tc.wantKind, err)
			}
			if e.Status != tc.wantStatus {
				t.Errorf("status = %d, want %d", e.Status, tc.wantStatus)
			}
			if !strings.Contains(err.Error(), tc.wantMessage) {
				t.Errorf("error = %q\nwant it to contain %q", err, tc.wantMessage)
			}
			if !strings.Contains(e.Hint, tc.wantHint) {
				t.Errorf("hint = %q, want it to contain %q", e.Hint, tc.wantHint)
			}
			if e.Hint == "" {
				t.Error("hint is empty")
			}
			if got := e.Retryable(); got != tc.wantRetryable {
				t.Errorf("Retryable() = %v, want %v", got, tc.wantRetryable)
			}
			if got := e.Unavailable(); got != tc.wantUnavailable {
				t.Errorf("Unavailable() = %v, want %v", got, tc.wantUnavailable)
			}
			if e.RetryAfter != tc.wantRetryAfter {
				t.Errorf("RetryAfter = %s, want %s", e.RetryAfter, tc.wantRetryAfter)
			}
			if strings.ContainsAny(e.Message, "\n\r\x1b\x07\u202e") {
				t.Errorf("message contains control characters: %q", e.Message)
			}
		})
	}
}

func TestSearchRedirectNotFollowed(t *testing.T) {
	srv, m := startMock(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/users/login" {
			respond(200, map[string]string{"Content-Type": "text/html"}, []byte("<html>login</html>"))(w, r)
			return
		}
		http.Redirect(w, r, "/users/login?next=%2Fattributes", http.StatusFound)
	})
	c := newTestClient(t, srv.URL)

	_, err := c.Search(context.Background(), testIndicators)

	e := asError(t, err)
	if e.Kind != KindRedirect || e.Status != http.StatusFound {
		t.Errorf("kind, status = %q, %d; want redirect, 302", e.Kind, e.Status)
	}
	if !strings.Contains(e.Message, "redirecting to /users/login") || strings.Contains(e.Message, "next=") {
		t.Errorf("message = %q, want the Location path without its query", e.Message)
	}
	if e.Hint != hintRedirect {
		t.Errorf("hint = %q, want %q", e.Hint, hintRedirect)
	}
	if !e.Unavailable() || e.Retryable() {
		t.Errorf("Unavailable, Retryable = %v, %v; want true, false", e.Unavailable(), e.Retryable())
	}
	for _, r := range m.seen() {
		if r.Path == "/users/login" {
			t.Errorf("client followed the redirect: server saw %s %s", r.Method, r.Path)
		}
	}
	if n := len(m.seen()); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
}

func TestSearchRedirectWithoutLocation(t *testing.T) {
	srv, _ := startMock(t, respond(http.StatusMovedPermanently, nil, nil))
	c := newTestClient(t, srv.URL)

	_, err := c.Search(context.Background(), testIndicators)

	e := asError(t, err)
	if e.Kind != KindRedirect || !strings.Contains(e.Message, "no Location header") {
		t.Errorf("kind, message = %q, %q", e.Kind, e.Message)
	}
}

// stall blocks until the client goes away or the test ends.
func stall(done <-chan struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}
}

func TestSearchTimeout(t *testing.T) {
	done := make(chan struct{})
	srv, _ := startMock(t, stall(done))
	t.Cleanup(func() { close(done) })
	c := newTestClient(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()

	start := time.Now()
	_, err := c.Search(ctx, testIndicators)
	elapsed := time.Since(start)

	e := asError(t, err)
	if e.Kind != KindTimeout {
		t.Errorf("kind = %q, want timeout (error %q)", e.Kind, err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %q does not wrap context.DeadlineExceeded", err)
	}
	if elapsed > 2*time.Second {
		t.Errorf("Search returned after %s, want soon after the 200ms deadline", elapsed)
	}
	if !e.Retryable() || !e.Unavailable() {
		t.Errorf("Retryable, Unavailable = %v, %v; want true, true", e.Retryable(), e.Unavailable())
	}
}

func TestSearchTimeoutReadingBody(t *testing.T) {
	done := make(chan struct{})
	srv, _ := startMock(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"response": {"Attribute": [`))
		w.(http.Flusher).Flush()
		stall(done)(w, r)
	})
	t.Cleanup(func() { close(done) })
	c := newTestClient(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()

	_, err := c.Search(ctx, testIndicators)

	e := asError(t, err)
	if e.Kind != KindTimeout || e.Status != 200 {
		t.Errorf("kind, status = %q, %d; want timeout, 200 (error %q)", e.Kind, e.Status, err)
	}
	if !strings.Contains(e.Message, "reading the response") {
		t.Errorf("message = %q, want it to say the body read failed", e.Message)
	}
}

func TestSearchCanceled(t *testing.T) {
	done := make(chan struct{})
	srv, _ := startMock(t, stall(done))
	t.Cleanup(func() { close(done) })
	c := newTestClient(t, srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)

	_, err := c.Search(ctx, testIndicators)

	e := asError(t, err)
	if e.Kind != KindCanceled {
		t.Errorf("kind = %q, want canceled (error %q)", e.Kind, err)
	}
	if e.Retryable() || e.Unavailable() {
		t.Errorf("Retryable, Unavailable = %v, %v; want false, false", e.Retryable(), e.Unavailable())
	}
}

func TestSearchClosedPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	c := newTestClient(t, "http://"+addr)

	_, err = c.Search(context.Background(), testIndicators)

	e := asError(t, err)
	if e.Kind != KindConnect || e.Status != 0 {
		t.Errorf("kind, status = %q, %d; want connect, 0 (error %q)", e.Kind, e.Status, err)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("error %q does not wrap ECONNREFUSED", err)
	}
	if !strings.Contains(e.Message, "could not connect") || !strings.Contains(e.Hint, "port in misp.url") {
		t.Errorf("message, hint = %q, %q", e.Message, e.Hint)
	}
	if !e.Retryable() || !e.Unavailable() {
		t.Errorf("Retryable, Unavailable = %v, %v; want true, true", e.Retryable(), e.Unavailable())
	}
}

func TestSearchInvalidIndicator(t *testing.T) {
	srv, m := startMock(t, respond(200, jsonHeader, fixture(t, "restsearch_empty.json")))
	c := newTestClient(t, srv.URL)

	_, err := c.Search(context.Background(), []indicator.Indicator{{Kind: indicator.IP, Value: "!198.51.100.23"}})

	e := asError(t, err)
	if e.Kind != KindConfig || e.Retryable() || e.Unavailable() {
		t.Errorf("kind, Retryable, Unavailable = %q, %v, %v; want config, false, false", e.Kind, e.Retryable(), e.Unavailable())
	}
	if n := len(m.seen()); n != 0 {
		t.Errorf("server saw %d requests, want none", n)
	}
}

func TestVersion(t *testing.T) {
	srv, m := startMock(t, respond(200, jsonHeader, []byte(`{"version":"2.5.1","pymisp_recommended_version":"2.5.1","perm_sync":false,"perm_sighting":false,"perm_galaxy_editor":false,"request_encoding":["gzip","br"],"filter_sightings":true}`)))
	c := newTestClient(t, srv.URL)

	got, err := c.Version(context.Background())
	if err != nil {
		t.Fatalf("Version: %v", err)
	}
	if got != "2.5.1" {
		t.Errorf("version = %q, want 2.5.1", got)
	}

	req := m.seen()[0]
	if req.Method != http.MethodGet || req.Path != "/servers/getVersion" {
		t.Errorf("request = %s %s, want GET /servers/getVersion", req.Method, req.Path)
	}
	if req.Header.Get("Accept") != "application/json" || req.Header.Get("Authorization") != testKey {
		t.Errorf("Accept, Authorization = %q, %q", req.Header.Get("Accept"), req.Header.Get("Authorization"))
	}
	if req.Header.Get("Content-Type") != "" || len(req.Body) != 0 {
		t.Errorf("GET has Content-Type %q and body %q, want neither", req.Header.Get("Content-Type"), req.Body)
	}
}

func TestVersionFailures(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc

		wantKind Kind
	}{
		{"redirect to login", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/users/login", http.StatusFound) }, KindRedirect},
		{"auth", respond(403, jsonHeader, fixture(t, "error_403_auth_failed.json")), KindAuth},
		{"no version", respond(200, jsonHeader, []byte(`{"name":"x"}`)), KindBadResponse},
		{"not json", respond(200, nil, []byte(`version 2.5`)), KindBadResponse},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := startMock(t, tc.handler)
			c := newTestClient(t, srv.URL)

			got, err := c.Version(context.Background())

			e := asError(t, err)
			if e.Kind != tc.wantKind {
				t.Errorf("kind = %q, want %q (version %q, error %q)", e.Kind, tc.wantKind, got, err)
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name string
		opts Options

		wantErr string
	}{
		{"empty url", Options{Key: testKey}, "misp.url is empty"},
		{"scheme", Options{URL: "ftp://misp.example.org", Key: testKey}, "scheme must be https"},
		{"no scheme", Options{URL: "misp.example.org", Key: testKey}, "scheme must be https"},
		{"no host", Options{URL: "https://", Key: testKey}, "no host"},
		{"opaque", Options{URL: "https:misp.example.org", Key: testKey}, "no host"},
		{"query", Options{URL: "https://misp.example.org/?a=b", Key: testKey}, "query or fragment"},
		{"fragment", Options{URL: "https://misp.example.org/#x", Key: testKey}, "query or fragment"},
		{"bad escape", Options{URL: "https://misp.example.org/%zz", Key: testKey}, "invalid misp.url"},
		{"userinfo", Options{URL: "https://admin:hunter2@misp.example.org", Key: testKey}, "user name or password"},
		{"empty key", Options{URL: "https://misp.example.org"}, "misp.api_key is empty"},
		{"bearer key", Options{URL: "https://misp.example.org", Key: "Bearer " + testKey}, "without \"Bearer\""},
		{"key newline", Options{URL: "https://misp.example.org", Key: testKey + "\n"}, "invalid misp.api_key"},
		{"auth header", Options{URL: "https://misp.example.org", Key: testKey, AuthHeader: "X-Api-Key"}, `invalid misp.auth_header "X-Api-Key"`},
		{"missing ca file", Options{URL: "https://misp.example.org", Key: testKey, CAFile: "/nonexistent/ca.pem"}, "read misp.ca_file"},
		{"bad filters", Options{URL: "https://misp.example.org", Key: testKey, Filters: Filters{Limit: -5}}, "limit -5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.opts)
			if err == nil {
				t.Fatalf("got client %+v, want an error containing %q", c, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error = %q, want it to contain %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q contains a credential", err)
			}
		})
	}
}

func TestErrorMethods(t *testing.T) {
	tests := []struct {
		kind   Kind
		status int

		wantRetryable   bool
		wantUnavailable bool
	}{
		{KindTimeout, 0, true, true},
		{KindConnect, 0, true, true},
		{KindTLS, 0, false, false},
		{KindAuth, 403, false, false},
		{KindRateLimited, 429, true, true},
		{KindServer, 503, true, true},
		{KindServer, 501, false, true},
		{KindRedirect, 302, false, true},
		{KindBadResponse, 404, false, false},
		{KindConfig, 0, false, false},
		{KindCanceled, 0, false, false},
	}
	for _, tc := range tests {
		e := &Error{Kind: tc.kind, Status: tc.status}
		if got := e.Retryable(); got != tc.wantRetryable {
			t.Errorf("%s %d: Retryable() = %v, want %v", tc.kind, tc.status, got, tc.wantRetryable)
		}
		if got := e.Unavailable(); got != tc.wantUnavailable {
			t.Errorf("%s %d: Unavailable() = %v, want %v", tc.kind, tc.status, got, tc.wantUnavailable)
		}
	}
}

func TestErrorTextAndUnwrap(t *testing.T) {
	cause := errors.New("cause")
	e := &Error{Kind: KindServer, Message: "POST x returned HTTP 500: boom", Hint: "check the log", Err: cause}
	if got, want := e.Error(), "POST x returned HTTP 500: boom; check the log"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(e, cause) {
		t.Error("errors.Is does not reach the cause")
	}
	if got := (&Error{Message: "m"}).Error(); got != "m" {
		t.Errorf("Error() without hint = %q, want %q", got, "m")
	}
}
