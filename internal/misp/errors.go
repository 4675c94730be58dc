package misp

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"
)

// Kind sorts a failed MISP request by what the operator has to check.
type Kind string

// The kinds of failure. Their string forms appear in events and logs, so
// existing values must not change.
const (
	KindTimeout     Kind = "timeout"      // no response before the context deadline
	KindConnect     Kind = "connect"      // DNS, refused or reset connection
	KindTLS         Kind = "tls"          // certificate or handshake failure
	KindAuth        Kind = "auth"         // HTTP 401 or 403
	KindRateLimited Kind = "rate_limited" // HTTP 429
	KindServer      Kind = "server"       // HTTP 5xx
	KindRedirect    Kind = "redirect"     // HTTP 3xx: maintenance mode or a wrong base URL
	// KindBadResponse is a response that is not a restSearch result: HTML or
	// other non-JSON, the wrong JSON shape, an oversized body, or a 4xx
	// other than 401, 403 and 429.
	KindBadResponse Kind = "bad_response"
	KindConfig      Kind = "config" // the request could not be built
	// KindCanceled is a context canceled by the caller. It is no sign of
	// MISP's health.
	KindCanceled Kind = "canceled"
)

// Error is a failed MISP request. Its text never contains the API key, which
// travels only in a request header.
type Error struct {
	Kind Kind
	// Status is the HTTP status code, or 0 when no response arrived.
	Status int
	// Message describes what failed, with MISP's own error text or the
	// start of the body when there is one.
	Message string
	// Hint is the next thing for the operator to check.
	Hint string
	// RetryAfter is the wait MISP asked for with a 429, from
	// X-Rate-Limit-Reset (or Retry-After), or 0 when it gave none.
	RetryAfter time.Duration
	// Err is the underlying transport or decoding error, if any.
	Err error
}

func (e *Error) Error() string {
	if e.Hint == "" {
		return e.Message
	}
	return e.Message + "; " + e.Hint
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether the same request may succeed if sent again
// soon: timeouts, connection failures, 5xx except 501 Not Implemented, and
// 429 after RetryAfter.
func (e *Error) Retryable() bool {
	switch e.Kind {
	case KindTimeout, KindConnect, KindRateLimited:
		return true
	case KindServer:
		return e.Status != http.StatusNotImplemented
	}
	return false
}

// Unavailable reports whether the failure means MISP is not working as an
// API, so it should count against a circuit breaker: timeouts, connection
// failures, 5xx, 429 and redirects. Auth, TLS and request errors do not,
// because retrying sooner or later changes nothing for them.
func (e *Error) Unavailable() bool {
	switch e.Kind {
	case KindTimeout, KindConnect, KindServer, KindRateLimited, KindRedirect:
		return true
	}
	return false
}

// Hints shared by several cases.
const (
	hintAuth        = "check misp.api_key and that the key's user has API access and its allowed IPs include this manager"
	hintRedirect    = "MISP may be in maintenance mode, or misp.url points at a login page"
	hintServer      = "MISP failed while handling the request; check MISP's error log (app/tmp/logs/error.log) and its PHP time and memory limits"
	hintNotAPI      = "check that misp.url is MISP's base URL and not a login page or a proxy in front of it"
	hintConnect     = "check the host and port in misp.url, and any firewall or proxy between this manager and MISP"
	hintTimeout     = "MISP did not respond in time; check its load and the network path, or raise the lookup timeout"
	hintTLS         = "check that misp.ca_file holds the CA that signed MISP's certificate and that the certificate names the host in misp.url"
	hintConfig      = "fix the value named in the message"
	hintUnknownCert = "MISP's certificate is not signed by a trusted CA; set misp.ca_file to a PEM file with that CA (or with the self-signed certificate itself)"
	hintNoSAN       = "MISP's certificate has no subjectAltName and Go ignores the Common Name; reissue the certificate with a subjectAltName for the host in misp.url"
)

// maxDetail is how much of MISP's error text or body a message quotes.
const maxDetail = 200

// classify turns the outcome of one request into nil, for a 2xx response that
// may be JSON, or an *Error. err is the error of the round trip (resp is
// nil then) or of reading the body (resp is set). op names the request, as
// "POST https://misp.example.org/attributes/restSearch".
func classify(ctx context.Context, op string, resp *http.Response, body []byte, err error) *Error {
	if resp == nil {
		return classifyTransport(ctx, op, err)
	}
	if errors.Is(err, errBodyTooLarge) {
		return &Error{
			Kind:    KindBadResponse,
			Status:  resp.StatusCode,
			Message: fmt.Sprintf("%s returned HTTP %d with a body larger than %d MiB", op, resp.StatusCode, maxBodyBytes>>20),
			Hint:    "lower the search limit, or " + hintNotAPI,
			Err:     err,
		}
	}
	if err != nil {
		e := classifyTransport(ctx, op+" (reading the response)", err)
		e.Status = resp.StatusCode
		return e
	}
	return classifyStatus(op, resp, body)
}

// classifyStatus sorts a complete HTTP response by status code and body.
func classifyStatus(op string, resp *http.Response, body []byte) *Error {
	status := resp.StatusCode
	e := &Error{Status: status}
	switch {
	case status >= 200 && status <= 299:
		if len(bytes.TrimSpace(body)) == 0 {
			e.Kind = KindBadResponse
			e.Message = fmt.Sprintf("%s returned HTTP %d with an empty body", op, status)
			e.Hint = hintServer
			return e
		}
		if isHTML(resp.Header, body) {
			e.Kind = KindBadResponse
			e.Message = fmt.Sprintf("%s returned HTTP %d with HTML instead of JSON: %s", op, status, bodyDetail(body))
			e.Hint = hintNotAPI
			return e
		}
		return nil

	case status >= 300 && status <= 399:
		e.Kind = KindRedirect
		e.Message = fmt.Sprintf("%s returned HTTP %d redirecting to %s", op, status, locationPath(resp.Header.Get("Location")))
		e.Hint = hintRedirect

	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		e.Kind = KindAuth
		e.Hint = hintAuth

	case status == http.StatusTooManyRequests:
		e.Kind = KindRateLimited
		e.RetryAfter = retryAfter(resp.Header)
		e.Hint = "the MISP role's search rate limit was reached; raise the limit in the role settings or send fewer lookups"
		if e.RetryAfter > 0 {
			e.Hint = fmt.Sprintf("the MISP role's search rate limit was reached and resets in %d seconds (X-Rate-Limit-Reset); raise the limit in the role settings or send fewer lookups", int64(e.RetryAfter/time.Second))
		}

	case status >= 500 && status <= 599:
		e.Kind = KindServer
		e.Hint = hintServer

	case status == http.StatusNotFound:
		e.Kind = KindBadResponse
		e.Hint = "check that misp.url is MISP's base URL, such as https://misp.example.org, with no path like /events or /attributes"

	case status == http.StatusMethodNotAllowed:
		e.Kind = KindBadResponse
		e.Hint = "MISP rejected the request: the role may not be allowed to search (a search rate limit of 0), or a proxy altered the JSON body"

	default:
		e.Kind = KindBadResponse
		e.Hint = hintNotAPI
	}
	if e.Message == "" {
		e.Message = fmt.Sprintf("%s returned HTTP %d: %s", op, status, bodyDetail(body))
	}
	return e
}

// classifyTransport sorts an error that left no complete HTTP response.
func classifyTransport(ctx context.Context, op string, err error) *Error {
	e := &Error{Err: err}
	cause := causeText(err)

	var (
		hostErr      x509.HostnameError
		authorityErr x509.UnknownAuthorityError
		invalidErr   x509.CertificateInvalidError
		rootsErr     x509.SystemRootsError
		recordErr    tls.RecordHeaderError
		alertErr     tls.AlertError
		verifyErr    *tls.CertificateVerificationError
		dnsErr       *net.DNSError
		netErr       net.Error
		opErr        *net.OpError
	)
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled):
		e.Kind = KindCanceled
		e.Message = fmt.Sprintf("%s was canceled", op)
		return e

	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		e.Kind = KindTimeout
		e.Message = fmt.Sprintf("%s timed out: %s", op, cause)
		e.Hint = hintTimeout
		return e

	case errors.As(err, &hostErr):
		e.Kind = KindTLS
		e.Hint = hintTLS
		if hostErr.Certificate != nil && !hasSAN(hostErr.Certificate) {
			e.Hint = hintNoSAN
		}

	case errors.As(err, &authorityErr):
		e.Kind = KindTLS
		e.Hint = hintUnknownCert

	case errors.As(err, &invalidErr):
		e.Kind = KindTLS
		e.Hint = "MISP's certificate is invalid here (expired, not yet valid, or not for server use); check its dates and this host's clock, or reissue it"

	case errors.As(err, &rootsErr):
		e.Kind = KindTLS
		e.Hint = "this host has no system CA certificates; set misp.ca_file to the CA that signed MISP's certificate"

	case errors.As(err, &recordErr) || errors.Is(err, http.ErrSchemeMismatch):
		e.Kind = KindTLS
		e.Hint = "the server did not respond with TLS; check the scheme (http or https) and the port in misp.url"

	case errors.As(err, &alertErr):
		e.Kind = KindTLS
		e.Hint = "the server refused the TLS handshake; check that it accepts TLS 1.2 or later and whether it requires a client certificate"

	case errors.As(err, &verifyErr):
		e.Kind = KindTLS
		e.Hint = hintTLS

	case errors.As(err, &netErr) && netErr.Timeout():
		e.Kind = KindTimeout
		e.Message = fmt.Sprintf("%s timed out: %s", op, cause)
		e.Hint = hintTimeout
		return e

	case errors.As(err, &dnsErr):
		e.Kind = KindConnect
		e.Hint = "the host in misp.url did not resolve; check its spelling and this manager's DNS"

	case errors.Is(err, syscall.ECONNREFUSED):
		e.Kind = KindConnect
		e.Hint = "nothing accepted the connection; check the port in misp.url and that MISP's web server is running"

	case errors.As(err, &opErr) && opErr.Op == "dial":
		e.Kind = KindConnect
		e.Hint = hintConnect

	default:
		// Resets, unexpected EOFs and other I/O failures mid-request.
		e.Kind = KindConnect
		e.Hint = hintConnect
		e.Message = fmt.Sprintf("%s failed: %s", op, cause)
		return e
	}

	if e.Kind == KindTLS {
		e.Message = fmt.Sprintf("%s failed the TLS handshake: %s", op, cause)
	} else {
		e.Message = fmt.Sprintf("%s could not connect: %s", op, cause)
	}
	return e
}

// causeText returns the text of err without the *url.Error wrapper, which
// repeats the method and URL that op already names.
func causeText(err error) string {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}
	if err == nil {
		return "unknown error"
	}
	return sanitize(err.Error(), 300)
}

// hasSAN reports whether the certificate names any subject alternative name.
func hasSAN(cert *x509.Certificate) bool {
	return len(cert.DNSNames) > 0 || len(cert.IPAddresses) > 0 || len(cert.URIs) > 0 || len(cert.EmailAddresses) > 0
}

// isHTML reports whether a response is HTML by its Content-Type or its first
// byte, since a login page behind a proxy may not label itself.
func isHTML(header http.Header, body []byte) bool {
	if mediaType, _, err := mime.ParseMediaType(header.Get("Content-Type")); err == nil {
		if mediaType == "text/html" || mediaType == "application/xhtml+xml" {
			return true
		}
	}
	trimmed := bytes.TrimSpace(body)
	return len(trimmed) > 0 && trimmed[0] == '<'
}

// bodyDetail returns MISP's error text from a JSON error body
// ({"name":..., "message":..., "url":...}), or else the start of the body.
func bodyDetail(body []byte) string {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return "empty body"
	}
	if trimmed[0] == '{' {
		var apiErr struct {
			Name    flexString `json:"name"`
			Message flexString `json:"message"`
		}
		if json.Unmarshal(trimmed, &apiErr) == nil {
			text := strings.TrimSpace(string(apiErr.Message))
			if text == "" {
				text = strings.TrimSpace(string(apiErr.Name))
			}
			if text != "" {
				return sanitize(text, maxDetail)
			}
		}
	}
	return sanitize(string(trimmed), maxDetail)
}

// locationPath returns the path of a Location header, or a note that it is
// missing. The host and query are left out because the path alone shows
// whether it is a login page or a moved base URL.
func locationPath(location string) string {
	if location == "" {
		return "no Location header"
	}
	u, err := url.Parse(location)
	if err != nil || u.Path == "" {
		return "an unparsable Location"
	}
	return sanitize(u.Path, maxDetail)
}

// retryAfter reads the wait of a 429: MISP sends X-Rate-Limit-Reset in
// seconds, and a proxy may send the standard Retry-After in seconds.
func retryAfter(header http.Header) time.Duration {
	for _, name := range []string{"X-Rate-Limit-Reset", "Retry-After"} {
		seconds, err := strconv.ParseInt(strings.TrimSpace(header.Get(name)), 10, 64)
		if err == nil && seconds > 0 && seconds < 1<<31 {
			return time.Duration(seconds) * time.Second
		}
	}
	return 0
}

// sanitize cuts s to at most n bytes on a rune boundary and replaces
// control and format characters (newlines, escapes, bidirectional
// overrides) and invalid UTF-8 with spaces, collapsing runs of white space.
// A body quoted in a message then cannot forge log lines or hide text.
func sanitize(s string, n int) string {
	s = truncate(s, n)
	var b strings.Builder
	space := false
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.IsSpace(r) {
			if !space {
				b.WriteByte(' ')
				space = true
			}
			continue
		}
		b.WriteRune(r)
		space = false
	}
	return strings.TrimSpace(b.String())
}

// truncate cuts s to at most n bytes without splitting a rune.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
