package misp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/indicator"
)

// TestErrorsNeverContainKey covers servers and proxies that echo request
// headers in their error pages: the key must not reach the message.
func TestErrorsNeverContainKey(t *testing.T) {
	const key = "EchoKey0123456789abcdefghijklmnopqrstuvw"
	for _, status := range []int{http.StatusBadRequest, http.StatusForbidden, http.StatusBadGateway, http.StatusOK} {
		server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(status)
			w.Write([]byte("request headers: Authorization: " + r.Header.Get("Authorization")))
		}))
		client, err := New(Options{URL: server.URL, Key: key})
		if err != nil {
			t.Fatal(err)
		}

		_, err = client.Search(context.Background(), []indicator.Indicator{{Kind: indicator.IP, Value: "89.160.20.129"}})

		server.Close()
		if err == nil {
			t.Fatalf("status %d: Search succeeded on an error page", status)
		}
		if strings.Contains(err.Error(), key) {
			t.Errorf("status %d: the error contains the key: %v", status, err)
		}
		if status != http.StatusOK && !strings.Contains(err.Error(), "[REDACTED]") {
			t.Errorf("status %d: the error does not show where the key was: %v", status, err)
		}
	}
}

func TestBaseURLErrorsHideSecrets(t *testing.T) {
	for _, raw := range []string{
		"https://user:s3cretpw@misp.example.org",
		"https://misp.example.org/?token=s3cretpw",
		"ftp://misp.example.org/?token=s3cretpw",
		"s3cretpw",                       // a token given as <hook_url>
		"misp.example.org/s3cretpw",      // no scheme, token in the path
		"https://user:s3cretpw@/no-host", // no host, with a password
	} {
		_, err := New(Options{URL: raw, Key: "0123456789abcdef0123456789abcdef01234567"})

		if err == nil {
			t.Errorf("New(%q) succeeded", raw)
			continue
		}
		if strings.Contains(err.Error(), "s3cretpw") {
			t.Errorf("error quotes the secret: %v", err)
		}
	}
}
