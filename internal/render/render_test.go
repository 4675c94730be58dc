package render

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/alert"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/testfixture"
)

// repoRoot returns the directory holding go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	return testfixture.RepoRoot(t)
}

// fixture returns the path of a shared alert fixture.
func fixture(t testing.TB, name string) string {
	t.Helper()
	return testfixture.Path(t, "alerts", name)
}

func loadAlert(t testing.TB, path string) *alert.Alert {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := alert.Decode(data)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return a
}

// shipped returns the templates in the repository's templates directory.
func shipped(t testing.TB) map[string]*Template {
	t.Helper()
	out := map[string]*Template{}
	for _, name := range []string{"misp_alert.en.md.tmpl", "misp_alert.th.md.tmpl"} {
		tmpl, err := ParseFile(filepath.Join(repoRoot(t), "templates", name))
		if err != nil {
			t.Fatal(err)
		}
		out[name] = tmpl
	}
	return out
}

// checkMessage asserts what every message from a shipped template must
// satisfy.
func checkMessage(t *testing.T, m Message) Parsed {
	t.Helper()
	if m.Err != nil {
		t.Fatalf("render error: %v", m.Err)
	}
	if err := CheckMarkdownV2(m.Text); err != nil {
		t.Fatalf("CheckMarkdownV2: %v\ntext:\n%s", err, m.Text)
	}
	parsed, err := ParseMarkdownV2(m.Text)
	if err != nil {
		t.Fatal(err)
	}
	if n := utf8.RuneCountInString(parsed.Text); n > MaxTextRunes {
		t.Errorf("visible text has %d runes, limit %d", n, MaxTextRunes)
	}
	if len(m.Text) > MaxTextBytes {
		t.Errorf("raw text has %d bytes, limit %d", len(m.Text), MaxTextBytes)
	}
	if strings.Contains(m.Text, "<no value>") || strings.Contains(m.Plain, "<no value>") {
		t.Errorf("message contains <no value>:\n%s", m.Text)
	}
	if utf8.RuneCountInString(m.Plain) > MaxTextRunes || len(m.Plain) > MaxTextBytes {
		t.Errorf("plain text exceeds the limits: %d bytes", len(m.Plain))
	}
	for _, text := range []string{m.Text, m.Plain} {
		if i := strings.IndexFunc(text, isHiddenFormat); i >= 0 {
			t.Errorf("message contains format character %U at byte %d: %q", []rune(text[i:])[0], i, text)
		}
	}
	return parsed
}

// isHiddenFormat reports a format character (Unicode category Cf) other
// than the zero width joiner, which emoji sequences keep.
func isHiddenFormat(r rune) bool {
	return unicode.Is(unicode.Cf, r) && r != '\u200d'
}

func TestRenderFixtures(t *testing.T) {
	tests := []struct {
		name string
		path string

		want []string // in the visible text of every template
	}{
		{"linux sysmon3", fixture(t, "misp_result_from_linux_sysmon3_alert.json"),
			[]string{"95.154.195.159", "ip-dst", "Network activity", "linux-host01", "017", "1641979764.292099908"}},
		{"win sysmon22", fixture(t, "misp_result_from_win_sysmon22_alert.json"),
			[]string{"detail43.myfirewall.org", "hostname", "WIN-HOST02", "Attribute: detail43.myfirewall.org"}},
		{"full 920100", filepath.Join("testdata", "alert_920100_full.json"),
			[]string{"185.220.101.42", "Tor exit nodes (daily feed)", "tlp:amber", "data.win.eventdata.destinationIp", "92101", "Seen in C2 traffic (campaign Q1-2026)"}},
	}
	for name, tmpl := range shipped(t) {
		for _, tc := range tests {
			t.Run(name+"/"+tc.name, func(t *testing.T) {
				d := NewData(loadAlert(t, tc.path), "https://misp.example.org")

				parsed := checkMessage(t, tmpl.Render(d))

				for _, want := range tc.want {
					if !strings.Contains(parsed.Text, want) {
						t.Errorf("visible text lacks %q:\n%s", want, parsed.Text)
					}
				}
				links := 0
				for _, e := range parsed.Entities {
					if e.Type == EntityTextLink {
						links++
						if e.URL != d.MISP.EventLink {
							t.Errorf("link URL = %q, want %q", e.URL, d.MISP.EventLink)
						}
					}
				}
				if links != 1 {
					t.Errorf("found %d links, want 1 (the MISP event)", links)
				}
			})
		}
	}
}

func TestRenderEmptyData(t *testing.T) {
	for name, tmpl := range shipped(t) {
		t.Run(name, func(t *testing.T) {
			parsed := checkMessage(t, tmpl.Render(&Data{}))

			if !strings.Contains(parsed.Text, "-") {
				t.Errorf("missing values are not shown as '-':\n%s", parsed.Text)
			}
			if strings.Contains(parsed.Text, "suppressed") || strings.Contains(parsed.Text, "ระงับ") {
				t.Errorf("suppressed note shown with zero counts:\n%s", parsed.Text)
			}
		})
	}
}

// hostileValues are alert values meant to break markup, escaping or limits.
var hostileValues = map[string]string{
	"specials":     "_*[]()~`>#+-=|{}.!",
	"backslashes":  `C:\Windows\System32\evil_x.exe \\server\share\ \` + "`",
	"html":         `<script>alert("x")</script> &amp; <b>`,
	"markup":       "*bold* _it_ __u__ ~s~ ||sp|| `code` ```pre``` [l](https://x.example) ![e](tg://emoji?id=1)",
	"command line": strings.Repeat(`powershell.exe -enc "JAB..." | iex; `, 300),
	"invalid utf8": "bad\xff\xfe bytes \xc3( \xed\xa0\x80 end",
	"line breaks":  "line1\nline2\r\n>quote\n```\n",
	"thai":         "ทดสอบ 🚨 ไฟล์.exe",
	"bidi":         "\u202eexe.txt \u2066x\u2069 \u200ez\u200f \u202a\u202b\u202c\u202d",
	"invisible":    "a\u200bb\u200cc\u200dd\ufeffe\u00adf\u2060g\U000e0041h",
}

func hostileData(value string) *Data {
	d := &Data{}
	for _, p := range d.fields() {
		*p = value
	}
	d.Rule.Groups = []string{value, value}
	d.MISP.Tags = []string{value, "tlp:red"}
	d.MISP.Delayed = true
	d.MISP.EventLink = "https://misp.example.org/events/view/1"
	d.Suppressed = NewSuppressed(4, 3, time.Date(2026, 3, 14, 9, 5, 0, 0, time.UTC))
	d.Sanitize()
	return d
}

func TestRenderHostileValues(t *testing.T) {
	for name, tmpl := range shipped(t) {
		for valueName, value := range hostileValues {
			t.Run(name+"/"+valueName, func(t *testing.T) {
				parsed := checkMessage(t, tmpl.Render(hostileData(value)))

				prefix, _ := cutRunes(clean(value), minValueRunes)
				prefix = strings.TrimSuffix(prefix, "…")
				if !strings.Contains(parsed.Text, prefix) {
					t.Errorf("visible text lacks the value's start %q:\n%s", prefix, parsed.Text)
				}
				if !strings.Contains(parsed.Text, "+7 ") {
					t.Errorf("visible text lacks the suppressed count +7:\n%s", parsed.Text)
				}
			})
		}
	}
}

func TestRenderSuppressedNote(t *testing.T) {
	tmpl := shipped(t)["misp_alert.en.md.tmpl"]
	d := &Data{Suppressed: NewSuppressed(3, 2, time.Date(2026, 3, 14, 9, 5, 59, 0, time.FixedZone("ICT", 7*3600)))}

	parsed := checkMessage(t, tmpl.Render(d))

	want := "+5 similar alerts suppressed since 02:05 UTC (3 repeated, 2 over the rate limit)"
	if !strings.Contains(parsed.Text, want) {
		t.Errorf("visible text lacks %q:\n%s", want, parsed.Text)
	}
}

func TestRenderShortensValues(t *testing.T) {
	// Twenty values of 1000 runes are 6000 runes even when each is cut to
	// MaxValueRunes, so the message fits only after further rounds.
	var src strings.Builder
	for _, field := range []string{
		".Alert.ID", ".Alert.Time", ".Alert.Location", ".Alert.Manager", ".Rule.Description",
		".Agent.Name", ".Agent.IP", ".MISP.EventInfo", ".MISP.Category", ".MISP.Type",
		".MISP.Value", ".MISP.Comment", ".Source.AlertID", ".Source.AlertTime", ".Source.RuleDescription",
		".Source.Agent.Name", ".Source.Agent.IP", ".Source.Field", ".Source.Query", ".MISP.EventUUID",
	} {
		src.WriteString("`{{code " + field + "}}`\n")
	}
	tmpl, err := Parse("t", src.String())
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("é", 1000)
	d := &Data{}
	for _, p := range d.fields() {
		*p = long
	}

	m := tmpl.Render(d)

	parsed := checkMessage(t, m)
	if !m.Shortened {
		t.Error("Shortened = false, want true")
	}
	if n := utf8.RuneCountInString(parsed.Text); n < MaxTextRunes/2 {
		t.Errorf("visible text has %d runes: shortened far more than needed", n)
	}
	if !strings.Contains(parsed.Text, "é…") {
		t.Errorf("cut values do not end in …")
	}
	if len(d.MISP.Value) != len(long) {
		t.Error("Render modified its input")
	}
}

func TestRenderManyTags(t *testing.T) {
	base := NewData(loadAlert(t, filepath.Join("testdata", "alert_920100_full.json")), "https://misp.example.org")
	tags := make([]string, 5000)
	for i := range tags {
		tags[i] = fmt.Sprintf("feed:tag-%04d", i)
	}
	for name, tmpl := range shipped(t) {
		t.Run(name, func(t *testing.T) {
			d := *base
			d.MISP.Tags = tags

			m := tmpl.Render(&d)

			parsed := checkMessage(t, m)
			if !m.Shortened {
				t.Error("Shortened = false, want true")
			}
			kept := strings.Count(parsed.Text, "feed:tag-")
			if kept == 0 {
				t.Fatalf("no tag shown:\n%s", parsed.Text)
			}
			more := fmt.Sprintf("… (+%d more)", len(tags)-kept)
			if !strings.Contains(parsed.Text, more) {
				t.Errorf("visible text lacks %q:\n%s", more, parsed.Text)
			}
			// The alert id is on the last line, after the tags.
			for _, text := range []string{parsed.Text, m.Plain} {
				if !strings.Contains(text, "1773480413.1048576") {
					t.Errorf("text lost the lines after the tags:\n%s", text)
				}
			}
			if len(d.MISP.Tags) != len(tags) {
				t.Error("Render modified its input")
			}
		})
	}
}

func TestShortenList(t *testing.T) {
	tests := []struct {
		name  string
		list  []string
		limit int

		want []string
		cut  bool
	}{
		{"fits", []string{"a", "b"}, 10, []string{"a", "b"}, false},
		{"exactly fits", []string{"aaaa", "bbbb"}, 10, []string{"aaaa", "bbbb"}, false},
		{"too many", []string{"aaaa", "bbbb", "cccc", "dddd", "eeee"}, 25, []string{"aaaa", "bbbb", "… (+3 more)"}, true},
		{"first item kept", []string{"aaaaaaaaaa", "b"}, 10, []string{"aaaaaaaaaa", "… (+1 more)"}, true},
		{"empty", nil, 10, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, cut := shortenList(tc.list, tc.limit)

			if !slices.Equal(got, tc.want) {
				t.Errorf("shortenList = %q, want %q", got, tc.want)
			}
			if cut != tc.cut {
				t.Errorf("cut = %v, want %v", cut, tc.cut)
			}
		})
	}
}

func TestRenderTemplateProblems(t *testing.T) {
	tests := []struct {
		name string
		src  string

		want error
	}{
		{"unescaped dot", "Alert. {{md .Rule.ID}}", nil},
		{"too long", strings.Repeat("a", MaxTextRunes+1), ErrTooLong},
		{"empty", "  {{/* nothing */}}\n", ErrEmpty},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := Parse("t", tc.src)
			if err != nil {
				t.Fatal(err)
			}
			d := &Data{Rule: RuleInfo{ID: "920100", Description: "MISP match"}, MISP: MISP{Value: "1.2.3.4"}}

			m := tmpl.Render(d)

			if m.Err == nil {
				t.Fatal("Err = nil, want an error")
			}
			if tc.want != nil && !errors.Is(m.Err, tc.want) {
				t.Errorf("Err = %v, want %v", m.Err, tc.want)
			}
			if tc.want != ErrTooLong && !strings.Contains(m.Plain, "1.2.3.4") {
				t.Errorf("Plain lacks the indicator: %q", m.Plain)
			}
			if n := utf8.RuneCountInString(m.Plain); n == 0 || n > MaxTextRunes {
				t.Errorf("Plain has %d runes", n)
			}
		})
	}
}

func TestRenderPlainLinks(t *testing.T) {
	tmpl, err := Parse("t", "*Event:* [{{md .MISP.EventID}}]({{url .MISP.EventLink}}) \\- {{md .MISP.Value}}")
	if err != nil {
		t.Fatal(err)
	}
	d := &Data{MISP: MISP{EventID: "25", EventLink: "https://misp.example/events/view/25", Value: "a_b"}}

	m := tmpl.Render(d)

	want := "Event: 25 (https://misp.example/events/view/25) - a_b"
	if m.Plain != want {
		t.Errorf("Plain = %q, want %q", m.Plain, want)
	}
}

func TestParseFileErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		src  string

		want []string
	}{
		{"syntax", "line one\n{{md .Rule.ID", []string{"bad.tmpl", ":2:"}},
		{"unknown field", "ok\n{{md .Rule.Nope}}", []string{"bad.tmpl", ":2:", "Nope"}},
		{"unknown function", "{{html .Rule.ID}}x{{shout 1}}", []string{"bad.tmpl", "shout"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "bad.tmpl")
			if err := os.WriteFile(path, []byte(tc.src), 0o600); err != nil {
				t.Fatal(err)
			}

			_, err := ParseFile(path)

			if err == nil {
				t.Fatal("ParseFile = nil error, want one")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}

	if _, err := ParseFile(filepath.Join(dir, "missing.tmpl")); err == nil || !strings.Contains(err.Error(), "telegram.template") {
		t.Errorf("missing file: error = %v, want one naming telegram.template", err)
	}
}

func TestClean(t *testing.T) {
	tests := []struct {
		name string
		in   string

		want string
	}{
		{"right-to-left override", "\u202eexe.txt", "exe.txt"},
		{"bidi embeddings", "\u202aa\u202bb\u202cc\u202dd", "abcd"},
		{"bidi isolates", "\u2066a\u2067b\u2068c\u2069", "abc"},
		{"bidi marks", "\u200ea\u200fb", "ab"},
		{"zero width", "a\u200bb\u200cc\u200dd", "abcd"},
		{"byte order mark", "\ufeffevil.exe", "evil.exe"},
		{"soft hyphen", "ad\u00admin", "admin"},
		{"tag characters", "a\U000e0041\U000e007fb", "ab"},
		{"emoji joiner kept", "👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"},
		{"joiner after variation selector", "🏳\ufe0f\u200d🌈", "🏳\ufe0f\u200d🌈"},
		{"joiner after skin tone", "👩🏽\u200d💻", "👩🏽\u200d💻"},
		{"joiner before letter", "👨\u200dx", "👨x"},
		{"joiner at the end", "👨\u200d", "👨"},
		{"control characters", "a\nb\tc\u2028d", "a b c d"},
		{"invalid UTF-8 with override", "\xff\u202ex", "\ufffdx"},
		{"plain", "1.2.3.4", "1.2.3.4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := clean(tc.in); got != tc.want {
				t.Errorf("clean(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestNewData(t *testing.T) {
	d := NewData(loadAlert(t, filepath.Join("testdata", "alert_920100_full.json")), "https://misp.example.org")

	checks := []struct {
		name      string
		got, want string
	}{
		{"alert id", d.Alert.ID, "1773480413.1048576"},
		{"rule level as written", d.Rule.Level, "12"},
		{"rule id", d.Rule.ID, "920100"},
		{"value", d.MISP.Value, "185.220.101.42"},
		{"event link from alert", d.MISP.EventLink, "https://misp.example.org/events/view/1452"},
		{"tag with quotes", d.MISP.Tags[1], `misp-galaxy:threat-actor="APT-X"`},
		{"source rule level", d.Source.RuleLevel, "10"},
		{"source agent", d.Source.Agent.Name, "WIN-HOST01"},
		{"source field", d.Source.Field, "data.win.eventdata.destinationIp"},
		{"groups", strings.Join(d.Rule.Groups, ","), "misp,misp_match,ids"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if !d.MISP.Delayed {
		t.Error("Delayed = false, want true")
	}
}

func TestEventLink(t *testing.T) {
	const base = "https://misp.example.org"
	tests := []struct {
		name                string
		fromAlert, base, id string

		want string
	}{
		{"configured host", "https://misp.example.org/events/view/7", base, "1", "https://misp.example.org/events/view/7"},
		{"host case differs", "https://MISP.example.org/events/view/7", base, "1", "https://MISP.example.org/events/view/7"},
		{"user info", "https://user:pw@evil.example/events/view/7", base, "1", "https://misp.example.org/events/view/1"},
		{"user info same host", "https://user:pw@misp.example.org/events/view/7", base, "1", "https://misp.example.org/events/view/1"},
		{"look-alike host", "https://misp.exаmple.org/events/view/7", base, "1", "https://misp.example.org/events/view/1"},
		{"punycode host", "https://misp.xn--exmple-4nf.org/events/view/7", base, "1", "https://misp.example.org/events/view/1"},
		{"kelvin sign host", "https://\u212aey.example/", "https://key.example", "1", "https://key.example/events/view/1"},
		{"other host", "https://evil.example/events/view/7", base, "1", "https://misp.example.org/events/view/1"},
		{"other scheme", "http://misp.example.org/events/view/7", base, "1", "https://misp.example.org/events/view/1"},
		{"other port", "https://misp.example.org:8443/events/view/7", base, "1", "https://misp.example.org/events/view/1"},
		{"other host and no id", "https://evil.example/events/view/7", base, "", ""},
		{"base with path", "https://misp.example.org/misp/events/view/7", "https://misp.example.org/misp/", "7", "https://misp.example.org/misp/events/view/7"},
		{"base plus id", "", "https://misp.example/", "25", "https://misp.example/events/view/25"},
		{"id not digits", "", base, "1/../x y", ""},
		{"id negative", "", base, "-1", ""},
		{"alert link not web", "javascript:x", base, "2", "https://misp.example.org/events/view/2"},
		{"no id", "", base, "", ""},
		{"no base", "https://misp.example.org/events/view/7", "", "3", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := eventLink(tc.fromAlert, tc.base, tc.id); got != tc.want {
				t.Errorf("eventLink = %q, want %q", got, tc.want)
			}
		})
	}
}

// FuzzRender fills every value with the fuzzed string and renders the
// shipped templates. The output must pass the strict checker, fit the
// limits, show the start of the value, and have exactly the entities it
// has with a harmless value that is empty when the cleaned value is, so that
// no value adds or removes markup.
func FuzzRender(f *testing.F) {
	f.Add("1.2.3.4")                          // an ordinary indicator
	f.Add("")                                 // every value missing
	f.Add("_*[]()~`>#+-=|{}.!\\")             // every reserved character
	f.Add(`C:\Users\x\AppData\evil_x.exe`)    // backslashes before letters
	f.Add("```\ncode\n```")                   // a pre block with line breaks
	f.Add("a\xffb\xc3(")                      // invalid UTF-8
	f.Add(strings.Repeat("🚨x", 400))          // long, with surrogate pairs
	f.Add("[l](https://x.example/a)b) ||s||") // a link and a spoiler
	f.Add("\u202eexe.txt\u200d\ufeff")        // format characters that hide or reorder text
	f.Add("👨\u200d👩 \u200d")                  // a joiner inside an emoji and a lone one
	f.Add("\u202e")                           // a value that is empty once cleaned

	templates := shipped(f)
	f.Fuzz(func(t *testing.T, value string) {
		neutral := "x"
		if clean(value) == "" {
			neutral = ""
		}
		for name, tmpl := range templates {
			m := tmpl.Render(hostileData(value))
			parsed := checkMessage(t, m)
			want := tmpl.Render(hostileData(neutral))
			wantParsed, _ := ParseMarkdownV2(want.Text)

			prefix, _ := cutRunes(clean(value), minValueRunes)
			prefix = strings.TrimSuffix(prefix, "…")
			if !strings.Contains(parsed.Text, prefix) {
				t.Fatalf("%s: visible text lacks %q", name, prefix)
			}
			if len(parsed.Entities) != len(wantParsed.Entities) {
				t.Fatalf("%s: %d entities, want %d:\n%s", name, len(parsed.Entities), len(wantParsed.Entities), m.Text)
			}
			for i, e := range parsed.Entities {
				if e.Type != wantParsed.Entities[i].Type {
					t.Fatalf("%s: entity %d is %s, want %s", name, i, e.Type, wantParsed.Entities[i].Type)
				}
			}
		}
	})
}

func BenchmarkRender(b *testing.B) {
	tmpl := shipped(b)["misp_alert.en.md.tmpl"]
	d := NewData(loadAlert(b, filepath.Join("testdata", "alert_920100_full.json")), "")
	b.ReportAllocs()
	for b.Loop() {
		if m := tmpl.Render(d); m.Err != nil {
			b.Fatal(m.Err)
		}
	}
}

func TestParseFileRejectsFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo.tmpl")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)

	go func() {
		_, err := ParseFile(path)
		done <- err
	}()

	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("error = %v, want a not-a-regular-file error", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("ParseFile blocked on a FIFO")
	}
}
