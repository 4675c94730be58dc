package rules

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// ownFirstID and ownLastID bound our rule ids. Rules outside the range must
// be overwrite="yes" copies of stock rules.
const (
	ownFirstID = 920000
	ownLastID  = 920999
)

// Rule ids the checks below refer to.
const (
	baseRule    = "920000"
	errorRule   = "920001"
	breakerRule = "920002"
	matchRule   = "920100"
	dnsRule     = "920101"
	delayedRule = "920102"
	hashRule    = "920103"
)

type ruleFile struct {
	Groups []ruleGroup `xml:"group"`
	// Other collects top-level elements besides <group>, such as <var>.
	Other []xml.Name `xml:",any"`
}

type ruleGroup struct {
	Name  string `xml:"name,attr"`
	Rules []rule `xml:"rule"`
}

type rule struct {
	ID          string      `xml:"id,attr"`
	Level       string      `xml:"level,attr"`
	Overwrite   string      `xml:"overwrite,attr"`
	IfSID       string      `xml:"if_sid"`
	DecodedAs   string      `xml:"decoded_as"`
	Fields      []ruleField `xml:"field"`
	Description string      `xml:"description"`
	Options     []string    `xml:"options"`
	Groups      []string    `xml:"group"`
	// Unknown collects any other element, which the matching model below
	// would ignore.
	Unknown []struct {
		XMLName xml.Name
	} `xml:",any"`

	file        string
	parentGroup string
}

type ruleField struct {
	Name   string `xml:"name,attr"`
	Type   string `xml:"type,attr"`
	Negate string `xml:"negate,attr"`
	Regex  string `xml:",chardata"`
}

func (r rule) own() bool {
	id, err := strconv.Atoi(r.ID)
	return err == nil && id >= ownFirstID && id <= ownLastID
}

// groups returns the rule's groups as analysisd lists them: the enclosing
// <group name> first, then the rule's own <group>, without empty names.
func (r rule) groups() []string {
	var names []string
	for _, list := range append([]string{r.parentGroup}, r.Groups...) {
		for _, name := range strings.Split(list, ",") {
			if name = strings.TrimSpace(name); name != "" {
				names = append(names, name)
			}
		}
	}
	return names
}

// loadRules parses every rules/*.xml file. Wazuh rule files have several
// top-level elements, so each file is wrapped in a root element first.
func loadRules(t *testing.T) []rule {
	t.Helper()
	paths, err := filepath.Glob("*.xml")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no rule files (*.xml) in rules/")
	}

	var rules []rule
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var file ruleFile
		wrapped := append(append([]byte("<root>"), data...), "</root>"...)
		if err := xml.Unmarshal(wrapped, &file); err != nil {
			t.Fatalf("%s is not valid XML: %v", path, err)
		}
		for _, other := range file.Other {
			if other.Local != "group" {
				t.Errorf("%s: top-level <%s>, want only <group> elements", path, other.Local)
			}
		}
		for _, group := range file.Groups {
			for _, r := range group.Rules {
				r.file, r.parentGroup = path, group.Name
				rules = append(rules, r)
			}
		}
	}
	return rules
}

func ownRules(rules []rule) map[string]rule {
	own := make(map[string]rule)
	for _, r := range rules {
		if r.own() {
			own[r.ID] = r
		}
	}
	return own
}

func TestRuleIDs(t *testing.T) {
	rules := loadRules(t)

	seen := make(map[string]string)
	for _, r := range rules {
		if where, dup := seen[r.ID]; dup {
			t.Errorf("rule %s in %s repeats the id already used in %s", r.ID, r.file, where)
		}
		seen[r.ID] = r.file

		switch {
		case r.own() && r.Overwrite != "":
			t.Errorf("rule %s in %s: overwrite=%q on one of our own ids", r.ID, r.file, r.Overwrite)
		case !r.own() && r.Overwrite != "yes":
			t.Errorf("rule %s in %s is outside %d-%d without overwrite=\"yes\": it could clash with a stock or local rule",
				r.ID, r.file, ownFirstID, ownLastID)
		}
	}
	for _, id := range []string{baseRule, errorRule, breakerRule, matchRule, dnsRule, delayedRule, hashRule} {
		if _, ok := seen[id]; !ok {
			t.Errorf("rule %s missing", id)
		}
	}
}

func TestOwnRuleShape(t *testing.T) {
	own := ownRules(loadRules(t))

	for id, r := range own {
		if strings.TrimSpace(r.Description) == "" {
			t.Errorf("rule %s has no description", id)
		}
		if len(r.Unknown) > 0 {
			t.Errorf("rule %s uses <%s>, which the matching model in this test does not evaluate", id, r.Unknown[0].XMLName.Local)
		}
		if !slices.Contains(r.groups(), "misp") {
			t.Errorf("rule %s groups %v, want misp among them", id, r.groups())
		}
		for _, field := range r.Fields {
			if field.Type != "" && field.Type != "osregex" || field.Negate != "" {
				t.Errorf("rule %s field %s: type=%q negate=%q, want a plain OS_Regex field", id, field.Name, field.Type, field.Negate)
			}
			if _, err := compileOSRegex(field.Regex); err != nil {
				t.Errorf("rule %s field %s: %v", id, field.Name, err)
			}
		}
		if id == baseRule {
			if r.DecodedAs != "json" || r.IfSID != "" {
				t.Errorf("rule %s: decoded_as %q, if_sid %q; want json and no parent", id, r.DecodedAs, r.IfSID)
			}
			continue
		}
		if _, ok := own[r.IfSID]; !ok {
			t.Errorf("rule %s: if_sid %q is not one of our rules", id, r.IfSID)
		}
	}
}

func TestOwnRuleLevels(t *testing.T) {
	own := ownRules(loadRules(t))

	for id, r := range own {
		groups := r.groups()
		want := "3"
		switch {
		case slices.Contains(groups, "misp_error"):
			want = "5"
		case slices.Contains(groups, "misp_alert"):
			want = "12"
		case id != baseRule:
			t.Errorf("rule %s groups %v, want misp_error or misp_alert", id, groups)
		}
		if r.Level != want {
			t.Errorf("rule %s level %s, want %s", id, r.Level, want)
		}
	}
	for _, id := range []string{errorRule, breakerRule} {
		if !slices.Contains(own[id].groups(), "misp_error") {
			t.Errorf("rule %s groups %v, want misp_error", id, own[id].groups())
		}
	}
	for _, id := range []string{matchRule, dnsRule, delayedRule, hashRule} {
		if !slices.Contains(own[id].groups(), "misp_alert") {
			t.Errorf("rule %s groups %v, want misp_alert", id, own[id].groups())
		}
	}
	want := "MISP IoC match detected: $(misp.value) [Category: $(misp.category)]"
	if got := own[matchRule].Description; got != want {
		t.Errorf("rule %s description %q, want %q", matchRule, got, want)
	}
}

// sysmonRules are the stock Sysmon rules the opt-in file raises, with the
// event id each matches and its group name in Wazuh 4.x.
var sysmonRules = map[string]struct{ eventID, group string }{
	"61603": {"1", "sysmon_event1"},
	"61605": {"3", "sysmon_event3"},
	"61608": {"6", "sysmon_event6"},
	"61609": {"7", "sysmon_event7"},
	"61617": {"15", "sysmon_event_15"},
	"61650": {"22", "sysmon_event_22"},
}

func TestSysmonOverwrites(t *testing.T) {
	var found []string
	for _, r := range loadRules(t) {
		if r.own() {
			continue
		}
		found = append(found, r.ID)
		want, ok := sysmonRules[r.ID]
		if !ok {
			t.Errorf("rule %s in %s overwrites a stock rule this project does not need", r.ID, r.file)
			continue
		}
		if r.Level != "3" || r.IfSID != "61600" {
			t.Errorf("rule %s: level %s, if_sid %s; want 3 and 61600", r.ID, r.Level, r.IfSID)
		}
		wantField := ruleField{Name: "win.system.eventID", Regex: "^" + want.eventID + "$"}
		if len(r.Fields) != 1 || r.Fields[0] != wantField {
			t.Errorf("rule %s fields %+v, want only %+v", r.ID, r.Fields, wantField)
		}
		if len(r.Groups) != 1 || r.Groups[0] != want.group+"," {
			t.Errorf("rule %s group %q, want %q", r.ID, r.Groups, want.group+",")
		}
		if r.parentGroup != "windows,sysmon," {
			t.Errorf("rule %s sits in group %q, want windows,sysmon,", r.ID, r.parentGroup)
		}
		if !strings.HasPrefix(r.Description, "Sysmon - Event "+want.eventID+": ") {
			t.Errorf("rule %s description %q, want the stock one", r.ID, r.Description)
		}
	}
	if len(found) != len(sysmonRules) {
		t.Errorf("overwritten rules %v, want all of 61603, 61605, 61608, 61609, 61617, 61650", found)
	}
}

// TestSysmonOverwritesMatchFixtures routes the decoded data of real Sysmon
// events through the overwrite rules, as if stock rule 61600 had matched.
func TestSysmonOverwritesMatchFixtures(t *testing.T) {
	var overwrites []rule
	for _, r := range loadRules(t) {
		if !r.own() {
			overwrites = append(overwrites, r)
		}
	}
	tests := []struct {
		fixture string

		want string
	}{
		{"alerts/win_sysmon1_event_data.json", "61603"},
		{"alerts/win_sysmon3_private_ipv4_event_data.json", "61605"},
		{"alerts/win_sysmon6_event_data.json", "61608"},
		{"alerts/win_sysmon7_event_data.json", "61609"},
		{"alerts/win_sysmon15_event_data.json", "61617"},
		{"alerts/win_sysmon22_event_data.json", "61650"},
		{"alerts/win_sysmon_eid255_dnsquery_ipv4mapped_event_data.json", ""},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.fixture), func(t *testing.T) {
			fields := flattenEvent(t, readFixture(t, tc.fixture))

			var got []string
			for _, r := range overwrites {
				if ruleMatches(r, fields) {
					got = append(got, r.ID)
				}
			}

			if want := []string{tc.want}; tc.want == "" && len(got) > 0 || tc.want != "" && !slices.Equal(got, want) {
				t.Errorf("matching rules %v, want %q", got, tc.want)
			}
			if tc.want == "" {
				return
			}
			if severity := fields["win.system.severityValue"]; severity != "INFORMATION" {
				t.Errorf("severityValue %q, so stock rule 61600 would not match", severity)
			}
		})
	}
}

// sample is an event the program sends. Its kind comes from the file name,
// or for a golden datagram from whether it has misp.error.kind.
type sample struct {
	name   string
	kind   string // "match" or "error"
	fields map[string]string
}

// loadSamples reads testdata/events/{match,error}_*.json and the datagrams
// of the end-to-end golden files of cmd/custom-misp, when present.
func loadSamples(t *testing.T) []sample {
	t.Helper()
	var samples []sample
	for _, kind := range []string{"match", "error"} {
		paths, err := filepath.Glob(filepath.Join("testdata", "events", kind+"_*.json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range paths {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			samples = append(samples, sample{name: path, kind: kind, fields: flattenEvent(t, data)})
		}
	}

	goldens, err := filepath.Glob(filepath.Join("..", "cmd", "custom-misp", "testdata", "golden", "*.golden"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range goldens {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range bytes.Split(data, []byte("\n")) {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			name := fmt.Sprintf("%s:%d", path, i+1)
			payload, ok := datagramPayload(line)
			if !ok {
				t.Errorf("%s is not a queue datagram 1:<location>:<json>", name)
				continue
			}
			fields := flattenEvent(t, payload)
			kind := "match"
			if _, isError := fields["misp.error.kind"]; isError {
				kind = "error"
			}
			samples = append(samples, sample{name: name, kind: kind, fields: fields})
		}
	}

	if len(samples) == 0 {
		t.Fatal("no sample events: want testdata/events/{match,error}_*.json or cmd/custom-misp golden datagrams")
	}
	return samples
}

// datagramPayload returns the JSON of a queue datagram "1:<location>:<json>".
// As analysisd does, it cuts at the first ":" after "1:" that no "|"
// escapes, and a "|" escapes whatever byte follows it.
func datagramPayload(line []byte) ([]byte, bool) {
	if !bytes.HasPrefix(line, []byte("1:")) {
		return nil, false
	}
	rest := line[2:]
	escaped := false
	for i, c := range rest {
		switch {
		case escaped:
			escaped = false
		case c == '|':
			escaped = true
		case c == ':':
			return rest[i+1:], true
		}
	}
	return nil, false
}

// wantRule is the rule each sample must end in, by what the event holds.
func wantRule(s sample) string {
	f := s.fields
	switch {
	case s.kind == "error" && f["misp.error.kind"] == "breaker_open":
		return breakerRule
	case s.kind == "error":
		return errorRule
	case f["misp.delayed"] == "true":
		return delayedRule
	case f["misp.source.query"] != "":
		return dnsRule
	case slices.Contains([]string{"md5", "sha1", "sha256"}, f["misp.ioc_kind"]):
		return hashRule
	}
	return matchRule
}

func TestSampleRouting(t *testing.T) {
	rules := loadRules(t)
	own := ownRules(rules)
	tree := buildTree(rules)

	fired := make(map[string]bool)
	for _, s := range loadSamples(t) {
		t.Run(s.name, func(t *testing.T) {
			path := tree.match(s.fields)
			for _, id := range path {
				fired[id] = true
			}
			final := ""
			if len(path) > 0 {
				final = path[len(path)-1]
			}

			if want := wantRule(s); final != want {
				t.Errorf("event ends in rule %q (path %v), want %s", final, path, want)
			}
			switch s.kind {
			case "match":
				if slices.Contains(path, errorRule) {
					t.Errorf("match event fired error rule %s (path %v)", errorRule, path)
				}
				if !slices.Contains(path, matchRule) {
					t.Errorf("match event missed rule %s (path %v)", matchRule, path)
				}
			case "error":
				if slices.Contains(path, matchRule) {
					t.Errorf("error event fired match rule %s (path %v)", matchRule, path)
				}
				if !slices.Contains(path, errorRule) {
					t.Errorf("error event missed rule %s (path %v)", errorRule, path)
				}
			}

			// Every field a description names must be in every event that
			// fires the rule, or the alert shows "$(field)" literally.
			for _, id := range path {
				for _, name := range descriptionFields(own[id].Description) {
					if _, ok := s.fields[name]; !ok {
						t.Errorf("rule %s names $(%s), which this event lacks", id, name)
					}
				}
			}
		})
	}

	for id := range own {
		if !fired[id] {
			t.Errorf("rule %s fired for no sample event: its fields may not exist in the events it targets", id)
		}
	}
}

// TestSamplesMatchEncoderGoldens keeps testdata/events in step with the
// encoder golden files, which are the source of truth for the wire format.
func TestSamplesMatchEncoderGoldens(t *testing.T) {
	goldens, err := filepath.Glob(filepath.Join("..", "internal", "event", "testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(goldens) == 0 {
		t.Fatal("no golden files in internal/event/testdata")
	}
	for _, golden := range goldens {
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		sample := filepath.Join("testdata", "events", filepath.Base(golden))
		got, err := os.ReadFile(sample)
		if err != nil {
			t.Errorf("%v: copy %s here", err, golden)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s: copy the golden file here", sample, golden)
		}
	}
}

var descriptionField = regexp.MustCompile(`\$\(([^)]+)\)`)

func descriptionFields(description string) []string {
	var names []string
	for _, m := range descriptionField.FindAllStringSubmatch(description, -1) {
		names = append(names, m[1])
	}
	return names
}

// ruleTree models how analysisd picks the rule for a decoded event: it tries
// the rules without a parent in file order, and on a match tries that rule's
// children (the rules whose if_sid names it) in file order, recursively. The
// event gets the deepest rule on the first matching branch.
type ruleTree struct {
	roots    []rule
	children map[string][]rule
}

// buildTree builds the tree of our rules, keeping the file order of rules.
func buildTree(rules []rule) ruleTree {
	tree := ruleTree{children: make(map[string][]rule)}
	for _, r := range rules {
		switch {
		case !r.own():
		case r.IfSID == "":
			tree.roots = append(tree.roots, r)
		default:
			tree.children[r.IfSID] = append(tree.children[r.IfSID], r)
		}
	}
	return tree
}

// match returns the ids of the rules on the matched branch, root first, or
// nil when no rule matches.
func (tree ruleTree) match(fields map[string]string) []string {
	for _, r := range tree.roots {
		if path := tree.descend(r, fields); path != nil {
			return path
		}
	}
	return nil
}

func (tree ruleTree) descend(r rule, fields map[string]string) []string {
	if !ruleMatches(r, fields) {
		return nil
	}
	for _, child := range tree.children[r.ID] {
		if path := tree.descend(child, fields); path != nil {
			return append([]string{r.ID}, path...)
		}
	}
	return []string{r.ID}
}

// ruleMatches reports whether every <field> of r matches the event. The
// samples are all json-decoded, so decoded_as needs no check here.
func ruleMatches(r rule, fields map[string]string) bool {
	for _, field := range r.Fields {
		value, ok := fields[field.Name]
		if !ok {
			return false
		}
		re, err := compileOSRegex(field.Regex)
		if err != nil || !re.MatchString(value) {
			return false
		}
	}
	return true
}
