package misp

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startTLSMock starts an HTTPS mock serving the empty restSearch response,
// with cert when given, else httptest's certificate for 127.0.0.1.
func startTLSMock(t *testing.T, cert *tls.Certificate) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(respond(200, jsonHeader, fixture(t, "restsearch_empty.json")))
	// Failed handshakes are the point of these tests; keep them off stderr.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if cert != nil {
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{*cert}}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// writePEM writes certificates to a file in a temporary directory.
func writePEM(t *testing.T, certs ...*x509.Certificate) string {
	t.Helper()
	var data []byte
	for _, c := range certs {
		data = append(data, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// commonNameOnlyCert returns a self-signed certificate for 127.0.0.1 that
// names the host only in its Common Name, as MISP's install scripts make.
func commonNameOnlyCert(t *testing.T) (tls.Certificate, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "127.0.0.1", Organization: []string{"MISP"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, parsed
}

func TestTLSUntrusted(t *testing.T) {
	srv := startTLSMock(t, nil)
	c := newTestClient(t, srv.URL)

	_, err := c.Search(context.Background(), testIndicators)

	e := asError(t, err)
	if e.Kind != KindTLS {
		t.Fatalf("kind = %q, want tls (error %q)", e.Kind, err)
	}
	var authorityErr x509.UnknownAuthorityError
	if !errors.As(err, &authorityErr) {
		t.Errorf("error %q does not wrap x509.UnknownAuthorityError", err)
	}
	if e.Hint != hintUnknownCert {
		t.Errorf("hint = %q, want %q", e.Hint, hintUnknownCert)
	}
	if e.Retryable() || e.Unavailable() {
		t.Errorf("Retryable, Unavailable = %v, %v; want false, false", e.Retryable(), e.Unavailable())
	}
}

func TestTLSTrustedByCAFile(t *testing.T) {
	srv := startTLSMock(t, nil)
	caFile := writePEM(t, srv.Certificate())
	c := newTestClient(t, srv.URL, func(o *Options) { o.CAFile = caFile })

	if _, err := c.Search(context.Background(), testIndicators); err != nil {
		t.Fatalf("Search with misp.ca_file trusting the server: %v", err)
	}
}

func TestTLSInsecureSkipVerify(t *testing.T) {
	srv := startTLSMock(t, nil)
	c := newTestClient(t, srv.URL, func(o *Options) { o.InsecureSkipVerify = true })

	if _, err := c.Search(context.Background(), testIndicators); err != nil {
		t.Fatalf("Search with InsecureSkipVerify: %v", err)
	}
}

func TestTLSCommonNameOnly(t *testing.T) {
	cert, parsed := commonNameOnlyCert(t)
	srv := startTLSMock(t, &cert)
	caFile := writePEM(t, parsed)
	c := newTestClient(t, srv.URL, func(o *Options) { o.CAFile = caFile })

	_, err := c.Search(context.Background(), testIndicators)

	e := asError(t, err)
	if e.Kind != KindTLS {
		t.Fatalf("kind = %q, want tls (error %q)", e.Kind, err)
	}
	if e.Hint != hintNoSAN {
		t.Errorf("hint = %q, want %q", e.Hint, hintNoSAN)
	}
	if !strings.Contains(e.Hint, "reissue the certificate with a subjectAltName") {
		t.Errorf("hint = %q, want it to say how to fix the certificate", e.Hint)
	}
	var hostErr x509.HostnameError
	if !errors.As(err, &hostErr) {
		t.Errorf("error %q does not wrap x509.HostnameError", err)
	}
}

func TestTLSToPlainHTTP(t *testing.T) {
	srv, _ := startMock(t, respond(200, jsonHeader, fixture(t, "restsearch_empty.json")))
	c := newTestClient(t, strings.Replace(srv.URL, "http://", "https://", 1))

	_, err := c.Search(context.Background(), testIndicators)

	e := asError(t, err)
	if e.Kind != KindTLS || !strings.Contains(e.Hint, "scheme") {
		t.Errorf("kind, hint = %q, %q; want tls and a hint about the scheme (error %q)", e.Kind, e.Hint, err)
	}
}

func TestNewCAFileWithoutPEM(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	_, err := New(Options{URL: "https://misp.example.org", Key: testKey, CAFile: path})

	if err == nil || !strings.Contains(err.Error(), "contains no PEM certificate") {
		t.Errorf("error = %v, want one saying the file has no PEM certificate", err)
	}
}

func TestNewTLSConfig(t *testing.T) {
	c := newTestClient(t, "https://misp.example.org")
	transport, ok := c.http.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("transport is %T, want *http.Transport", c.http.Transport)
	}
	if got := transport.TLSClientConfig.MinVersion; got != tls.VersionTLS12 {
		t.Errorf("MinVersion = %x, want TLS 1.2", got)
	}
	if transport.TLSClientConfig.InsecureSkipVerify {
		t.Error("InsecureSkipVerify is on without being asked for")
	}
	if c.http.Timeout != 0 {
		t.Errorf("client Timeout = %s, want none (deadlines come from ctx)", c.http.Timeout)
	}
}

func TestClassifyTransport(t *testing.T) {
	tests := []struct {
		name string
		err  error

		wantKind Kind
		wantHint string
	}{
		{"dns", &net.DNSError{Err: "no such host", Name: "misp.example.org", IsNotFound: true}, KindConnect, "did not resolve"},
		{"dns timeout", &net.DNSError{Err: "i/o timeout", Name: "misp.example.org", IsTimeout: true}, KindTimeout, "did not respond in time"},
		{"dial", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("network is unreachable")}, KindConnect, "firewall"},
		{"reset mid-body", errors.New("read: connection reset by peer"), KindConnect, "firewall"},
		{"record header", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, KindTLS, "scheme"},
		{"alert", &net.OpError{Op: "remote error", Err: tls.AlertError(40)}, KindTLS, "client certificate"},
		{"no system roots", x509.SystemRootsError{}, KindTLS, "misp.ca_file"},
		{"expired", x509.CertificateInvalidError{Reason: x509.Expired}, KindTLS, "clock"},
		{"verification", &tls.CertificateVerificationError{Err: errors.New("x509: other")}, KindTLS, "misp.ca_file"},
		{"hostname with san", x509.HostnameError{Certificate: &x509.Certificate{DNSNames: []string{"other.example"}}, Host: "misp.example.org"}, KindTLS, "names the host"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := classifyTransport(context.Background(), "POST https://misp.example.org/attributes/restSearch", tc.err)
			if e.Kind != tc.wantKind {
				t.Errorf("kind = %q, want %q", e.Kind, tc.wantKind)
			}
			if !strings.Contains(e.Hint, tc.wantHint) {
				t.Errorf("hint = %q, want it to contain %q", e.Hint, tc.wantHint)
			}
			if !errors.Is(e, tc.err) {
				t.Error("error does not wrap the cause")
			}
		})
	}
}
