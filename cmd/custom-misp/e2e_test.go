package main

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/standin"
)

// alertCase is one alert file with the name of its golden file.
type alertCase struct {
	name string
	data []byte
}

// fixtureAlerts returns every alert sample: the shared fixtures (wrapped
// into full alerts where they hold only the data object) and the derived
// alerts in testdata/alerts, whose indicators the MISP samples contain.
func fixtureAlerts(t *testing.T) []alertCase {
	t.Helper()
	var cases []alertCase
	dir := filepath.Join(sharedFixtures(t), "alerts")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, entry := range entries {
		name := entry.Name()
		if !strings.HasSuffix(name, ".json") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		base := strings.TrimSuffix(name, ".json")
		if strings.HasSuffix(base, "_data") {
			data = wrapEventData(t, data, "1764842400."+strings.Repeat("0", 3)+string(rune('a'+i)))
		}
		cases = append(cases, alertCase{name: "fixture_" + base, data: oneLine(t, data)})
	}

	derived, err := filepath.Glob(filepath.Join("testdata", "alerts", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range derived {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, alertCase{name: "derived_" + strings.TrimSuffix(filepath.Base(path), ".json"), data: data})
	}
	if len(cases) < 15 {
		t.Fatalf("found %d alert samples, want the shared fixtures and the derived alerts", len(cases))
	}
	return cases
}

// TestAlertsAgainstMISPSamples runs every alert sample through the binary
// with every integratord argv layout, against a MISP that answers from the
// real restSearch samples, and compares the datagrams with golden files.
// Every layout must produce the same datagrams.
func TestAlertsAgainstMISPSamples(t *testing.T) {
	misp, err := standin.NewMISPFrom(testKey, mispFixtures(t)...)
	if err != nil {
		t.Fatal(err)
	}
	defer misp.Close()

	for _, tc := range fixtureAlerts(t) {
		t.Run(tc.name, func(t *testing.T) {
			var first [][]byte
			for i, layout := range layouts {
				// A fresh home per layout, so that no run is answered from
				// the cache of an earlier one.
				h := newHome(t, misp.URL(), "")
				alertPath := h.writeAlert(tc.data)
				options := strings.TrimSuffix(alertPath, ".alert") + ".options"
				if err := os.WriteFile(options, []byte(`{"note":"options are accepted and ignored"}`+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}

				r := h.run(layout.argv(alertPath, options))

				if r.code != 0 {
					t.Fatalf("layout %s: exit %d, stderr: %s", layout.name, r.code, r.stderr)
				}
				if r.stderr != "" || r.stdout != "" {
					t.Errorf("layout %s: output on stdout/stderr: %q %q", layout.name, r.stdout, r.stderr)
				}
				assertNoSecret(t, r.stdout, r.stderr, h.log())
				if strings.Contains(h.log(), "level=ERROR") {
					t.Errorf("layout %s: error lines in integrations.log:\n%s", layout.name, h.log())
				}
				if i == 0 {
					first = r.messages
					checkGolden(t, tc.name, r.messages)
					continue
				}
				if !equalMessages(first, r.messages) {
					t.Errorf("layout %s sent other datagrams than layout %s:\n%s\nvs\n%s", layout.name, layouts[0].name, join(r.messages), join(first))
				}
			}
		})
	}
}

// TestEventsAreValidJSON checks the datagram framing of the match samples:
// header, one JSON object that Wazuh's json decoder accepts, size limit.
func TestEventsAreValidJSON(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "golden", "*.golden"))
	if err != nil {
		t.Fatal(err)
	}
	matches := 0
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			location, payload, err := standin.SplitMessage(line)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if !strings.HasSuffix(location, "misp") {
				t.Errorf("%s: location %q does not end in the integration name", path, location)
			}
			if len(line) > 65535 {
				t.Errorf("%s: datagram of %d bytes exceeds 65535", path, len(line))
			}
			if !bytes.HasPrefix(payload, []byte(`{"integration":"misp"`)) {
				t.Errorf("%s: payload does not start as Wazuh's json decoder expects: %.40s", path, payload)
			}
			var event struct {
				MISP map[string]any `json:"misp"`
			}
			if err := json.Unmarshal(payload, &event); err != nil {
				t.Errorf("%s: payload is not JSON: %v", path, err)
			}
			if _, ok := event.MISP["event_id"]; ok {
				matches++
			}
		}
	}
	if matches < 6 {
		t.Errorf("golden files hold %d match events, want the derived alerts' matches", matches)
	}
}

func TestLegacyAlertFormat(t *testing.T) {
	h := newHome(t, "http://127.0.0.1:9", "")
	data, err := os.ReadFile(filepath.Join("testdata", "alerts", "legacy_format.alert"))
	if err != nil {
		t.Fatal(err)
	}

	r := h.run([]string{h.writeAlert(data), "", "", "", "", "10", "3", "> /dev/null 2>&1"})

	if r.code != 4 {
		t.Errorf("exit = %d, want 4", r.code)
	}
	if !strings.Contains(r.stderr, "<alert_format>json</alert_format>") {
		t.Errorf("stderr does not name the fix: %q", r.stderr)
	}
	if !strings.Contains(h.log(), "alert_format") {
		t.Errorf("integrations.log does not name the fix:\n%s", h.log())
	}
	if len(r.messages) != 0 {
		t.Errorf("sent %d datagrams, want none", len(r.messages))
	}
}

func TestNothingToLookUpIsQuiet(t *testing.T) {
	misp := startMISP(t)
	h := newHome(t, misp.URL(), "")
	data, err := os.ReadFile(filepath.Join(sharedFixtures(t), "alerts", "integration_output_virustotal_malicious_agent010_alert.json"))
	if err != nil {
		t.Fatal(err)
	}

	r := h.run([]string{h.writeAlert(oneLine(t, data)), "", "", "", "", "10", "3", "> /dev/null 2>&1"})

	if r.code != 0 {
		t.Errorf("exit = %d, want 0", r.code)
	}
	if h.log() != "" || r.stderr != "" {
		t.Errorf("want no output at all, got log %q stderr %q", h.log(), r.stderr)
	}
	if n := len(misp.Requests()); n != 0 {
		t.Errorf("MISP got %d requests, want none", n)
	}
}

func TestAPIKeyFallbackFromArgv(t *testing.T) {
	misp := startMISP(t)
	h := newHome(t, misp.URL(), "")
	// Rewrite the config without a key, so the argv api_key is used.
	config := "[misp]\nurl = \"" + misp.URL() + "\"\n"
	if err := os.WriteFile(filepath.Join(h.dir, "etc", "misp-telegram.toml"), []byte(config), 0o640); err != nil {
		t.Fatal(err)
	}
	alert := readSample(t, "win_sysmon3_public_ip")

	r := h.run([]string{h.writeAlert(alert), testKey, "", "debug", "", "10", "3"})

	if r.code != 0 {
		t.Fatalf("exit = %d, stderr: %s", r.code, r.stderr)
	}
	requests := misp.Requests()
	if len(requests) != 1 {
		t.Fatalf("MISP got %d requests, want 1", len(requests))
	}
	if got := requests[0].Header.Get("Authorization"); got != testKey {
		t.Errorf("Authorization header = %q, want the argv key", got)
	}
	if len(r.messages) != 1 {
		t.Errorf("sent %d datagrams, want the one match", len(r.messages))
	}
	log := h.log()
	assertNoSecret(t, log, r.stderr, r.stdout)
	for _, want := range []string{"level=DEBUG", "indicator extracted", "MISP request", "MISP response", "http_status=200", `\"value\":[\"1.1.123.23\"]`} {
		if !strings.Contains(log, want) {
			t.Errorf("debug log lacks %q:\n%s", want, log)
		}
	}
}

func TestRequestShape(t *testing.T) {
	misp := startMISP(t)
	h := newHome(t, misp.URL(), "")

	h.run([]string{h.writeAlert(readSample(t, "win_sysmon22_dns_query")), "", "", ""})

	requests := misp.Requests()
	if len(requests) != 1 {
		t.Fatalf("MISP got %d requests, want 1", len(requests))
	}
	header := requests[0].Header
	for name, want := range map[string]string{"Authorization": testKey, "Accept": "application/json", "Content-Type": "application/json"} {
		if got := header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	var body struct {
		Value []string `json:"value"`
		Type  []string `json:"type"`
		ToIDS any      `json:"to_ids"`
	}
	if err := json.Unmarshal(requests[0].Body, &body); err != nil {
		t.Fatalf("request body is not JSON: %v", err)
	}
	sort.Strings(body.Value)
	want := []string{"181.30.131.40", "181.30.131.42", "a1834.dspg2.akamai.net", "img-s-msn-com.akamaized.net"}
	if strings.Join(body.Value, ",") != strings.Join(want, ",") {
		t.Errorf("value = %v, want %v", body.Value, want)
	}
	for _, typ := range []string{"domain|ip", "hostname", "ip-dst|port"} {
		if !containsString(body.Type, typ) {
			t.Errorf("type list %v lacks %s", body.Type, typ)
		}
	}
}

func TestConfigMissing(t *testing.T) {
	h := newHome(t, "http://127.0.0.1:9", "")
	os.Remove(filepath.Join(h.dir, "etc", "misp-telegram.toml"))

	r := h.run([]string{h.writeAlert(readSample(t, "win_sysmon3_public_ip")), "", "", ""})

	if r.code != 3 {
		t.Errorf("exit = %d, want 3", r.code)
	}
	if !strings.Contains(r.stderr, "misp-telegram.toml not found") {
		t.Errorf("stderr does not name the file: %q", r.stderr)
	}
}

func TestQueueSocketMissing(t *testing.T) {
	misp := startMISP(t)
	h := newHome(t, misp.URL(), "")
	h.queue.Close()

	r := h.run([]string{h.writeAlert(readSample(t, "win_sysmon3_public_ip")), "", "", ""})

	if r.code != 5 {
		t.Errorf("exit = %d, want 5", r.code)
	}
	if !strings.Contains(r.stderr, filepath.Join("queue", "sockets", "queue")) {
		t.Errorf("stderr does not name the socket: %q", r.stderr)
	}
}

func TestUsage(t *testing.T) {
	h := newHome(t, "http://127.0.0.1:9", "")

	r := h.run(nil)

	if r.code != 2 {
		t.Errorf("exit = %d, want 2", r.code)
	}
	if !strings.Contains(r.stderr, "alert file") {
		t.Errorf("stderr = %q, want it to name the missing alert file", r.stderr)
	}
}

// TestHostileAlertsNeverCrash feeds malformed and adversarial alerts. Each
// must end with 0 (nothing to do) or 4 (not an alert), never a crash.
func TestHostileAlertsNeverCrash(t *testing.T) {
	misp := startMISP(t)
	h := newHome(t, misp.URL(), "")

	inputs := map[string]string{
		"json array":         `[1,2,3]`,
		"json string":        `"alert"`,
		"null":               `null`,
		"truncated":          `{"rule":{"id":"1"`,
		"rule as string":     `{"rule":"x","agent":7,"data":[]}`,
		"groups wrong types": `{"rule":{"groups":[1,null,{"a":1}],"level":"high"},"data":{"win":{"system":{"eventID":3},"eventdata":{"destinationIp":["1.1.1.1"]}}}}`,
		"eventdata null":     `{"rule":{"groups":["sysmon"]},"data":{"win":{"system":{"eventID":"1"},"eventdata":null}}}`,
		"hashes number":      `{"rule":{"groups":["sysmon_event1"]},"data":{"win":{"system":{"eventID":"1"},"eventdata":{"hashes":12345}}}}`,
		"operator values":    `{"rule":{"groups":["sysmon_event_22"]},"data":{"win":{"system":{"eventID":"22"},"eventdata":{"queryName":"!evil.com","queryResults":"%;&&;||;1.1.1.1||2.2.2.2;"}}}}`,
		"deep nesting":       strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000),
		"syscheck registry":  `{"rule":{"groups":["ossec","syscheck","syscheck_entry_added","syscheck_registry"]},"syscheck":{"event":"added","path":"HKEY_LOCAL_MACHINE\\x","value_name":"v","sha256_after":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}`,
		"invalid utf8":       "{\"rule\":{\"description\":\"\xff\xfe\"},\"data\":{\"win\":{\"system\":{\"eventID\":\"3\"},\"eventdata\":{\"destinationIp\":\"\xff1.1.1.1\"}}}}",
	}
	for name, input := range inputs {
		t.Run(name, func(t *testing.T) {
			r := h.run([]string{h.writeAlert([]byte(input)), "", "", "", "", "10", "3"})

			if r.code != 0 && r.code != 4 {
				t.Errorf("exit = %d, want 0 or 4; stderr: %s", r.code, r.stderr)
			}
			if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "internal error") {
				t.Errorf("crashed: %s", r.stderr)
			}
		})
	}
	if n := len(misp.Requests()); n != 0 {
		t.Errorf("MISP got %d requests for alerts with no valid indicator, want none", n)
	}
}

// TestMISPFailuresBecomeErrorEvents checks that each failure kind arrives
// as one misp.error event with the kind and, where there is one, the HTTP
// status, and that the run still exits 0.
func TestMISPFailuresBecomeErrorEvents(t *testing.T) {
	fixtures := filepath.Join(sharedFixtures(t), "misp")
	read := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join(fixtures, name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	closedPort := func() string {
		listener, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := listener.Addr().String()
		listener.Close()
		return "http://" + addr
	}

	tests := []struct {
		name  string
		setup func(m *standin.MISP)
		url   func(m *standin.MISP) string

		wantKind   string
		wantStatus float64
	}{
		{"403 authentication", func(m *standin.MISP) {
			m.SetResponse(http.StatusForbidden, "application/json", read("error_403_auth_failed.json"))
		}, nil, "auth", 403},
		{"429 rate limited", func(m *standin.MISP) {
			m.SetResponse(http.StatusTooManyRequests, "application/json", read("derived_error_429_rate_limited.json"))
		}, nil, "rate_limited", 429},
		{"500 server", func(m *standin.MISP) { m.SetMode(standin.MISPError500) }, nil, "server", 500},
		{"html login page", func(m *standin.MISP) { m.SetMode(standin.MISPHTMLPage) }, nil, "bad_response", 200},
		{"maintenance redirect", func(m *standin.MISP) { m.SetMode(standin.MISPRedirect) }, nil, "redirect", 302},
		{"stalled server", func(m *standin.MISP) { m.SetMode(standin.MISPStall) }, nil, "timeout", 0},
		{"connection refused", func(m *standin.MISP) {}, func(*standin.MISP) string { return closedPort() }, "connect", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			misp := startMISP(t)
			tc.setup(misp)
			url := misp.URL()
			if tc.url != nil {
				url = tc.url(misp)
			}
			h := newHome(t, url, "retries = 0\ntimeout = \"500ms\"\nbudget = \"1s\"")

			r := h.run([]string{h.writeAlert(readSample(t, "win_sysmon3_public_ip")), "", "", "", "", "10", "3", "> /dev/null 2>&1"})

			if r.code != 0 {
				t.Fatalf("exit = %d, want 0; stderr: %s", r.code, r.stderr)
			}
			if r.duration > 2*time.Second {
				t.Errorf("run took %s, longer than its 1s budget allows", r.duration)
			}
			if len(r.messages) != 1 {
				t.Fatalf("sent %d datagrams, want one error event:\n%s", len(r.messages), join(r.messages))
			}
			_, payload, err := standin.SplitMessage(r.messages[0])
			if err != nil {
				t.Fatal(err)
			}
			var event struct {
				MISP struct {
					EventID string `json:"event_id"`
					Error   struct {
						Kind       string  `json:"kind"`
						HTTPStatus float64 `json:"http_status"`
						Message    string  `json:"message"`
						Hint       string  `json:"hint"`
					} `json:"error"`
				} `json:"misp"`
			}
			if err := json.Unmarshal(payload, &event); err != nil {
				t.Fatalf("payload is not JSON: %v", err)
			}
			if event.MISP.EventID != "" {
				t.Errorf("an error event carries event_id %q, so match rules could fire", event.MISP.EventID)
			}
			if event.MISP.Error.Kind != tc.wantKind {
				t.Errorf("kind = %q, want %q", event.MISP.Error.Kind, tc.wantKind)
			}
			if event.MISP.Error.HTTPStatus != tc.wantStatus {
				t.Errorf("http_status = %v, want %v", event.MISP.Error.HTTPStatus, tc.wantStatus)
			}
			if event.MISP.Error.Message == "" || event.MISP.Error.Hint == "" {
				t.Errorf("message %q or hint %q is empty", event.MISP.Error.Message, event.MISP.Error.Hint)
			}
			assertNoSecret(t, string(payload), h.log(), r.stderr)
		})
	}
}

func readSample(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "internal", "standin", "samples", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func equalMessages(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func join(messages [][]byte) string { return string(bytes.Join(messages, []byte("\n"))) }

func containsString(list []string, s string) bool {
	for _, item := range list {
		if item == s {
			return true
		}
	}
	return false
}
