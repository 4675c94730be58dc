package standin

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

//go:embed misp_seed.json
var mispSeed []byte

// MISPMode selects how the MISP stand-in responds to restSearch.
type MISPMode int

// The modes a test or benchmark can switch the stand-in to.
const (
	MISPNormal   MISPMode = iota // search the seeded attributes
	MISPError500                 // 500 with MISP's JSON error body
	MISPStall                    // hold the request until the client gives up
	MISPAuth403                  // 403 authentication failure
	MISPHTMLPage                 // 200 with an HTML login page
	MISPRedirect                 // 302 to /users/login, as in maintenance mode
	mispFixed                    // the response given to SetResponse
)

type fixedResponse struct {
	status      int
	contentType string
	body        []byte
}

// MISP is a restSearch server on 127.0.0.1. It matches each requested value
// against either half of the seeded attributes' values, limited to the
// requested types, the way MISP does for exact (non-wildcard) searches.
type MISP struct {
	Key string

	server     *httptest.Server
	attributes []map[string]any

	mu       sync.Mutex
	mode     MISPMode
	fixed    fixedResponse
	requests []MISPRequest
	stall    chan struct{}
}

// MISPRequest is one restSearch request as the stand-in received it.
type MISPRequest struct {
	Header http.Header
	Body   []byte
	Time   time.Time
}

// NewMISP starts a stand-in seeded with the bundled demo attributes, which
// match some of the bundled sample alerts. Requests must send key.
func NewMISP(key string) (*MISP, error) {
	return NewMISPFrom(key, mispSeed)
}

// NewMISPFrom starts a stand-in seeded with the attributes of restSearch
// response bodies, such as MISP's own sample responses.
func NewMISPFrom(key string, responses ...[]byte) (*MISP, error) {
	m := &MISP{Key: key, stall: make(chan struct{})}
	for i, body := range responses {
		var response struct {
			Response struct {
				Attribute []map[string]any `json:"Attribute"`
			} `json:"response"`
		}
		if err := json.Unmarshal(body, &response); err != nil {
			return nil, fmt.Errorf("decode MISP seed %d: %w", i, err)
		}
		m.attributes = append(m.attributes, response.Response.Attribute...)
	}
	m.server = httptest.NewServer(http.HandlerFunc(m.serve))
	return m, nil
}

// SetResponse makes every later restSearch return exactly this status,
// content type and body, whatever was asked. SetMode(MISPNormal) undoes it.
func (m *MISP) SetResponse(status int, contentType string, body []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mode = mispFixed
	m.fixed = fixedResponse{status: status, contentType: contentType, body: body}
}

// URL returns the base URL to put in misp.url.
func (m *MISP) URL() string { return m.server.URL }

// SetMode changes the responses to later requests.
func (m *MISP) SetMode(mode MISPMode) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mode = mode
	m.fixed = fixedResponse{}
}

// Requests returns a copy of the restSearch requests received so far.
func (m *MISP) Requests() []MISPRequest {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]MISPRequest(nil), m.requests...)
}

// Close releases stalled requests and stops the server.
func (m *MISP) Close() {
	close(m.stall)
	m.server.Close()
}

func (m *MISP) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))

	m.mu.Lock()
	mode := m.mode
	fixed := m.fixed
	if r.URL.Path == "/attributes/restSearch" {
		m.requests = append(m.requests, MISPRequest{Header: r.Header.Clone(), Body: body, Time: time.Now()})
	}
	m.mu.Unlock()

	switch {
	case r.URL.Path == "/servers/getVersion" && r.Method == http.MethodGet:
		if !m.authorized(r) {
			writeMISPError(w, http.StatusForbidden, "Authentication failed. Please make sure you pass the API key of an API enabled user along in the Authorization header.")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"version":"2.5.1","pymisp_recommended_version":"2.5.1","perm_sync":false,"perm_sighting":false,"perm_galaxy_editor":false,"request_encoding":["gzip","br"],"filter_sightings":true}`)
		return
	case r.URL.Path != "/attributes/restSearch" || r.Method != http.MethodPost:
		writeMISPError(w, http.StatusNotFound, "Not Found")
		return
	}

	switch mode {
	case mispFixed:
		w.Header().Set("Content-Type", fixed.contentType)
		w.WriteHeader(fixed.status)
		w.Write(fixed.body)
		return
	case MISPError500:
		writeMISPError(w, http.StatusInternalServerError, "An Internal Error Has Occurred.")
		return
	case MISPStall:
		select {
		case <-r.Context().Done():
		case <-m.stall:
		}
		return
	case MISPAuth403:
		writeMISPError(w, http.StatusForbidden, "Authentication failed. Please make sure you pass the API key of an API enabled user along in the Authorization header.")
		return
	case MISPHTMLPage:
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		io.WriteString(w, "<!DOCTYPE html><html><head><title>Users - MISP</title></head><body><form action=\"/users/login\"></form></body></html>")
		return
	case MISPRedirect:
		http.Redirect(w, r, "/users/login", http.StatusFound)
		return
	}

	if !m.authorized(r) {
		writeMISPError(w, http.StatusForbidden, "Authentication failed. Please make sure you pass the API key of an API enabled user along in the Authorization header.")
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		writeMISPError(w, http.StatusBadRequest, "the stand-in requires Content-Type: application/json, as MISP does to read the body")
		return
	}
	var query struct {
		Value []string `json:"value"`
		Type  []string `json:"type"`
	}
	if err := json.Unmarshal(body, &query); err != nil || len(query.Value) == 0 {
		writeMISPError(w, http.StatusMethodNotAllowed, "Invalid JSON input. Make sure that the JSON input is a correctly formatted JSON string. This request has been blocked to avoid an unfiltered request.")
		return
	}

	matches := m.search(query.Value, query.Type)
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	json.NewEncoder(w).Encode(map[string]any{"response": map[string]any{"Attribute": matches}})
}

func (m *MISP) authorized(r *http.Request) bool {
	key := r.Header.Get("X-MISP-AUTH")
	if key == "" {
		key = r.Header.Get("Authorization")
	}
	return key == m.Key
}

func (m *MISP) search(values, types []string) []map[string]any {
	wanted := make(map[string]bool, len(values))
	for _, v := range values {
		wanted[strings.ToLower(v)] = true
	}
	allowed := make(map[string]bool, len(types))
	for _, t := range types {
		allowed[t] = true
	}

	matches := []map[string]any{}
	for _, attribute := range m.attributes {
		typ, _ := attribute["type"].(string)
		value, _ := attribute["value"].(string)
		if len(allowed) > 0 && !allowed[typ] {
			continue
		}
		first, second, _ := strings.Cut(value, "|")
		if wanted[strings.ToLower(first)] || (second != "" && wanted[strings.ToLower(second)]) {
			matches = append(matches, attribute)
		}
	}
	return matches
}

func writeMISPError(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"name": message, "message": message, "url": "/attributes/restSearch"})
}
