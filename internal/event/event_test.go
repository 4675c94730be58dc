package event

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/indicator"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/misp"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/wazuh"
)

const compositesFixture = "misp/derived_restsearch_ip_composites_2_5.json"

// queueLimit is the room a datagram leaves for the payload after the
// location header of agent 020, which most cases here are about.
var queueLimit = wazuh.MaxMessageSize - len(wazuh.Message(wazuh.Location("020", "WIN-HOST02", "192.168.252.105", "misp"), nil))

// dnsSource is a Sysmon 22 alert for c2.evil.example answered with
// 198.51.100.23, made from the EID 22 fixture with those two values edited
// in, at the level the opt-in Sysmon rules give rule 61650.
func dnsSource(t testing.TB) Source {
	t.Helper()
	a := eventchannelAlert(t, "alerts/win_sysmon22_event_data.json", false,
		map[string]string{"queryName": "c2.evil.example", "queryResults": "198.51.100.23;"},
		map[string]any{"level": 3, "description": "Sysmon - Event 22: DNS Query event", "id": "61650",
			"groups": []string{"windows", "sysmon", "sysmon_event_22"}},
		map[string]any{"id": "020", "name": "WIN-HOST02", "ip": "192.168.252.105"})
	return SourceOf(a)
}

// connectionSource is a Sysmon 3 alert for a connection to
// 198.51.100.23:443, made from the public-IPv4 EID 3 fixture with the
// destination edited in.
func connectionSource(t testing.TB) Source {
	t.Helper()
	a := eventchannelAlert(t, "alerts/win_sysmon3_public_ipv4_archive_data.json", true,
		map[string]string{"destinationIp": "198.51.100.23"},
		map[string]any{"level": 3, "description": "Sysmon - Event 3: Network connection to 198.51.100.23:443 by C:\\\\Windows\\\\System32\\\\regsvr32.exe",
			"id": "61605", "groups": []string{"windows", "sysmon", "sysmon_event3"}},
		map[string]any{"id": "034", "name": "WIN-HOST04", "ip": "fe80::5efe:c0a8:fc78"})
	return SourceOf(a)
}

// processSource is the Sysmon 1 alert fixture of agent 033.
func processSource(t testing.TB) Source {
	t.Helper()
	return SourceOf(fixtureAlert(t, "alerts/win_sysmon1_alert_agent033.json"))
}

func dnsMatch(t testing.TB) Match {
	t.Helper()
	ind := indicator.Indicator{Kind: indicator.IP, Value: "198.51.100.23",
		Field: "data.win.eventdata.queryResults", Query: "c2.evil.example"}
	return Match{
		Hit:      misp.Hit{Indicator: ind, Attribute: fixtureAttribute(t, compositesFixture, "884202")},
		Source:   dnsSource(t).For(ind),
		EventURL: EventURL("https://misp.example/", "1203"),
	}
}

func TestGoldenEvents(t *testing.T) {
	tests := []struct {
		name   string
		encode func(t *testing.T) ([]byte, error)
	}{
		{"match_ip_from_dns_answer", func(t *testing.T) ([]byte, error) {
			return EncodeMatch(dnsMatch(t), queueLimit)
		}},
		{"match_ip_port_delayed", func(t *testing.T) ([]byte, error) {
			ind := indicator.Indicator{Kind: indicator.IP, Value: "198.51.100.23", Field: "data.win.eventdata.destinationIp"}
			return EncodeMatch(Match{
				Hit:     misp.Hit{Indicator: ind, Attribute: fixtureAttribute(t, compositesFixture, "884201")},
				Source:  connectionSource(t).For(ind),
				Delayed: true,
			}, queueLimit)
		}},
		// A DNS query name looked up late: the delayed rule must win over
		// the DNS-query rule.
		{"match_domain_dns_delayed", func(t *testing.T) ([]byte, error) {
			ind := indicator.Indicator{Kind: indicator.Domain, Value: "c2.evil.example",
				Field: "data.win.eventdata.queryName", Query: "c2.evil.example"}
			return EncodeMatch(Match{
				Hit:      misp.Hit{Indicator: ind, Attribute: fixtureAttribute(t, compositesFixture, "884202")},
				Source:   dnsSource(t).For(ind),
				Delayed:  true,
				EventURL: EventURL("https://misp.example", "1203"),
			}, queueLimit)
		}},
		// The process alert's own SHA256 is not in any MISP fixture, so this
		// pairs it with the filename|sha256 attribute of the multi-hit
		// fixture. Field and Query come from the indicator, as Source has none.
		{"match_sha256_process", func(t *testing.T) ([]byte, error) {
			ind := indicator.Indicator{Kind: indicator.SHA256,
				Value: "7553d4a5914af58b23a9e0ce6a262cd230ed8bb2c30da3d42d26b295f9144ab7",
				Field: "data.win.eventdata.hashes"}
			attr := fixtureAttribute(t, "misp/restsearch_multi_hit_composite.json", "35744")
			return EncodeMatch(Match{
				Hit:      misp.Hit{Indicator: ind, Attribute: attr},
				Source:   processSource(t),
				EventURL: EventURL("https://misp.example", attr.EventID),
			}, queueLimit)
		}},
		// A 300-byte comment and a 372-byte query name at an 800-byte limit:
		// every optional field goes, then the query name is cut.
		{"match_trimmed", func(t *testing.T) ([]byte, error) {
			m := dnsMatch(t)
			m.Hit.Attribute.Comment = strings.Repeat("c", 300)
			m.Source.Query = strings.Repeat("label.", 60) + "evil.example"
			return EncodeMatch(m, 800)
		}},
		{"error_timeout", func(t *testing.T) ([]byte, error) {
			return EncodeFailure(Failure{
				Kind:       "timeout",
				Message:    "MISP did not answer POST /attributes/restSearch within 4s",
				Hint:       "check [misp] url and that MISP is reachable from this manager",
				Indicators: 3,
				Spooled:    true,
				Source:     processSource(t).For(indicator.Indicator{Field: "data.win.eventdata.hashes"}),
			}, queueLimit)
		}},
		{"error_auth_403", func(t *testing.T) ([]byte, error) {
			var body struct{ Message string }
			if err := json.Unmarshal(readFixture(t, "misp/error_403_auth_failed.json"), &body); err != nil {
				t.Fatal(err)
			}
			return EncodeFailure(Failure{
				Kind:       "auth",
				Message:    "MISP rejected the request with HTTP 403: " + body.Message,
				Hint:       "check [misp] key and that its user has API access",
				HTTPStatus: 403,
				Indicators: 1,
				Source:     dnsSource(t),
			}, queueLimit)
		}},
		{"error_breaker_open", func(t *testing.T) ([]byte, error) {
			return EncodeBreakerOpen(BreakerOpen{
				Cause:      "timeout",
				OpenUntil:  time.Date(2026, 12, 4, 21, 10, 0, 0, time.FixedZone("CET", 3600)),
				Skipped:    12,
				Indicators: 2,
				Spooled:    true,
				Source:     connectionSource(t),
			}, queueLimit)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.encode(t)

			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if !bytes.HasPrefix(got, []byte(`{"integration":"misp","misp":{`)) {
				t.Errorf("event starts %.40q, want the integration key first", got)
			}
			decodeEvent(t, got)
			checkGolden(t, tc.name, got)
		})
	}
}

func TestEncodeMatchFields(t *testing.T) {
	got, err := EncodeMatch(dnsMatch(t), queueLimit)
	if err != nil {
		t.Fatal(err)
	}
	ev := decodeEvent(t, got)

	tests := []struct {
		path []string
		want any
	}{
		{[]string{"integration"}, "misp"},
		{[]string{"misp", "event_id"}, "1203"},
		{[]string{"misp", "event_uuid"}, "5f0c2d1e-0000-4000-8000-000000000001"},
		{[]string{"misp", "event_info"}, "C2 infrastructure observed in phishing campaign (example)"},
		{[]string{"misp", "attribute_id"}, "884202"},
		{[]string{"misp", "type"}, "domain|ip"},
		{[]string{"misp", "category"}, "Network activity"},
		{[]string{"misp", "value"}, "198.51.100.23"},
		{[]string{"misp", "attribute_value"}, "c2.evil.example|198.51.100.23"},
		{[]string{"misp", "ioc_kind"}, "ip"},
		{[]string{"misp", "to_ids"}, true},
		{[]string{"misp", "comment"}, "resolved 2024-03-01"},
		{[]string{"misp", "event_url"}, "https://misp.example/events/view/1203"},
		{[]string{"misp", "source", "alert_id"}, "1709288142.4471102"},
		{[]string{"misp", "source", "rule_id"}, "61650"},
		{[]string{"misp", "source", "rule_level"}, 3.0},
		{[]string{"misp", "source", "agent", "ip"}, "192.168.252.105"},
		{[]string{"misp", "source", "field"}, "data.win.eventdata.queryResults"},
		{[]string{"misp", "source", "query"}, "c2.evil.example"},
	}
	for _, tc := range tests {
		got, ok := lookup(ev, tc.path...)
		if !ok {
			t.Errorf("%s missing", strings.Join(tc.path, "."))
			continue
		}
		if got != tc.want {
			t.Errorf("%s = %v, want %v", strings.Join(tc.path, "."), got, tc.want)
		}
	}
	for _, absent := range [][]string{{"misp", "delayed"}, {"misp", "truncated"}, {"misp", "error"}} {
		if _, ok := lookup(ev, absent...); ok {
			t.Errorf("%s present, want it left out", strings.Join(absent, "."))
		}
	}
}

func TestEncodeMatchOmitsEmpty(t *testing.T) {
	ind := indicator.Indicator{Kind: indicator.Domain, Value: "evil.example", Field: "data.win.eventdata.queryName"}
	m := Match{Hit: misp.Hit{Indicator: ind, Attribute: misp.Attribute{
		ID: "1", EventID: "2", Category: "Network activity", Type: "domain", Value: "evil.example"}}}

	got, err := EncodeMatch(m, queueLimit)

	if err != nil {
		t.Fatal(err)
	}
	ev := decodeEvent(t, got)
	for _, key := range []string{"attribute_value", "comment", "tags", "event_url", "delayed", "truncated", "event_info"} {
		if _, ok := lookup(ev, "misp", key); ok {
			t.Errorf("misp.%s present, want it left out", key)
		}
	}
	for _, key := range []string{"query", "rule_description"} {
		if _, ok := lookup(ev, "misp", "source", key); ok {
			t.Errorf("misp.source.%s present, want it left out", key)
		}
	}
	if got, _ := lookup(ev, "misp", "source", "field"); got != "data.win.eventdata.queryName" {
		t.Errorf("misp.source.field = %v, want the indicator's field", got)
	}
}

func TestEncodeMatchTagsOnce(t *testing.T) {
	m := dnsMatch(t)
	m.Hit.Attribute.Tags = []misp.Tag{{Name: "tlp:green"}, {Name: "type:OSINT", Inherited: true}, {Name: "tlp:green", Inherited: true}, {Name: ""}}

	got, err := EncodeMatch(m, queueLimit)

	if err != nil {
		t.Fatal(err)
	}
	tags, _ := lookup(decodeEvent(t, got), "misp", "tags")
	list, _ := tags.([]any)
	if len(list) != 2 || list[0] != "tlp:green" || list[1] != "type:OSINT" {
		t.Fatalf("tags = %v, want [tlp:green type:OSINT]", tags)
	}
}

func TestEncodeKeepsHTMLEscaping(t *testing.T) {
	m := dnsMatch(t)
	m.Hit.Attribute.Comment = "<b>&</b>"

	got, err := EncodeMatch(m, queueLimit)

	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(got, []byte(`"comment":"\u003cb\u003e\u0026\u003c/b\u003e"`)) {
		t.Fatalf("comment not HTML-escaped in %s", got)
	}
}

func TestEncodeMatchTrimsHugeComment(t *testing.T) {
	m := dnsMatch(t)
	m.Hit.Attribute.Comment = strings.Repeat("x", 100_000)
	m.Source.RuleDescription = strings.Repeat("d", 60_000)

	got, err := EncodeMatch(m, queueLimit)

	if err != nil {
		t.Fatal(err)
	}
	if len(got) > queueLimit {
		t.Fatalf("event is %d bytes, over the %d-byte limit", len(got), queueLimit)
	}
	ev := decodeEvent(t, got)
	if truncated, _ := lookup(ev, "misp", "truncated"); truncated != true {
		t.Errorf("misp.truncated = %v, want true", truncated)
	}
	if _, ok := lookup(ev, "misp", "comment"); ok {
		t.Error("comment kept, want it dropped first")
	}
	if _, ok := lookup(ev, "misp", "tags"); !ok {
		t.Error("tags dropped, want them kept once the comment is gone")
	}
	if description, _ := lookup(ev, "misp", "source", "rule_description"); description != m.Source.RuleDescription {
		t.Error("rule_description changed, want it whole once the comment is gone")
	}
}

func TestEncodeMatchCutsLongStrings(t *testing.T) {
	m := dnsMatch(t)
	m.Hit.Attribute.Comment = strings.Repeat("x", 100_000)
	m.Source.RuleDescription = strings.Repeat("d", 70_000)
	m.Source.Query = strings.Repeat("é", 40_000) // 80 000 bytes

	got, err := EncodeMatch(m, queueLimit)

	if err != nil {
		t.Fatal(err)
	}
	if len(got) > queueLimit {
		t.Fatalf("event is %d bytes, over the %d-byte limit", len(got), queueLimit)
	}
	if !utf8.Valid(got) {
		t.Error("event is not valid UTF-8: a cut split a rune")
	}
	ev := decodeEvent(t, got)
	for _, key := range []string{"comment", "tags", "event_info", "attribute_value"} {
		if _, ok := lookup(ev, "misp", key); ok {
			t.Errorf("misp.%s kept, want it dropped before cutting", key)
		}
	}
	query, _ := lookup(ev, "misp", "source", "query")
	if s, _ := query.(string); !strings.HasSuffix(s, "é…") || len(s) < queueLimit/2 {
		t.Errorf("query is %d bytes ending %q, want most of the limit, cut after a whole rune", len(s), s[max(0, len(s)-8):])
	}
	if value, _ := lookup(ev, "misp", "value"); value != "198.51.100.23" {
		t.Errorf("misp.value = %v, want the short value untouched", value)
	}
}

func TestEncodeFailureTrimsMessage(t *testing.T) {
	f := Failure{Kind: "bad_response", Message: strings.Repeat("<html>", 20_000), Indicators: 1, Source: processSource(t)}

	got, err := EncodeFailure(f, queueLimit)

	if err != nil {
		t.Fatal(err)
	}
	if len(got) > queueLimit {
		t.Fatalf("event is %d bytes, over the %d-byte limit", len(got), queueLimit)
	}
	ev := decodeEvent(t, got)
	if kind, _ := lookup(ev, "misp", "error", "kind"); kind != "bad_response" {
		t.Errorf("misp.error.kind = %v, want it whole", kind)
	}
	message, _ := lookup(ev, "misp", "error", "message")
	if s, _ := message.(string); !strings.HasSuffix(s, "…") {
		t.Errorf("message does not end with the cut mark: %.40q", s)
	}
	if truncated, _ := lookup(ev, "misp", "truncated"); truncated != true {
		t.Errorf("misp.truncated = %v, want true", truncated)
	}
}

func TestEncodeFailureFields(t *testing.T) {
	source := dnsSource(t).For(indicator.Indicator{Field: "data.win.eventdata.queryName", Query: "c2.evil.example"})

	got, err := EncodeFailure(Failure{Message: "boom", Source: source}, queueLimit)

	if err != nil {
		t.Fatal(err)
	}
	ev := decodeEvent(t, got)
	if kind, _ := lookup(ev, "misp", "error", "kind"); kind != "unknown" {
		t.Errorf("misp.error.kind = %v, want unknown for an empty Kind", kind)
	}
	for _, path := range [][]string{
		{"misp", "error", "http_status"}, {"misp", "error", "hint"}, {"misp", "spooled"},
		{"misp", "source", "field"}, {"misp", "source", "query"},
		{"misp", "event_id"}, {"misp", "category"}, {"misp", "value"},
	} {
		if _, ok := lookup(ev, path...); ok {
			t.Errorf("%s present, want it left out of an error event", strings.Join(path, "."))
		}
	}
	if n, _ := lookup(ev, "misp", "indicators"); n != 0.0 {
		t.Errorf("misp.indicators = %v, want 0", n)
	}
}

func TestEncodeBreakerOpenFields(t *testing.T) {
	got, err := EncodeBreakerOpen(BreakerOpen{Skipped: 0}, queueLimit)

	if err != nil {
		t.Fatal(err)
	}
	want := `{"integration":"misp","misp":{"error":{"kind":"breaker_open","cause":"unknown","skipped":0,` +
		`"message":"MISP lookups are paused after repeated unknown failures",` +
		`"hint":"lookups resume by themselves after open_until. Meanwhile check that MISP is reachable from this manager"},` +
		`"indicators":0,"source":{"alert_id":"","alert_timestamp":"","rule_id":"","rule_level":0,"agent":{"id":"","name":""}}}}`
	if string(got) != want {
		t.Fatalf("event\n got %s\nwant %s", got, want)
	}
}

func TestEncodeLimitTooSmall(t *testing.T) {
	tests := []struct {
		name   string
		encode func() ([]byte, error)
	}{
		{"match", func() ([]byte, error) { return EncodeMatch(dnsMatch(t), 100) }},
		{"error", func() ([]byte, error) { return EncodeFailure(Failure{Kind: "timeout", Message: "m"}, 100) }},
		{"breaker_open", func() ([]byte, error) { return EncodeBreakerOpen(BreakerOpen{Cause: "timeout"}, 100) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.encode()

			if err == nil {
				t.Fatalf("got a %d-byte event, want an error for a 100-byte limit", len(got))
			}
			if want := tc.name + " event is "; !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "100-byte limit") {
				t.Errorf("error %q, want it to start %q and name the limit", err, want)
			}
		})
	}
}

func TestEventURL(t *testing.T) {
	tests := []struct {
		base, id string

		want string
	}{
		{"https://misp.example", "1203", "https://misp.example/events/view/1203"},
		{"https://misp.example/", "1203", "https://misp.example/events/view/1203"},
		{"https://misp.example/misp", "7", "https://misp.example/misp/events/view/7"},
		{"https://misp.example", "a/b c", "https://misp.example/events/view/a%2Fb%20c"},
		{"", "1203", ""},
		{"https://misp.example", "", ""},
	}
	for _, tc := range tests {
		if got := EventURL(tc.base, tc.id); got != tc.want {
			t.Errorf("EventURL(%q, %q) = %q, want %q", tc.base, tc.id, got, tc.want)
		}
	}
}

func TestSourceOf(t *testing.T) {
	got := processSource(t)

	want := Source{
		AlertID:         "1634973338.510123480",
		AlertTimestamp:  "2021-10-23T18:15:38.119+1100",
		RuleID:          "100500",
		RuleLevel:       10,
		RuleDescription: "Sysmon - Event 1: Process Sublime Text started but not allowed by the software policy.",
		Agent:           Agent{ID: "033", Name: "WIN-HOST01", IP: "192.168.252.120"},
	}
	if got != want {
		t.Errorf("SourceOf\n got %+v\nwant %+v", got, want)
	}
	if zero := SourceOf(nil); zero != (Source{}) {
		t.Errorf("SourceOf(nil) = %+v, want the zero Source", zero)
	}
}

func TestSourceFor(t *testing.T) {
	base := Source{AlertID: "1", Field: "old", Query: "old"}

	got := base.For(indicator.Indicator{Kind: indicator.Domain, Value: "x.example", Field: "data.win.eventdata.queryName", Query: "x.example"})

	if got.Field != "data.win.eventdata.queryName" || got.Query != "x.example" || got.AlertID != "1" {
		t.Errorf("For = %+v, want Field and Query from the indicator and the rest kept", got)
	}
	if base.Field != "old" {
		t.Error("For changed its receiver")
	}
}

func TestCutString(t *testing.T) {
	tests := []struct {
		name string
		s    string
		max  int

		want string
	}{
		{"short stays", "abc", 10, "abc"},
		{"exact stays", "abcdefghij", 10, "abcdefghij"},
		{"ascii cut", "abcdefghijk", 10, "abcdefg…"},
		{"rune kept whole", "ééééé", 8, "éé…"},
		{"invalid bytes", "\xff\xfe\xfd\xfc\xfb", 4, "\xff…"},
		{"room for mark only", "abcdef", 3, "…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := cutString(tc.s, tc.max)

			if got != tc.want {
				t.Errorf("cutString(%q, %d) = %q, want %q", tc.s, tc.max, got, tc.want)
			}
			if len(got) > max(tc.max, len(tc.s)) {
				t.Errorf("result is %d bytes, over %d", len(got), tc.max)
			}
		})
	}
}

// FuzzEncodeMatch checks that any strings give valid JSON that the Wazuh
// json decoder accepts, within the limit, and marked truncated when the
// whole event would not have fitted.
func FuzzEncodeMatch(f *testing.F) {
	f.Add("198.51.100.23", "resolved", "Sysmon - Event 22", "WIN-HOST02", "c2.evil.example", uint16(65000)) // ordinary event
	f.Add("evil.example", strings.Repeat("c", 900), "d", "n", "", uint16(1200))                             // comment must go
	f.Add("v", "", strings.Repeat("<&>", 300), "n", "q", uint16(1500))                                      // HTML escaping grows the description sixfold
	f.Add("\xff\xfe", "\x00\x01\n\"\\", "\u2028", "a\xc3", "\xe2\x82", uint16(900))                         // invalid UTF-8 and control characters
	f.Add(strings.Repeat("é", 200), "", "", "", strings.Repeat("𝄞", 200), uint16(700))                      // multibyte runes at the cut
	f.Add("x", "y", "z", "w", "q", uint16(0))                                                               // limit below any event

	f.Fuzz(func(t *testing.T, value, comment, description, agentName, query string, limitSeed uint16) {
		limit := int(limitSeed)
		ind := indicator.Indicator{Kind: indicator.Domain, Value: value, Field: "data.win.eventdata.queryName", Query: query}
		m := Match{
			Hit: misp.Hit{Indicator: ind, Attribute: misp.Attribute{
				ID: "884202", EventID: "1203", Category: "Network activity", Type: "domain|ip",
				UUID: "5f0c2d1e-0000-4000-8000-000000000012", Value: value + "|" + comment, Comment: comment,
				Event: misp.EventInfo{Info: description}, Tags: []misp.Tag{{Name: comment}, {Name: value}},
			}},
			Source: Source{AlertID: "1", RuleID: "61650", RuleLevel: 3, RuleDescription: description,
				Agent: Agent{ID: "020", Name: agentName, IP: query}, Field: ind.Field, Query: query},
			EventURL: EventURL("https://misp.example", "1203"),
		}

		got, err := EncodeMatch(m, limit)

		if err != nil {
			if limit >= 8192 {
				t.Fatalf("EncodeMatch failed at a %d-byte limit: %v", limit, err)
			}
			return
		}
		if len(got) > limit {
			t.Fatalf("event is %d bytes, over the %d-byte limit", len(got), limit)
		}
		if !json.Valid(got) {
			t.Fatalf("event is not valid JSON: %q", got)
		}
		if !bytes.HasPrefix(got, []byte(`{"integration":"misp"`)) {
			t.Fatalf("event starts %.30q, want {\"integration\":\"misp\"", got)
		}
		full, err := EncodeMatch(m, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		ev := decodeEvent(t, got)
		truncated, _ := lookup(ev, "misp", "truncated")
		if (len(full) > limit) != (truncated == true) {
			t.Fatalf("truncated = %v for a %d-byte event at a %d-byte limit", truncated, len(full), limit)
		}
		for _, key := range []string{"event_id", "category", "value", "ioc_kind"} {
			if _, ok := lookup(ev, "misp", key); !ok {
				t.Fatalf("misp.%s missing after trimming", key)
			}
		}
	})
}

func BenchmarkEncodeMatch(b *testing.B) {
	m := dnsMatch(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncodeMatch(m, queueLimit); err != nil {
			b.Fatal(err)
		}
	}
}
