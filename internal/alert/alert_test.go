package alert

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/testfixture"
)

// fixturePath returns the path of a shared fixture.
func fixturePath(t testing.TB, parts ...string) string {
	t.Helper()
	return testfixture.Path(t, parts...)
}

// readFixture returns a shared alert fixture.
func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	return testfixture.Read(t, "alerts", name)
}

func TestDecodeFixtures(t *testing.T) {
	tests := []struct {
		file string

		id, timestamp string
		rule          Rule
		agent         Agent
		manager       string
		location      string
	}{
		{
			file:      "win_sysmon1_alert_agent033.json",
			id:        "1634973338.510123480",
			timestamp: "2021-10-23T18:15:38.119+1100",
			rule: Rule{ID: "100500", Level: 10,
				Description: "Sysmon - Event 1: Process Sublime Text started but not allowed by the software policy.",
				Groups:      []string{"windows", "sysmon", "sysmon_event1", "software_policy"}},
			agent:    Agent{ID: "033", Name: "WIN-HOST01", IP: "192.168.252.120"},
			manager:  "wazuh-manager",
			location: "EventChannel",
		},
		{
			file:      "syscheck_modified_agent000_alert.json",
			id:        "1662759795.647670",
			timestamp: "2022-09-09T23:43:15.168+0200",
			rule: Rule{ID: "550", Level: 7, Description: "Integrity checksum changed.",
				Groups: []string{"ossec", "syscheck", "syscheck_entry_modified", "syscheck_file"}},
			agent:    Agent{ID: "000", Name: "manager-host"},
			manager:  "manager-host",
			location: "syscheck",
		},
		{
			file:      "integration_output_virustotal_malicious_agent010_alert.json",
			id:        "1668706225.104492",
			timestamp: "2022-11-17T19:30:25.085+0200",
			rule: Rule{ID: "87105", Level: 12,
				Description: "VirusTotal: Alert - /media/user/software/eicar.com - 66 engines detected this file",
				Groups:      []string{"virustotal"}},
			agent:    Agent{ID: "010", Name: "Ubuntu", IP: "10.0.2.15"},
			manager:  "localhost.localdomain",
			location: "virustotal",
		},
		{
			file:      "linux_sysmon11_ar_json_alert.json",
			id:        "1640756096.99481500",
			timestamp: "2021-12-29T05:34:56.382+0000",
			rule: Rule{ID: "200155", Level: 3,
				Description: "Sysmon - Event 11: FileCreate by /var/ossec/bin/wazuh-agentd",
				Groups:      []string{"linux", "sysmon", "sysmon_event_11"}},
			agent:    Agent{ID: "017", Name: "linux-host01", IP: "192.168.252.191"},
			manager:  "wazuh-manager",
			location: "/var/ossec/logs/active-responses.log",
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			a, err := Decode(readFixture(t, tc.file))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}

			if a.ID != tc.id {
				t.Errorf("ID = %q, want %q", a.ID, tc.id)
			}
			if a.Timestamp != tc.timestamp {
				t.Errorf("Timestamp = %q, want %q", a.Timestamp, tc.timestamp)
			}
			if a.Rule.ID != tc.rule.ID || a.Rule.Level != tc.rule.Level || a.Rule.Description != tc.rule.Description {
				t.Errorf("Rule = {%q %d %q}, want {%q %d %q}", a.Rule.ID, a.Rule.Level, a.Rule.Description,
					tc.rule.ID, tc.rule.Level, tc.rule.Description)
			}
			if !slices.Equal(a.Rule.Groups, tc.rule.Groups) {
				t.Errorf("Rule.Groups = %q, want %q", a.Rule.Groups, tc.rule.Groups)
			}
			if a.Rule.Raw == nil {
				t.Error("Rule.Raw is nil, want the rule object")
			}
			if a.Agent != tc.agent {
				t.Errorf("Agent = %+v, want %+v", a.Agent, tc.agent)
			}
			if a.Manager != tc.manager {
				t.Errorf("Manager = %q, want %q", a.Manager, tc.manager)
			}
			if a.Location != tc.location {
				t.Errorf("Location = %q, want %q", a.Location, tc.location)
			}
		})
	}
}

func TestDecodeAllAlertFixtures(t *testing.T) {
	files, err := filepath.Glob(fixturePath(t, "alerts", "*_alert*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no alert fixtures found")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			a, err := Decode(data)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if a.ID == "" || a.Rule.ID == "" || a.Rule.Level == 0 || len(a.Rule.Groups) == 0 {
				t.Errorf("got ID %q, rule %q level %d groups %q, want all set", a.ID, a.Rule.ID, a.Rule.Level, a.Rule.Groups)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		data string

		notObject bool
	}{
		{name: "empty", data: ""},
		{name: "blank", data: " \n"},
		{name: "array", data: `[{"id":"1"}]`, notObject: true},
		{name: "string", data: `"alert"`, notObject: true},
		{name: "null", data: "null", notObject: true},
		{name: "number", data: "42", notObject: true},
		{name: "truncated", data: `{"id":"1"`},
		{name: "two objects", data: `{"id":"1"}` + "\n" + `{"id":"2"}`},
		{name: "trailing garbage", data: `{"id":"1"}x`},
		{name: "legacy format", data: "alertdate='Oct 23'\nruleid='100500'\n"},
		{name: "too deep", data: deepArray(20000)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Decode([]byte(tc.data))
			if err == nil {
				t.Fatalf("Decode = %+v, want an error", a)
			}
			if got := errors.Is(err, ErrNotObject); got != tc.notObject {
				t.Errorf("errors.Is(%v, ErrNotObject) = %v, want %v", err, got, tc.notObject)
			}
		})
	}
}

func deepArray(n int) string {
	b := make([]byte, 0, 2*n+2)
	b = append(b, `{"a":`...)
	for range n {
		b = append(b, '[')
	}
	for range n {
		b = append(b, ']')
	}
	return string(append(b, '}'))
}

func TestDecodeTrailingWhitespace(t *testing.T) {
	for _, tail := range []string{"", "\n", "\r\n", " \t\n\n"} {
		a, err := Decode([]byte(`{"id":"1.2"}` + tail))
		if err != nil {
			t.Fatalf("Decode with tail %q: %v", tail, err)
		}
		if a.ID != "1.2" {
			t.Errorf("ID = %q, want %q", a.ID, "1.2")
		}
	}
}

func TestDecodeRuleTypes(t *testing.T) {
	tests := []struct {
		name string
		rule string

		id     string
		level  int
		groups []string
		hasRaw bool
	}{
		{name: "strings", rule: `{"id":"61603","level":"3"}`, id: "61603", level: 3, hasRaw: true},
		{name: "numbers", rule: `{"id":61603,"level":12}`, id: "61603", level: 12, hasRaw: true},
		{name: "integral float", rule: `{"level":"12.000000"}`, level: 12, hasRaw: true},
		{name: "fraction", rule: `{"level":3.5}`, level: 0, hasRaw: true},
		{name: "exponent", rule: `{"level":1e2}`, level: 100, hasRaw: true},
		{name: "huge", rule: `{"level":1e300}`, level: 0, hasRaw: true},
		{name: "padded", rule: `{"level":" 7 "}`, level: 7, hasRaw: true},
		{name: "text level", rule: `{"level":"high"}`, level: 0, hasRaw: true},
		{name: "bool level", rule: `{"level":true}`, level: 0, hasRaw: true},
		{name: "object level", rule: `{"level":{"n":3}}`, level: 0, hasRaw: true},
		{name: "null fields", rule: `{"id":null,"level":null,"groups":null}`, hasRaw: true},
		{name: "mixed groups", rule: `{"groups":["a",1,null,{"b":2},["c"],"d",true]}`,
			groups: []string{"a", "d"}, hasRaw: true},
		{name: "groups string", rule: `{"groups":"sysmon"}`, hasRaw: true},
		{name: "rule array", rule: `[1,2]`},
		{name: "rule string", rule: `"61603"`},
		{name: "rule null", rule: `null`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Decode([]byte(`{"rule":` + tc.rule + `}`))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}

			if a.Rule.ID != tc.id {
				t.Errorf("Rule.ID = %q, want %q", a.Rule.ID, tc.id)
			}
			if a.Rule.Level != tc.level {
				t.Errorf("Rule.Level = %d, want %d", a.Rule.Level, tc.level)
			}
			if !slices.Equal(a.Rule.Groups, tc.groups) {
				t.Errorf("Rule.Groups = %q, want %q", a.Rule.Groups, tc.groups)
			}
			if got := a.Rule.Raw != nil; got != tc.hasRaw {
				t.Errorf("Rule.Raw != nil is %v, want %v", got, tc.hasRaw)
			}
		})
	}
}

func TestDecodeWrongTypes(t *testing.T) {
	a, err := Decode([]byte(`{"id":7,"timestamp":["x"],"agent":"010","manager":{"name":{"x":1}},"location":false}`))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}

	if a.ID != "7" {
		t.Errorf("ID = %q, want %q", a.ID, "7")
	}
	if a.Timestamp != "" {
		t.Errorf("Timestamp = %q, want empty", a.Timestamp)
	}
	if a.Agent != (Agent{}) {
		t.Errorf("Agent = %+v, want zero", a.Agent)
	}
	if a.Manager != "" {
		t.Errorf("Manager = %q, want empty", a.Manager)
	}
	if a.Location != "false" {
		t.Errorf("Location = %q, want %q", a.Location, "false")
	}
}

const accessDoc = `{
	"s": "text",
	"n": 12.50,
	"e": 1e3,
	"neg": -0,
	"t": true,
	"f": false,
	"null": null,
	"obj": {"inner": "x", "Inner": "y", "deep": {"k": "v"}},
	"arr": ["a"],
	"data": {"EventData": {"DestinationIp": "91.189.91.157"}, "eventdata": {"DestinationIP": "1.1.1.1", "destinationip": "2.2.2.2"}}
}`

func TestString(t *testing.T) {
	a, err := Decode([]byte(accessDoc))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	tests := []struct {
		name string
		path []string

		want string
		ok   bool
	}{
		{name: "string", path: []string{"s"}, want: "text", ok: true},
		{name: "number as written", path: []string{"n"}, want: "12.50", ok: true},
		{name: "exponent as written", path: []string{"e"}, want: "1e3", ok: true},
		{name: "negative zero", path: []string{"neg"}, want: "-0", ok: true},
		{name: "true", path: []string{"t"}, want: "true", ok: true},
		{name: "false", path: []string{"f"}, want: "false", ok: true},
		{name: "null", path: []string{"null"}},
		{name: "object", path: []string{"obj"}},
		{name: "array", path: []string{"arr"}},
		{name: "missing", path: []string{"nope"}},
		{name: "nested", path: []string{"obj", "deep", "k"}, want: "v", ok: true},
		{name: "exact case", path: []string{"obj", "Inner"}, want: "y", ok: true},
		{name: "wrong case", path: []string{"OBJ", "inner"}},
		{name: "through string", path: []string{"s", "x"}},
		{name: "through null", path: []string{"null", "x"}},
		{name: "through array", path: []string{"arr", "0"}},
		{name: "empty path", path: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := a.String(tc.path...)
			if got != tc.want || ok != tc.ok {
				t.Errorf("String(%q) = %q, %v, want %q, %v", tc.path, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestStringFold(t *testing.T) {
	a, err := Decode([]byte(accessDoc))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	tests := []struct {
		name string
		path []string

		want     string
		wantKeys []string
		ok       bool
	}{
		{name: "exact", path: []string{"obj", "inner"}, want: "x", wantKeys: []string{"obj", "inner"}, ok: true},
		{name: "exact upper", path: []string{"obj", "Inner"}, want: "y", wantKeys: []string{"obj", "Inner"}, ok: true},
		{name: "folded", path: []string{"OBJ", "DEEP", "K"}, want: "v", wantKeys: []string{"obj", "deep", "k"}, ok: true},
		{name: "pascal case", path: []string{"data", "eventdata", "DestinationIp"},
			// No exact key: "DestinationIP" sorts before "destinationip".
			want: "1.1.1.1", wantKeys: []string{"data", "eventdata", "DestinationIP"}, ok: true},
		{name: "exact step first", path: []string{"data", "EventData", "destinationip"},
			want: "91.189.91.157", wantKeys: []string{"data", "EventData", "DestinationIp"}, ok: true},
		{name: "object", path: []string{"Obj"}},
		{name: "missing", path: []string{"obj", "nope"}},
		{name: "through array", path: []string{"ARR", "0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := a.StringFold(tc.path...)
			if got != tc.want || ok != tc.ok {
				t.Errorf("StringFold(%q) = %q, %v, want %q, %v", tc.path, got, ok, tc.want, tc.ok)
			}
			if !tc.ok {
				return
			}
			_, keys, _ := a.ValueFold(tc.path...)
			if !slices.Equal(keys, tc.wantKeys) {
				t.Errorf("ValueFold(%q) keys = %q, want %q", tc.path, keys, tc.wantKeys)
			}
		})
	}
}

func TestValue(t *testing.T) {
	a, err := Decode([]byte(accessDoc))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}

	if v, ok := a.Value("null"); !ok || v != nil {
		t.Errorf(`Value("null") = %v, %v, want nil, true`, v, ok)
	}
	if v, ok := a.Value("n"); !ok || v != json.Number("12.50") {
		t.Errorf(`Value("n") = %#v, %v, want json.Number("12.50"), true`, v, ok)
	}
	if v, ok := a.Value(); !ok || v.(map[string]any)["s"] != "text" {
		t.Errorf("Value() = %v, %v, want the whole object", v, ok)
	}
	if _, ok := a.Value("missing"); ok {
		t.Error(`Value("missing") ok = true, want false`)
	}
}

func TestNilAlert(t *testing.T) {
	var a *Alert
	if _, ok := a.Value("id"); ok {
		t.Error("Value on nil alert ok = true")
	}
	if _, ok := a.String("id"); ok {
		t.Error("String on nil alert ok = true")
	}
	if _, ok := a.StringFold("id"); ok {
		t.Error("StringFold on nil alert ok = true")
	}
	if a.HasGroup("sysmon") {
		t.Error("HasGroup on nil alert = true")
	}
	var zero Alert
	if _, ok := zero.String("id"); ok {
		t.Error("String on zero alert ok = true")
	}
}

func TestHasGroup(t *testing.T) {
	a, err := Decode([]byte(`{"rule":{"groups":["windows","sysmon",3,"sysmon_event1"]}}`))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	tests := []struct {
		group string
		want  bool
	}{
		{"sysmon", true},
		{"sysmon_event1", true},
		{"windows", true},
		{"Sysmon", false},
		{"sysmon_event", false},
		{"3", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := a.HasGroup(tc.group); got != tc.want {
			t.Errorf("HasGroup(%q) = %v, want %v", tc.group, got, tc.want)
		}
	}
}

// commonPaths are the paths the rest of the program reads; FuzzDecode
// checks that each can be read from any decoded alert.
var commonPaths = [][]string{
	{"id"}, {"timestamp"}, {"rule", "id"}, {"rule", "level"}, {"rule", "groups"},
	{"agent", "id"}, {"agent", "ip"}, {"manager", "name"}, {"location"},
	{"data", "win", "system", "eventID"}, {"data", "win", "eventdata", "hashes"},
	{"data", "eventdata", "DestinationIp"}, {"data", "Event", "EventData", "Data", "DestinationIp"},
	{"syscheck", "sha256_after"}, {"data", "misp", "value"},
}

func FuzzDecode(f *testing.F) {
	// A real alert, pretty-printed.
	f.Add(readFixture(f, "win_sysmon1_alert_agent033.json"))
	// A real alert on one line, with numbers as strings.
	f.Add(readFixture(f, "syscheck_modified_agent000_alert.json"))
	// Fields of unexpected types at every common path.
	f.Add([]byte(`{"id":1,"rule":{"id":[],"level":"x","groups":[1,null,"a"]},"agent":null,"data":{"win":"s"}}`))
	// Key case variants for the folded lookups.
	f.Add([]byte(`{"DATA":{"EventData":{"destinationip":"1.1.1.1"}},"data":{"eventdata":{"DESTINATIONIP":2}}}`))
	// Not an object.
	f.Add([]byte(`[1,2,3]`))
	// Trailing data after the object.
	f.Add([]byte("{}\n{}"))
	// Invalid UTF-8 in a key and a value.
	f.Add([]byte("{\"\xff\":\"\xfe\"}"))

	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := Decode(data)
		if err != nil {
			if a != nil {
				t.Fatalf("Decode returned an alert with error %v", err)
			}
			return
		}
		if a.Raw == nil {
			t.Fatal("Decode succeeded with a nil Raw")
		}
		for _, p := range commonPaths {
			s, ok := a.String(p...)
			if !ok && s != "" {
				t.Errorf("String(%q) = %q with ok false", p, s)
			}
			// An exact key wins every step, so a path String finds gives
			// StringFold the same value.
			if sf, okf := a.StringFold(p...); ok && (!okf || sf != s) {
				t.Errorf("StringFold(%q) = %q, %v, want %q, true as String returns", p, sf, okf, s)
			}
			a.HasGroup(p[0])
		}
		for _, g := range a.Rule.Groups {
			if !a.HasGroup(g) {
				t.Errorf("HasGroup(%q) = false for a group in Rule.Groups", g)
			}
		}
	})
}
