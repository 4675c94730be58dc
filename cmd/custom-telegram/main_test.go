package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/integratord"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/render"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/standin"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/storm"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/telegram"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/testfixture"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const (
	testToken  = "987654321:AAF-e2e_secret_TOKEN_value_0123456789"
	testChatID = "-1001234567890"
)

// binary is the program built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "custom-telegram-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "custom-telegram")
	build := exec.Command("go", "build", "-ldflags", "-X main.version=e2e-test", "-o", binary, ".")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// argv layouts of each integratord version, with argv[0] "integrations".
var layouts = []struct {
	name string
	argv func(alert string) []string
}{
	{"4.3", func(a string) []string { return []string{"integrations", a, "", "", " > /dev/null 2>&1"} }},
	{"4.7", func(a string) []string { return []string{"integrations", a, "", "", "", "", "> /dev/null 2>&1"} }},
	{"4.7 debug", func(a string) []string { return []string{"integrations", a, "", "", "debug", ""} }},
	{"4.8", func(a string) []string {
		return []string{"integrations", a, "", "", "", "", "10", "3", "> /dev/null 2>&1"}
	}},
}

var layout48 = layouts[3].argv

// home is a Wazuh home in a temp dir with the program installed.
type home struct {
	t   *testing.T
	dir string
	bot *standin.BotAPI
}

// settings are the [telegram] keys of the test config, as TOML values.
type settings map[string]string

func defaultSettings(bot *standin.BotAPI) settings {
	return settings{
		"bot_token":       `"` + testToken + `"`,
		"chat_id":         testChatID,
		"api_url":         `"` + bot.URL() + `"`,
		"timeout":         `"2s"`,
		"budget":          `"5s"`,
		"rule_ids":        `[]`,
		"rate_per_minute": `20`,
		"burst":           `5`,
		"dedupe_window":   `"10m"`,
		"max_pending":     `20`,
	}
}

// newHome lays out <home>/integrations/custom-telegram,
// <home>/etc/misp-telegram.toml (mode 0640), the templates, <home>/logs and
// <home>/var, with a Bot API stand-in.
func newHome(t *testing.T, change func(settings)) *home {
	t.Helper()
	h := &home{t: t, dir: t.TempDir(), bot: standin.NewBotAPI()}
	t.Cleanup(h.bot.Close)
	for _, sub := range []string{"integrations", "etc/misp-telegram/templates", "logs", "var", "tmp"} {
		if err := os.MkdirAll(filepath.Join(h.dir, sub), 0o750); err != nil {
			t.Fatal(err)
		}
	}
	// A hard link, not a copy: a file this process just wrote may still be
	// open for writing in a child forked by a parallel test, and exec of
	// such a file fails with "text file busy" (ETXTBSY).
	if err := os.Link(binary, filepath.Join(h.dir, "integrations", "custom-telegram")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"misp_alert.en.md.tmpl", "misp_alert.th.md.tmpl"} {
		copyFile(t, filepath.Join(repoRoot(t), "templates", name), filepath.Join(h.dir, "etc/misp-telegram/templates", name), 0o640)
	}

	s := defaultSettings(h.bot)
	if change != nil {
		change(s)
	}
	h.writeConfig(s)
	return h
}

func (h *home) writeConfig(s settings) {
	h.t.Helper()
	var b strings.Builder
	b.WriteString("[misp]\nurl = \"https://misp.example.org\"\n\n[telegram]\n")
	for _, key := range slices.Sorted(func(yield func(string) bool) {
		for k := range s {
			if !yield(k) {
				return
			}
		}
	}) {
		fmt.Fprintf(&b, "%s = %s\n", key, s[key])
	}
	path := filepath.Join(h.dir, "etc", "misp-telegram.toml")
	if err := os.WriteFile(path, []byte(b.String()), 0o640); err != nil {
		h.t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		h.t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, mode); err != nil {
		t.Fatal(err)
	}
}

// repoRoot returns the directory holding go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	return testfixture.RepoRoot(t)
}

// fixture returns a shared alert fixture.
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	return testfixture.Read(t, "alerts", name)
}

func testdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// writeAlert writes alert JSON as integratord does: one line.
func (h *home) writeAlert(name string, alertJSON []byte) string {
	h.t.Helper()
	var line bytes.Buffer
	if err := json.Compact(&line, alertJSON); err != nil {
		line.Reset()
		line.Write(alertJSON)
	}
	line.WriteByte('\n')
	path := filepath.Join(h.dir, "tmp", name+".alert")
	if err := os.WriteFile(path, line.Bytes(), 0o644); err != nil {
		h.t.Fatal(err)
	}
	return path
}

// result is one run of the program.
type result struct {
	status         int
	stdout, stderr string
	elapsed        time.Duration
}

// run starts the installed program with argv, from the Wazuh home, with no
// Wazuh or proxy variables in the environment.
func (h *home) run(argv []string) result {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(h.dir, "integrations", "custom-telegram"))
	cmd.Args = argv
	cmd.Dir = h.dir
	cmd.Env = cleanEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr

	start := time.Now()
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start)}
	if exitErr, ok := err.(*exec.ExitError); ok {
		r.status = exitErr.ExitCode()
	} else if err != nil {
		h.t.Fatalf("run %v: %v", argv, err)
	}
	return r
}

// runAlert writes an alert and runs the program with the 4.8 layout.
func (h *home) runAlert(name string, alertJSON []byte) result {
	h.t.Helper()
	return h.run(layout48(h.writeAlert(name, alertJSON)))
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		key, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(key) {
		case "WAZUH_HOME", "MISP_TELEGRAM_CONFIG", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY":
			continue
		}
		env = append(env, kv)
	}
	return env
}

func (h *home) log() string {
	h.t.Helper()
	data, err := os.ReadFile(filepath.Join(h.dir, "logs", "integrations.log"))
	if err != nil && !os.IsNotExist(err) {
		h.t.Fatal(err)
	}
	return string(data)
}

// editState changes the storm state as a later clock would see it.
func (h *home) editState(fn func(*storm.Chat)) {
	h.t.Helper()
	store := storm.NewStore(filepath.Join(h.dir, "var", "misp-telegram"), nil)
	err := store.Update(context.Background(), func(st *storm.State) error {
		fn(st.Chat(testChatID))
		return nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
}

func (h *home) chatState() storm.Chat {
	h.t.Helper()
	var chat storm.Chat
	h.editState(func(c *storm.Chat) { chat = *c })
	return chat
}

func wantStatus(t *testing.T, r result, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("exit status %d, want %d\nstdout: %s\nstderr: %s", r.status, want, r.stdout, r.stderr)
	}
}

func assertNoToken(t *testing.T, where, text string) {
	t.Helper()
	if strings.Contains(text, testToken) || strings.Contains(text, "e2e_secret") {
		t.Errorf("%s contains the bot token:\n%s", where, text)
	}
}

// misp920100 builds a 920100 alert with the given MISP indicator.
func misp920100(id, value string) []byte {
	return []byte(fmt.Sprintf(`{"timestamp":"2026-03-14T09:26:53.589+0000","rule":{"level":12,"description":"MISP: indicator found","id":"920100","groups":["misp","misp_match"]},"agent":{"id":"033","name":"WIN-HOST01","ip":"10.0.4.33"},"manager":{"name":"wazuh-manager"},"id":%q,"data":{"integration":"misp","misp":{"event_id":"1452","category":"Network activity","type":"ip-dst","value":%q,"source":{"rule_id":"92101","field":"data.win.eventdata.destinationIp"}}},"location":"misp"}`, id, value))
}

func TestGoldenSendMessage(t *testing.T) {
	alerts := []struct {
		name string
		data func(t *testing.T) []byte
	}{
		{"linux_sysmon3", func(t *testing.T) []byte { return fixture(t, "misp_result_from_linux_sysmon3_alert.json") }},
		{"win_sysmon22", func(t *testing.T) []byte { return fixture(t, "misp_result_from_win_sysmon22_alert.json") }},
		{"full_920100", func(t *testing.T) []byte { return testdata(t, "alert_920100_full.json") }},
	}
	for _, lang := range []string{"en", "th"} {
		for _, a := range alerts {
			name := lang + "_" + a.name
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				h := newHome(t, func(s settings) {
					s["template"] = `"etc/misp-telegram/templates/misp_alert.` + lang + `.md.tmpl"`
					s["message_thread_id"] = "42"
					s["disable_notification"] = "true"
				})

				r := h.runAlert(name, a.data(t))

				wantStatus(t, r, 0)
				requests := h.bot.Requests()
				if len(requests) != 1 {
					t.Fatalf("stand-in saw %d requests, want 1", len(requests))
				}
				if requests[0].Token != testToken || requests[0].Method != "sendMessage" {
					t.Errorf("request %s with token %q, want sendMessage with the configured token", requests[0].Method, requests[0].Token)
				}
				if err := render.CheckMarkdownV2(requests[0].Params["text"]); err != nil {
					t.Errorf("text fails the MarkdownV2 check: %v", err)
				}
				compareGolden(t, name+".golden", requests[0].Params)
			})
		}
	}
}

// compareGolden compares sendMessage parameters with testdata/name, as
// indented JSON with sorted keys.
func compareGolden(t *testing.T, name string, params map[string]string) {
	t.Helper()
	got, err := json.MarshalIndent(params, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("sendMessage parameters differ from %s:\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestArgvLayouts(t *testing.T) {
	want := map[string]string(nil)
	for _, l := range layouts {
		t.Run(l.name, func(t *testing.T) {
			h := newHome(t, nil)
			alert := h.writeAlert("full", testdata(t, "alert_920100_full.json"))

			r := h.run(l.argv(alert))

			wantStatus(t, r, 0)
			requests := h.bot.Requests()
			if len(requests) != 1 {
				t.Fatalf("stand-in saw %d requests, want 1", len(requests))
			}
			if want == nil {
				want = requests[0].Params
			} else if !equalParams(requests[0].Params, want) {
				t.Errorf("params differ from the first layout's:\n%v\n%v", requests[0].Params, want)
			}
			log := h.log()
			debug := strings.Contains(l.name, "debug")
			if got := strings.Contains(log, "level=DEBUG"); got != debug {
				t.Errorf("debug lines in log = %v, want %v:\n%s", got, debug, log)
			}
			if !strings.Contains(log, "level=INFO msg=\"run finished\"") || !strings.Contains(log, "outcome=sent") || !strings.Contains(log, "duration_ms=") {
				t.Errorf("log lacks the summary line:\n%s", log)
			}
			if !debug && strings.Contains(log, "185.220.101.42") {
				t.Errorf("log at Info contains the message content:\n%s", log)
			}
			if r.stdout != "" || r.stderr != "" {
				t.Errorf("output on success: stdout %q, stderr %q", r.stdout, r.stderr)
			}
		})
	}
}

func equalParams(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// hostileAlert is a 920100 alert whose values attack markup, escaping and
// the limits, with raw invalid UTF-8 bytes in two strings.
func hostileAlert() []byte {
	commandLine := strings.Repeat(`powershell.exe -nop -w hidden -enc "SQBFAFgA" | iex; `, 200)
	values := map[string]any{
		"event_id":   "1452",
		"event_info": `<script>alert("x")</script> & <b>bold</b> &amp;`,
		"category":   "Payload_delivery*[x](y)",
		"type":       "filename|sha256",
		"value":      `C:\Users\victim\AppData\evil_x.exe (pid 4) | ~strike~ ||spoiler|| #tag +1 -1 =2 {x} . !`,
		"comment":    "`code` ```pre``` \\ \\\\ \\`",
		"tags":       []string{"tlp:red", "*bold*", "_it_", "[link](javascript:alert(1))"},
		"event_url":  "javascript:alert(1)",
		"source": map[string]any{
			"rule_id":          "92001",
			"rule_description": "Suspicious >quote\n>next line",
			"field":            "data.win.eventdata.commandLine",
			"query":            commandLine,
			"agent":            map[string]any{"id": "033", "name": "INVALID_UTF8_NAME", "ip": "fe80::1"},
		},
	}
	alert := map[string]any{
		"timestamp": "2026-03-14T09:26:53.589+0000",
		"rule":      map[string]any{"level": 12, "description": "MISP: INVALID_UTF8_DESC", "id": "920100", "groups": []string{"misp"}},
		"agent":     map[string]any{"id": "033", "name": "WIN-HOST01"},
		"id":        "1773480413.1048576",
		"data":      map[string]any{"misp": values},
		"location":  "misp",
	}
	data, _ := json.Marshal(alert)
	data = bytes.Replace(data, []byte("INVALID_UTF8_NAME"), []byte("host\xff\xfe\xc3("), 1)
	return bytes.Replace(data, []byte("INVALID_UTF8_DESC"), []byte("bad \xed\xa0\x80 bytes"), 1)
}

func TestHostileValues(t *testing.T) {
	for _, lang := range []string{"en", "th"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			h := newHome(t, func(s settings) {
				s["template"] = `"etc/misp-telegram/templates/misp_alert.` + lang + `.md.tmpl"`
			})

			r := h.runAlert("hostile", hostileAlert())

			wantStatus(t, r, 0)
			requests := h.bot.Requests()
			if len(requests) != 1 {
				t.Fatalf("stand-in saw %d requests, want 1 (a parse error would add a plain resend)", len(requests))
			}
			params := requests[0].Params
			if params["parse_mode"] != "MarkdownV2" {
				t.Errorf("parse_mode = %q, want MarkdownV2", params["parse_mode"])
			}
			text := params["text"]
			if err := render.CheckMarkdownV2(text); err != nil {
				t.Fatalf("text fails the MarkdownV2 check: %v\n%s", err, text)
			}
			parsed, err := render.ParseMarkdownV2(text)
			if err != nil {
				t.Fatal(err)
			}
			if n := utf8.RuneCountInString(parsed.Text); n > render.MaxTextRunes || len(text) > render.MaxTextBytes {
				t.Errorf("message has %d visible runes and %d bytes, over the limits", n, len(text))
			}
			for _, want := range []string{
				`C:\Users\victim\AppData\evil_x.exe (pid 4) | ~strike~`,
				`<script>alert("x")</script> & <b>bold</b>`,
				"`code` ```pre``` \\",
				"powershell.exe -nop -w hidden",
				"host\uFFFD",
				"*bold*, _it_",
				"Suspicious >quote >next line",
			} {
				if !strings.Contains(parsed.Text, want) {
					t.Errorf("visible text lacks %q:\n%s", want, parsed.Text)
				}
			}
			for _, e := range parsed.Entities {
				if e.Type == render.EntityTextLink && !strings.HasPrefix(e.URL, "https://misp.example.org/") {
					t.Errorf("link to %q, want only the MISP event link", e.URL)
				}
			}
			if !strings.Contains(h.log(), "shortened") {
				t.Errorf("no warning about the shortened command line:\n%s", h.log())
			}
		})
	}
}

func TestManyTags(t *testing.T) {
	t.Parallel()
	h := newHome(t, nil)
	var alert map[string]any
	if err := json.Unmarshal(testdata(t, "alert_920100_full.json"), &alert); err != nil {
		t.Fatal(err)
	}
	tags := make([]string, 3000)
	for i := range tags {
		tags[i] = fmt.Sprintf("feed:tag-%04d", i)
	}
	alert["data"].(map[string]any)["misp"].(map[string]any)["tags"] = tags
	data, err := json.Marshal(alert)
	if err != nil {
		t.Fatal(err)
	}

	r := h.runAlert("tags", data)

	wantStatus(t, r, 0)
	requests := h.bot.Requests()
	if len(requests) != 1 || requests[0].Params["parse_mode"] != "MarkdownV2" {
		t.Fatalf("stand-in saw %d requests, want one in MarkdownV2", len(requests))
	}
	text := requests[0].Params["text"]
	if !strings.Contains(text, "more\\)") || !strings.Contains(text, "1773480413") {
		t.Errorf("text lacks the count of left-out tags or the lines after them:\n%s", text)
	}
	if log := h.log(); strings.Contains(log, "template") {
		t.Errorf("log blames the template:\n%s", log)
	}
}

func TestRetryAfterShort(t *testing.T) {
	t.Parallel()
	h := newHome(t, nil)
	h.bot.Script(standin.BotRetryAfter(1))

	r := h.runAlert("a", misp920100("1.1", "198.51.100.1"))

	wantStatus(t, r, 0)
	requests := h.bot.Requests()
	if len(requests) != 2 {
		t.Fatalf("stand-in saw %d requests, want 2", len(requests))
	}
	if gap := requests[1].Time.Sub(requests[0].Time); gap < time.Second {
		t.Errorf("retry after %v, want at least retry_after 1s", gap)
	}
	if requests[0].Params["text"] != requests[1].Params["text"] {
		t.Error("the retry sent another text")
	}
}

func TestRetryAfterLong(t *testing.T) {
	t.Parallel()
	h := newHome(t, nil)
	h.bot.Script(standin.BotRetryAfter(60))

	r := h.runAlert("a", misp920100("1.1", "198.51.100.1"))

	wantStatus(t, r, 0)
	if n := len(h.bot.Requests()); n != 1 {
		t.Fatalf("stand-in saw %d requests, want 1", n)
	}
	if log := h.log(); !strings.Contains(log, "level=WARN") || !strings.Contains(log, "blocked_until") {
		t.Errorf("no warning naming blocked_until:\n%s", log)
	}
	chat := h.chatState()
	if until := time.Until(chat.BlockedUntil); until < 50*time.Second || until > 61*time.Second {
		t.Errorf("blocked_until is %v from now, want about 60s", until)
	}
	if len(chat.Pending) != 1 {
		t.Errorf("%d messages pending, want 1", len(chat.Pending))
	}

	r = h.runAlert("b", misp920100("1.2", "198.51.100.2"))
	wantStatus(t, r, 0)
	if n := len(h.bot.Requests()); n != 1 {
		t.Fatalf("stand-in saw %d requests while blocked, want still 1", n)
	}

	h.editState(func(c *storm.Chat) { c.BlockedUntil = time.Now().Add(-time.Second) })
	r = h.runAlert("c", misp920100("1.3", "198.51.100.3"))

	wantStatus(t, r, 0)
	requests := h.bot.Requests()
	if len(requests) != 4 {
		t.Fatalf("stand-in saw %d requests, want 4", len(requests))
	}
	for i, want := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.3"} {
		if !strings.Contains(requests[i+1].Params["text"], want) {
			t.Errorf("request %d after the block lacks %s, want the queue sent oldest first", i+2, want)
		}
	}
}

func TestRetryAfterHuge(t *testing.T) {
	t.Parallel()
	h := newHome(t, nil)
	h.bot.Script(standin.BotRetryAfter(999999))

	r := h.runAlert("a", misp920100("1.1", "198.51.100.1"))

	wantStatus(t, r, 0)
	if log := h.log(); !strings.Contains(log, "level=ERROR") || !strings.Contains(log, "max_block=1h0m0s") {
		t.Errorf("no error line naming max_block:\n%s", log)
	}
	if until := time.Until(h.chatState().BlockedUntil); until < 59*time.Minute || until > time.Hour {
		t.Errorf("blocked_until is %v from now, want about an hour", until)
	}

	r = h.runAlert("b", misp920100("1.2", "198.51.100.2"))

	wantStatus(t, r, 0)
	if n := len(h.bot.Requests()); n != 1 {
		t.Fatalf("stand-in saw %d requests while blocked, want still 1", n)
	}
	var blocked string
	for line := range strings.Lines(h.log()) {
		if strings.Contains(line, "Telegram asked to wait") {
			blocked = line
		}
	}
	for _, want := range []string{"level=WARN", "remaining=", "pending=2"} {
		if !strings.Contains(blocked, want) {
			t.Errorf("line for the blocked run lacks %s: %q", want, blocked)
		}
	}
}

func TestMigration(t *testing.T) {
	t.Parallel()
	h := newHome(t, nil)
	h.bot.Script(standin.BotMigrate(-1009876543210))

	r := h.runAlert("a", misp920100("1.1", "198.51.100.1"))

	wantStatus(t, r, 0)
	requests := h.bot.Requests()
	if len(requests) != 2 {
		t.Fatalf("stand-in saw %d requests, want 2", len(requests))
	}
	if got := requests[1].Params["chat_id"]; got != "-1009876543210" {
		t.Errorf("resend went to chat %s, want -1009876543210", got)
	}
	log := h.log()
	if !strings.Contains(log, "level=ERROR") || !strings.Contains(log, "new_chat_id=-1009876543210") || !strings.Contains(log, "telegram.chat_id") {
		t.Errorf("no error line naming the new chat id and the setting:\n%s", log)
	}
}

func TestForbidden(t *testing.T) {
	t.Parallel()
	h := newHome(t, nil)
	h.bot.Script(standin.BotForbidden())

	r := h.runAlert("a", misp920100("1.1", "198.51.100.1"))

	wantStatus(t, r, 6)
	log := h.log()
	if !strings.Contains(log, "level=ERROR") || !strings.Contains(log, "bot was kicked") || !strings.Contains(log, "telegram.chat_id") {
		t.Errorf("no error line with the cause and the fix:\n%s", log)
	}
	if !strings.Contains(r.stderr, "403") {
		t.Errorf("stderr = %q, want the error for integratord's log", r.stderr)
	}
	assertNoToken(t, "log", log)
	assertNoToken(t, "stderr", r.stderr)
	assertNoToken(t, "stdout", r.stdout)
}

func TestTokenInDescription(t *testing.T) {
	t.Parallel()
	h := newHome(t, nil)
	h.bot.Script(standin.BotError(400, "Bad Request: chat not found at path /bot"+testToken+"/sendMessage"))

	r := h.runAlert("a", misp920100("1.1", "198.51.100.1"))

	wantStatus(t, r, 6)
	log := h.log()
	if !strings.Contains(r.stderr, "/bot[REDACTED]/sendMessage") {
		t.Errorf("stderr = %q, want the description with the token replaced", r.stderr)
	}
	assertNoToken(t, "log", log)
	assertNoToken(t, "stderr", r.stderr)
}

func TestStateFileUnusable(t *testing.T) {
	tests := []struct {
		name     string
		response []standin.BotResponse

		status  int
		outcome string
	}{
		{"sent", nil, 0, "outcome=sent"},
		{"not sent", []standin.BotResponse{standin.BotRetryAfter(60)}, 6, "outcome=dropped"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHome(t, nil)
			statePath := filepath.Join(h.dir, "var", "misp-telegram", storm.FileName)
			if err := os.MkdirAll(statePath, 0o750); err != nil {
				t.Fatal(err)
			}
			h.bot.Script(tc.response...)

			r := h.runAlert("a", misp920100("1.1", "198.51.100.1"))

			wantStatus(t, r, tc.status)
			log := h.log()
			stateLines := 0
			for line := range strings.Lines(log) {
				if strings.Contains(line, "state file unusable") {
					stateLines++
					if !strings.Contains(line, "level=ERROR") || !strings.Contains(line, statePath) || !strings.Contains(line, "wazuh user") {
						t.Errorf("state line lacks the level, path or fix:\n%s", line)
					}
				}
			}
			if stateLines != 1 {
				t.Errorf("%d lines about the unusable state file, want 1:\n%s", stateLines, log)
			}
			if !strings.Contains(log, tc.outcome) {
				t.Errorf("log lacks %s:\n%s", tc.outcome, log)
			}
			if strings.Contains(log, "kept") {
				t.Errorf("log claims a message was kept:\n%s", log)
			}
			if tc.status == 0 {
				return
			}
			if n := strings.Count(log, "msg=\"run failed\""); n != 1 || strings.Count(log, "message dropped") != 1 {
				t.Errorf("log should say once that the message was dropped:\n%s", log)
			}
			if !strings.Contains(r.stderr, "message dropped") {
				t.Errorf("stderr = %q, want the drop for integratord's log", r.stderr)
			}
		})
	}
}

func TestHangingBotAPI(t *testing.T) {
	t.Parallel()
	h := newHome(t, func(s settings) {
		s["timeout"] = `"1s"`
		s["budget"] = `"2s"`
	})
	h.bot.Script(standin.BotHang(), standin.BotHang(), standin.BotHang())

	r := h.run(layouts[2].argv(h.writeAlert("a", misp920100("1.1", "198.51.100.1"))))

	wantStatus(t, r, 0)
	if r.elapsed > 3500*time.Millisecond {
		t.Errorf("run took %v, want it to end within the 2s budget", r.elapsed)
	}
	log := h.log()
	if !strings.Contains(log, "kept for the next run") {
		t.Errorf("no warning that the message was kept:\n%s", log)
	}
	if chat := h.chatState(); len(chat.Pending) != 1 {
		t.Errorf("%d messages pending, want 1", len(chat.Pending))
	}
	assertNoToken(t, "debug log", log)
	assertNoToken(t, "stderr", r.stderr)
	assertNoToken(t, "stdout", r.stdout)
}

func TestStorm(t *testing.T) {
	t.Parallel()
	h := newHome(t, nil)

	start := time.Now()
	for i := range 100 {
		r := h.runAlert(fmt.Sprint("storm", i), misp920100(fmt.Sprint("2.", i), fmt.Sprintf("198.51.100.%d", i%10)))
		wantStatus(t, r, 0)
	}
	elapsed := time.Since(start)

	sent := len(h.bot.Requests())
	allowed := 5 + int(elapsed.Minutes()*20) + 1
	if sent > allowed || sent < 5 {
		t.Fatalf("storm of 100 alerts in %v sent %d messages, want 5 to %d (burst 5, 20 per minute)", elapsed, sent, allowed)
	}

	// One minute later the bucket is full again.
	h.editState(func(c *storm.Chat) { c.RefilledAt = c.RefilledAt.Add(-time.Minute) })
	r := h.runAlert("after", misp920100("3.1", "203.0.113.1"))

	wantStatus(t, r, 0)
	requests := h.bot.Requests()
	if len(requests) <= sent {
		t.Fatal("no message sent after the storm")
	}
	// A queued message sent during a slow storm may already report part
	// of the count; the first message after the storm reports the rest.
	before := suppressedCount(t, requests[:sent])
	first := requests[sent].Params["text"]
	if got := suppressedCount(t, requests[sent:sent+1]); before+got != 90 || got == 0 {
		t.Errorf("first message after the storm reports %d suppressed, %d reported before, want 90 in all:\n%s", got, before, first)
	}
	if !strings.Contains(first, "repeated, 0 over the rate limit") {
		t.Errorf("first message after the storm lacks the split of the count:\n%s", first)
	}
	if got := suppressedCount(t, requests[sent+1:]); got != 0 {
		t.Errorf("later messages report %d suppressed again, want 0", got)
	}
}

// suppressedNote matches the English template's note, escaped.
var suppressedNote = regexp.MustCompile(`\\\+(\d+) similar alerts suppressed since`)

// suppressedCount adds up the "+N similar alerts suppressed" notes.
func suppressedCount(t *testing.T, requests []standin.BotRequest) int {
	t.Helper()
	total := 0
	for _, req := range requests {
		for _, match := range suppressedNote.FindAllStringSubmatch(req.Params["text"], -1) {
			n, err := strconv.Atoi(match[1])
			if err != nil {
				t.Fatal(err)
			}
			total += n
		}
	}
	return total
}

func TestFiltered(t *testing.T) {
	t.Parallel()
	h := newHome(t, func(s settings) { s["rule_ids"] = `["920100"]` })
	alert := h.writeAlert("other", fixture(t, "misp_result_from_linux_sysmon3_alert.json"))

	r := h.run(layouts[2].argv(alert))

	wantStatus(t, r, 0)
	if n := len(h.bot.Requests()); n != 0 {
		t.Errorf("stand-in saw %d requests for a filtered alert, want 0", n)
	}
	lines := strings.Split(strings.TrimSpace(h.log()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "level=DEBUG") || !strings.Contains(lines[0], "telegram.rule_ids") {
		t.Errorf("log = %q, want one debug line naming telegram.rule_ids", lines)
	}
}

func TestExitStatus(t *testing.T) {
	tests := []struct {
		name  string
		setup func(h *home) []string

		status int
		stdout string
		stderr string
	}{
		{"help", func(h *home) []string { return []string{"custom-telegram", "--help"} }, 0, "EXIT STATUS", ""},
		{"version", func(h *home) []string { return []string{"custom-telegram", "version"} }, 0, "custom-telegram e2e-test", ""},
		{"no arguments", func(h *home) []string { return []string{"integrations"} }, 2, "", "alert file"},
		{"missing config", func(h *home) []string {
			os.Remove(filepath.Join(h.dir, "etc", "misp-telegram.toml"))
			return layout48(h.writeAlert("a", misp920100("1", "x")))
		}, 3, "", "misp-telegram.toml"},
		{"config without chat", func(h *home) []string {
			s := defaultSettings(h.bot)
			delete(s, "chat_id")
			h.writeConfig(s)
			return layout48(h.writeAlert("a", misp920100("1", "x")))
		}, 3, "", "telegram.chat_id"},
		{"broken template", func(h *home) []string {
			path := filepath.Join(h.dir, "etc/misp-telegram/templates/misp_alert.en.md.tmpl")
			os.WriteFile(path, []byte("line\n{{md .Rule.ID"), 0o640)
			return layout48(h.writeAlert("a", misp920100("1", "x")))
		}, 3, "", "misp_alert.en.md.tmpl:2"},
		{"missing alert", func(h *home) []string { return layout48(filepath.Join(h.dir, "tmp", "gone.alert")) }, 4, "", "gone.alert"},
		{"legacy alert", func(h *home) []string {
			return layout48(h.writeAlert("legacy", []byte("alertdate='2026 Mar 14 09:26:53'\nruleid='920100'\n")))
		}, 4, "", "alert_format"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHome(t, nil)

			r := h.run(tc.setup(h))

			wantStatus(t, r, tc.status)
			if !strings.Contains(r.stdout, tc.stdout) {
				t.Errorf("stdout = %q, want it to contain %q", r.stdout, tc.stdout)
			}
			if !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("stderr = %q, want it to contain %q", r.stderr, tc.stderr)
			}
			if n := len(h.bot.Requests()); n != 0 {
				t.Errorf("stand-in saw %d requests, want 0", n)
			}
			assertNoToken(t, "stderr", r.stderr)
		})
	}
}

func TestHookURLToken(t *testing.T) {
	t.Parallel()
	h := newHome(t, nil)
	alert := h.writeAlert("a", misp920100("1.1", "198.51.100.1"))
	leaked := "111111111:AAH-hook_url_token_0123456789abcdefghij"

	r := h.run([]string{"integrations", alert, "", leaked, "", "", "10", "3", "> /dev/null 2>&1"})

	wantStatus(t, r, 0)
	log := h.log()
	if !strings.Contains(log, "hook_url") || !strings.Contains(log, "level=WARN") {
		t.Errorf("no warning about a token in hook_url:\n%s", log)
	}
	if strings.Contains(log, leaked) || strings.Contains(r.stderr, leaked) {
		t.Error("the hook_url token was printed")
	}
	if got := h.bot.Requests()[0].Token; got != testToken {
		t.Errorf("request used token %q, want the config's", got)
	}
}

func TestExitStatusMapping(t *testing.T) {
	tests := []struct {
		name string
		err  error

		want int
	}{
		{"success", nil, 0},
		{"usage", fmt.Errorf("%w: no alert file", integratord.ErrUsage), 2},
		{"config", &configError{errors.New("bad key")}, 3},
		{"alert", &alertError{integratord.ErrLegacyFormat}, 4},
		{"delivery", fmt.Errorf("send: %w", &telegram.Error{Kind: telegram.KindPermanent, Code: 401}), 6},
		{"other", errors.New("boom"), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := exitStatus(tc.err); got != tc.want {
				t.Errorf("exitStatus(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}
