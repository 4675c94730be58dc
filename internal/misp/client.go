package misp

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/indicator"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/secret"
)

const (
	searchPath  = "/attributes/restSearch"
	versionPath = "/servers/getVersion"

	// maxBodyBytes caps a response body. By estimate a page of 50
	// attributes with tags stays under 1 MiB, so the cap stops only runaway
	// or wrong responses.
	maxBodyBytes = 8 << 20

	// DefaultUserAgent is sent when Options.UserAgent is empty.
	DefaultUserAgent = "wazuh-misp-telegram"
)

// The header names MISP reads the API key from. X-MISP-AUTH wins when both
// are present, and helps where a proxy or php-fpm drops Authorization.
const (
	HeaderAuthorization = "Authorization"
	HeaderMISPAuth      = "X-MISP-AUTH"
)

var errBodyTooLarge = errors.New("response body too large")

// Options configure a Client.
type Options struct {
	// URL is MISP's base URL, such as https://misp.example.org, optionally
	// with a path prefix. A trailing slash is ignored.
	URL string
	// Key is the API key, sent raw (no "Bearer") in AuthHeader.
	Key secret.String
	// AuthHeader is HeaderAuthorization (the default when empty) or
	// HeaderMISPAuth.
	AuthHeader string
	// CAFile is a PEM bundle used as the only trusted roots. When empty the
	// system roots are used.
	CAFile string
	// InsecureSkipVerify turns off certificate verification. The caller
	// decides and logs it.
	InsecureSkipVerify bool
	// UserAgent is sent with every request; DefaultUserAgent when empty.
	UserAgent string
	// Filters apply to every Search.
	Filters Filters
	// Log, when set, gets one Debug line per response with its status,
	// size and duration. Neither the key nor the body is logged.
	Log *slog.Logger
}

// Client sends searches to one MISP instance. It holds no per-request state
// and is safe for concurrent use.
type Client struct {
	baseURL    string // scheme://host[:port][/prefix], no trailing slash
	key        secret.String
	authHeader string
	userAgent  string
	filters    Filters
	http       *http.Client
	log        *slog.Logger
}

// New checks opts and returns a Client. The HTTP client never follows
// redirects (a 3xx is reported as KindRedirect), requires TLS 1.2 or later,
// and has no overall timeout: every call takes its deadline from ctx.
func New(opts Options) (*Client, error) {
	baseURL, err := parseBaseURL(opts.URL)
	if err != nil {
		return nil, err
	}
	if err := checkKey(opts.Key); err != nil {
		return nil, err
	}
	authHeader, err := canonicalAuthHeader(opts.AuthHeader)
	if err != nil {
		return nil, err
	}
	if err := opts.Filters.validate(); err != nil {
		return nil, err
	}

	tlsConfig := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: opts.InsecureSkipVerify, //nolint:gosec // an explicit, logged operator choice
	}
	if opts.CAFile != "" {
		pool, err := loadCAFile(opts.CAFile)
		if err != nil {
			return nil, err
		}
		tlsConfig.RootCAs = pool
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = tlsConfig

	userAgent := opts.UserAgent
	if userAgent == "" {
		userAgent = DefaultUserAgent
	}
	return &Client{
		baseURL:    baseURL,
		key:        opts.Key,
		authHeader: authHeader,
		userAgent:  userAgent,
		filters:    opts.Filters,
		log:        opts.Log,
		http: &http.Client{
			Transport: transport,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}, nil
}

// Search looks up the values of inds with one POST to
// /attributes/restSearch and returns the attributes MISP sent, in its
// order. Pair them with indicators with Match. Every error is an *Error.
func (c *Client) Search(ctx context.Context, inds []indicator.Indicator) ([]Attribute, error) {
	body, err := BuildSearchRequest(inds, c.filters)
	if err != nil {
		return nil, &Error{
			Kind:    KindConfig,
			Message: "build restSearch request: " + err.Error(),
			Hint:    hintConfig,
			Err:     err,
		}
	}

	op := http.MethodPost + " " + c.baseURL + searchPath
	data, status, err := c.do(ctx, http.MethodPost, searchPath, body)
	if err != nil {
		return nil, err
	}

	attrs, err := DecodeSearchResponse(data)
	if err != nil {
		return nil, &Error{
			Kind:    KindBadResponse,
			Status:  status,
			Message: fmt.Sprintf("%s returned HTTP %d with an unexpected body: %v", op, status, err),
			Hint:    hintNotAPI,
			Err:     err,
		}
	}
	return attrs, nil
}

// Version returns the MISP version from GET /servers/getVersion. Set-up
// checks call it to test the URL, TLS and key. Every error is an *Error.
func (c *Client) Version(ctx context.Context) (string, error) {
	op := http.MethodGet + " " + c.baseURL + versionPath
	data, status, err := c.do(ctx, http.MethodGet, versionPath, nil)
	if err != nil {
		return "", err
	}

	var version struct {
		Version flexString `json:"version"`
	}
	err = json.Unmarshal(data, &version)
	if err == nil && version.Version == "" {
		err = errors.New(`no "version" key`)
	}
	if err != nil {
		return "", &Error{
			Kind:    KindBadResponse,
			Status:  status,
			Message: fmt.Sprintf("%s returned HTTP %d with an unexpected body: %v", op, status, err),
			Hint:    hintNotAPI,
			Err:     err,
		}
	}
	return sanitize(string(version.Version), 64), nil
}

// do sends one request and returns the body of a 2xx response that is not
// HTML, with its status. Any other outcome is an *Error from classify.
func (c *Client) do(ctx context.Context, method, path string, body []byte) ([]byte, int, error) {
	op := method + " " + c.baseURL + path
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL+path, reader)
	if err != nil {
		return nil, 0, &Error{Kind: KindConfig, Message: fmt.Sprintf("build %s: %v", op, err), Hint: hintConfig, Err: err}
	}
	req.Header.Set(c.authHeader, c.key.Reveal())
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", c.userAgent)

	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, c.redact(classify(ctx, op, nil, nil, err))
	}
	defer resp.Body.Close()

	data, err := readBody(resp.Body)
	if c.log != nil {
		c.log.Debug("MISP response", "method", method, "path", path, "http_status", resp.StatusCode,
			"bytes", len(data), "content_type", resp.Header.Get("Content-Type"), "duration_ms", time.Since(start).Milliseconds())
	}
	if e := classify(ctx, op, resp, data, err); e != nil {
		return nil, resp.StatusCode, c.redact(e)
	}
	return data, resp.StatusCode, nil
}

// redact replaces the API key in e's text. A misconfigured proxy or server
// may echo request headers in an error body, and error messages quote
// bodies, which reach the log and the misp.error event.
func (c *Client) redact(e *Error) *Error {
	key := c.key.Reveal()
	if key == "" {
		return e
	}
	e.Message = strings.ReplaceAll(e.Message, key, secret.Placeholder)
	e.Hint = strings.ReplaceAll(e.Hint, key, secret.Placeholder)
	return e
}

// readBody reads at most maxBodyBytes and returns errBodyTooLarge beyond.
func readBody(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxBodyBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxBodyBytes {
		return nil, errBodyTooLarge
	}
	return data, nil
}

// parseBaseURL checks misp.url and returns it without a trailing slash.
// Messages quote the URL without its user part and query, which may hold a
// password or a token.
func parseBaseURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", errors.New("misp.url is empty: set it to MISP's base URL, for example https://misp.example.org")
	}
	u, err := url.Parse(raw)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return "", fmt.Errorf("invalid misp.url: %v; use MISP's base URL, for example https://misp.example.org", err)
	}
	if u.User != nil {
		return "", errors.New("invalid misp.url: it contains a user name or password; remove them and put the API key in misp.api_key")
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", errors.New("invalid misp.url: it contains a query or fragment; remove it and use MISP's base URL, for example https://misp.example.org")
	}
	// The value is not quoted below either: without a scheme, a token
	// pasted into <hook_url> (the fallback for misp.url) would be shown.
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", errors.New("invalid misp.url: the scheme must be https (or http), for example https://misp.example.org")
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return "", errors.New("invalid misp.url: no host; use MISP's base URL, for example https://misp.example.org")
	}
	return u.Scheme + "://" + u.Host + strings.TrimRight(u.EscapedPath(), "/"), nil
}

// checkKey rejects keys that cannot be sent or cannot be valid. MISP keys
// are 40 letters and digits, sent raw.
func checkKey(key secret.String) error {
	if !key.IsSet() {
		return errors.New("misp.api_key is empty: set it to the API key of a MISP user with API access")
	}
	for _, r := range key.Reveal() {
		if r <= ' ' || r > '~' {
			return errors.New("invalid misp.api_key: it contains white space, control or non-ASCII characters; give the 40-character key alone, without \"Bearer\" or quotes")
		}
	}
	return nil
}

// canonicalAuthHeader maps misp.auth_header to the header name to send.
func canonicalAuthHeader(name string) (string, error) {
	switch {
	case name == "" || strings.EqualFold(name, HeaderAuthorization):
		return HeaderAuthorization, nil
	case strings.EqualFold(name, HeaderMISPAuth):
		return HeaderMISPAuth, nil
	}
	return "", fmt.Errorf("invalid misp.auth_header %q: use %q or %q", name, HeaderAuthorization, HeaderMISPAuth)
}

// maxCAFileSize bounds misp.ca_file, far above a bundle of every public CA
// (Debian's ca-certificates.crt is about 220 kB in 2026).
const maxCAFileSize = 4 << 20

// loadCAFile reads a PEM bundle into a new pool.
func loadCAFile(path string) (*x509.CertPool, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read misp.ca_file: %w; check the path and that this user may read it", err)
	}
	if !info.Mode().IsRegular() || info.Size() > maxCAFileSize {
		return nil, fmt.Errorf("misp.ca_file %q is not a regular file of at most %d bytes: give the PEM file of the CA", path, maxCAFileSize)
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read misp.ca_file: %w; check the path and that this user may read it", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("misp.ca_file %q contains no PEM certificate: give a file with one or more \"-----BEGIN CERTIFICATE-----\" blocks", path)
	}
	return pool, nil
}
