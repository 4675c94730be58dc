package check

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/config"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/standin"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/testfixture"
)

// testKey is a MISP API key of the right form; the stand-in accepts it.
const testKey = "c2VjcmV0aGVyZWZvcnRoZXN0YW5kaW5vbmx5MDAw"

// testToken is a bot token of the right form, for the fake probe.
const testToken = "123456789:AAHfakeTokenForTestsOnly-abcdefghijk"

// tree is a temporary Wazuh home that passes every check of its program:
// config, binaries, ossec.conf, rules, state dir, log file and a queue
// socket, with a MISP stand-in. Tests break one thing each.
type tree struct {
	t        *testing.T
	home     string
	settings map[string]string // "table.key" -> TOML value
	blocks   map[string]string // program -> inner XML of its <integration>
	alerts   string            // inner XML of <alerts>
	opts     Options
	misp     *standin.MISP
	queue    *standin.Queue
	probe    *fakeProbe
}

func newTree(t *testing.T, program string) *tree {
	t.Helper()
	home := t.TempDir()
	misp, err := standin.NewMISP(testKey)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(misp.Close)

	// Socket paths are limited to about 108 bytes, and test temp dirs are long.
	socketDir, err := os.MkdirTemp("", "q")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(socketDir) })
	socket := filepath.Join(socketDir, "queue")
	queue, err := standin.ListenQueue(socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(queue.Close)
	if err := os.Chmod(socket, 0o660); err != nil {
		t.Fatal(err)
	}

	tr := &tree{
		t:    t,
		home: home,
		settings: map[string]string{
			"wazuh.queue_socket": quote(socket),
			"misp.url":           quote(misp.URL()),
			"misp.api_key":       quote(testKey),
			"misp.timeout":       `"2s"`,
			"telegram.bot_token": quote(testToken),
			"telegram.chat_id":   "-1001234567890",
		},
		blocks: map[string]string{
			ProgramMISP: `
    <name>custom-misp</name>
    <group>syscheck_entry_added,syscheck_entry_modified</group>
    <alert_format>json</alert_format>`,
			ProgramTelegram: `
    <name>custom-telegram</name>
    <rule_id>920100,920101,920102,920103</rule_id>
    <alert_format>json</alert_format>`,
		},
		alerts: "<log_alert_level>3</log_alert_level>",
		misp:   misp,
		queue:  queue,
		probe:  &fakeProbe{username: "soc_alerts_bot"},
	}

	root := repoRoot(t)
	for _, program := range []string{ProgramMISP, ProgramTelegram} {
		tr.writeFile("integrations/"+program, "#!/bin/sh\nexit 0\n", 0o750)
	}
	tr.copyFile(filepath.Join(root, "rules", ourRulesFile), "etc/rules/"+ourRulesFile, 0o660)
	tr.copyFile(filepath.Join(root, "rules", "sysmon_lookup_rules.xml"), sysmonLookupRules, 0o640)
	tr.copyFile(filepath.Join(root, "templates", "misp_alert.en.md.tmpl"), "etc/misp-telegram/templates/misp_alert.en.md.tmpl", 0o640)
	for _, name := range []string{"0015-ossec_rules.xml", stockSysmonRules} {
		tr.copyFile(filepath.Join("testdata", "ruleset", name), filepath.Join(stockRulesDir, name), 0o640)
	}
	tr.mkdir("var/misp-telegram", 0o770)
	tr.writeFile("logs/integrations.log", "", 0o660)
	tr.writeConfig()
	tr.writeOssecConf()

	tr.opts = Options{
		Program:    program,
		Home:       home,
		ConfigPath: tr.path("etc/misp-telegram.toml"),
		Executable: tr.path("integrations/" + program),
		// The current group stands for wazuh, so that mode bits decide
		// what wazuh may do with the files this test creates.
		Wazuh: Identity{UID: os.Geteuid() + 4242, GID: os.Getegid()},
		Root:  true,
		NewTelegramProbe: func(*config.Config) (TelegramProbe, error) {
			return tr.probe, nil
		},
	}
	return tr
}

func (tr *tree) path(relative string) string { return filepath.Join(tr.home, relative) }

func (tr *tree) mkdir(relative string, mode os.FileMode) {
	tr.t.Helper()
	if err := os.MkdirAll(tr.path(relative), 0o755); err != nil {
		tr.t.Fatal(err)
	}
	if err := os.Chmod(tr.path(relative), mode); err != nil {
		tr.t.Fatal(err)
	}
}

// writeFile writes a file under the home with exactly mode.
func (tr *tree) writeFile(relative, content string, mode os.FileMode) {
	tr.t.Helper()
	path := tr.path(relative)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tr.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		tr.t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		tr.t.Fatal(err)
	}
}

func (tr *tree) copyFile(from, relative string, mode os.FileMode) {
	tr.t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		tr.t.Fatal(err)
	}
	tr.writeFile(relative, string(data), mode)
}

func (tr *tree) chmod(relative string, mode os.FileMode) {
	tr.t.Helper()
	if err := os.Chmod(tr.path(relative), mode); err != nil {
		tr.t.Fatal(err)
	}
}

// set changes one config setting and rewrites the file; value is TOML.
func (tr *tree) set(key, value string) {
	tr.settings[key] = value
	tr.writeConfig()
}

func (tr *tree) writeConfig() {
	tr.t.Helper()
	tables := map[string][]string{}
	for key, value := range tr.settings {
		table, name, _ := strings.Cut(key, ".")
		tables[table] = append(tables[table], name+" = "+value)
	}
	names := make([]string, 0, len(tables))
	for name := range tables {
		names = append(names, name)
	}
	sort.Strings(names)

	var b strings.Builder
	for _, name := range names {
		lines := tables[name]
		sort.Strings(lines)
		fmt.Fprintf(&b, "[%s]\n%s\n\n", name, strings.Join(lines, "\n"))
	}
	tr.writeFile("etc/misp-telegram.toml", b.String(), 0o640)
}

// setBlock replaces the inner XML of a program's <integration> block.
func (tr *tree) setBlock(program, inner string) {
	tr.blocks[program] = inner
	tr.writeOssecConf()
}

func (tr *tree) writeOssecConf() {
	tr.t.Helper()
	var b strings.Builder
	b.WriteString("<!-- Wazuh - Manager - Default configuration -->\n")
	b.WriteString("<ossec_config>\n  <global>\n    <jsonout_output>yes</jsonout_output>\n  </global>\n")
	fmt.Fprintf(&b, "  <alerts>\n    %s\n  </alerts>\n</ossec_config>\n\n<ossec_config>\n", tr.alerts)
	for _, program := range []string{ProgramMISP, ProgramTelegram} {
		if inner := tr.blocks[program]; inner != "" {
			fmt.Fprintf(&b, "  <integration>%s\n  </integration>\n", inner)
		}
	}
	b.WriteString("</ossec_config>\n")
	tr.writeFile("etc/ossec.conf", b.String(), 0o640)
}

func (tr *tree) run() []Result {
	tr.t.Helper()
	return Run(context.Background(), tr.opts)
}

// find returns the first result named name, or fails the test listing
// every result.
func find(t *testing.T, results []Result, name string) Result {
	t.Helper()
	for _, r := range results {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no result named %q in:\n%s", name, lines(results))
	return Result{}
}

// expect checks that the result named name has the status and that its
// line contains each of want.
func expect(t *testing.T, results []Result, name string, status Status, want ...string) {
	t.Helper()
	r := find(t, results, name)
	if r.Status != status {
		t.Errorf("%s: status %v, want %v\n%s", name, r.Status, status, r.Line())
	}
	for _, w := range want {
		if !strings.Contains(r.Line(), w) {
			t.Errorf("%s: line\n%s\ndoes not contain %q", name, r.Line(), w)
		}
	}
}

func lines(results []Result) string {
	var b strings.Builder
	for _, r := range results {
		b.WriteString(r.Line() + "\n")
	}
	return b.String()
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

// repoRoot returns the directory holding go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	return testfixture.RepoRoot(t)
}

// fakeProbe is a TelegramProbe that returns scripted results.
type fakeProbe struct {
	username string
	getMeErr error
	sendErr  error
	sent     []string
	// hang, when set, makes GetMe wait until it is closed and ignore its
	// context, as a check blocked in a system call does.
	hang chan struct{}
}

func (p *fakeProbe) GetMe(context.Context) (string, error) {
	if p.hang != nil {
		<-p.hang
	}
	return p.username, p.getMeErr
}

func (p *fakeProbe) SendTest(_ context.Context, text string) error {
	p.sent = append(p.sent, text)
	return p.sendErr
}
