package check

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// installFile is one path make install creates, relative to the Wazuh home.
type installFile struct {
	path   string
	mode   os.FileMode
	dir    bool
	source string // the repository file it is a copy of, if any
}

var installed = []installFile{
	{path: "integrations/custom-misp", mode: 0o750},
	{path: "integrations/custom-telegram", mode: 0o750},
	{path: "etc/rules/misp_telegram_rules.xml", mode: 0o660, source: "rules/misp_telegram_rules.xml"},
	{path: "etc/misp-telegram", mode: 0o750, dir: true},
	{path: "etc/misp-telegram/sysmon_lookup_rules.xml", mode: 0o640, source: "rules/sysmon_lookup_rules.xml"},
	{path: "etc/misp-telegram/config.example.toml", mode: 0o640, source: "config.example.toml"},
	{path: "etc/misp-telegram/templates", mode: 0o750, dir: true},
	{path: "etc/misp-telegram/templates/misp_alert.en.md.tmpl", mode: 0o640, source: "templates/misp_alert.en.md.tmpl"},
	{path: "etc/misp-telegram/templates/misp_alert.th.md.tmpl", mode: 0o640, source: "templates/misp_alert.th.md.tmpl"},
	{path: "etc/misp-telegram.toml", mode: 0o640, source: "config.example.toml"},
	{path: "var/misp-telegram", mode: 0o750, dir: true},
	{path: "logs/integrations.log", mode: 0o640},
}

// runMake runs make with args in the repository root and returns its output.
func runMake(t *testing.T, root string, args ...string) string {
	t.Helper()
	cmd := exec.Command("make", append([]string{"-C", root}, args...)...)
	// A make running this test must not hand its job server or flags down.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MAKEFLAGS=") && !strings.HasPrefix(kv, "MFLAGS=") && !strings.HasPrefix(kv, "MAKELEVEL=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("make %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

func TestMakeInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds both programs")
	}
	for _, tool := range []string{"make", "go", "install", "cmp"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found: %v", tool, err)
		}
	}
	root := repoRoot(t)
	dest := t.TempDir()
	home := filepath.Join(dest, "var", "ossec")

	// First install: every path with its mode and content.
	// Its own BINDIR, so that this build cannot race with another test's.
	binDir := t.TempDir()
	runMake(t, root, "build", "BINDIR="+binDir)
	out := runMake(t, root, "install", "DESTDIR="+dest, "BINDIR="+binDir)

	for _, f := range installed {
		info, err := os.Stat(filepath.Join(home, f.path))
		if err != nil {
			t.Errorf("%s: %v", f.path, err)
			continue
		}
		if info.IsDir() != f.dir {
			t.Errorf("%s: directory = %v, want %v", f.path, info.IsDir(), f.dir)
		}
		if got := info.Mode().Perm(); got != f.mode {
			t.Errorf("%s: mode %04o, want %04o", f.path, got, f.mode)
		}
		if f.source != "" {
			assertSameContent(t, filepath.Join(root, f.source), filepath.Join(home, f.path))
		}
	}
	if _, err := os.Stat(filepath.Join(home, "etc/rules/sysmon_lookup_rules.xml")); err == nil {
		t.Error("install activated sysmon_lookup_rules.xml, which is opt-in")
	}
	for _, want := range []string{"Next steps:", "<alert_format>json</alert_format>", "custom-telegram check -send-test"} {
		if !strings.Contains(out, want) {
			t.Errorf("install output does not contain %q:\n%s", want, out)
		}
	}
	if os.Geteuid() != 0 && !strings.Contains(out, "note: owners were not set") {
		t.Errorf("install as a user other than root did not say owners were not set:\n%s", out)
	}

	// What install put in place passes the checks that look at it.
	results := Run(context.Background(), Options{
		Program:    ProgramMISP,
		Home:       home,
		ConfigPath: filepath.Join(home, "etc/misp-telegram.toml"),
		Executable: filepath.Join(home, "integrations/custom-misp"),
		Wazuh:      Identity{UID: os.Geteuid() + 4242, GID: os.Getegid()},
		Root:       true,
	})
	expect(t, results, "config", OK)
	expect(t, results, "binary", OK)
	expect(t, results, "binary name", OK)
	expect(t, results, "rules file", OK)
	if r := find(t, results, "binary mode"); r.Status == Fail {
		t.Errorf("installed binary fails the mode check: %s", r.Line())
	}

	// Second install: edits to the config and a template survive, the
	// shipped template goes to .new, and config.example.toml is refreshed.
	config := filepath.Join(home, "etc/misp-telegram.toml")
	template := filepath.Join(home, "etc/misp-telegram/templates/misp_alert.en.md.tmpl")
	example := filepath.Join(home, "etc/misp-telegram/config.example.toml")
	appendTo(t, config, "# edited by the operator\n")
	appendTo(t, template, "edited by the operator\n")
	appendTo(t, example, "# stale\n")

	out = runMake(t, root, "install", "DESTDIR="+dest, "BINDIR="+binDir)

	assertContains(t, config, "# edited by the operator")
	assertContains(t, template, "edited by the operator")
	assertSameContent(t, filepath.Join(root, "templates/misp_alert.en.md.tmpl"), template+".new")
	assertSameContent(t, filepath.Join(root, "config.example.toml"), example)
	for _, want := range []string{"kept the existing " + config, "kept your edited " + template + "; the shipped version is " + template + ".new"} {
		if !strings.Contains(out, want) {
			t.Errorf("second install output does not contain %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(home, "etc/misp-telegram/templates/misp_alert.th.md.tmpl.new")); err == nil {
		t.Error("install wrote a .new file for an unedited template")
	}

	// Uninstall: ours goes, the operator's stays.
	out = runMake(t, root, "uninstall", "DESTDIR="+dest)

	for _, gone := range []string{
		"integrations/custom-misp",
		"integrations/custom-telegram",
		"etc/rules/misp_telegram_rules.xml",
		"etc/misp-telegram/config.example.toml",
		"etc/misp-telegram/sysmon_lookup_rules.xml",
		"etc/misp-telegram/templates/misp_alert.th.md.tmpl",
		"etc/misp-telegram/templates/misp_alert.en.md.tmpl.new",
	} {
		if _, err := os.Stat(filepath.Join(home, gone)); err == nil {
			t.Errorf("uninstall left %s", gone)
		}
	}
	for _, kept := range []string{
		"etc/misp-telegram.toml",
		"etc/misp-telegram/templates/misp_alert.en.md.tmpl",
		"var/misp-telegram",
		"logs/integrations.log",
	} {
		if _, err := os.Stat(filepath.Join(home, kept)); err != nil {
			t.Errorf("uninstall removed %s: %v", kept, err)
		}
		if !strings.Contains(out, "kept "+filepath.Join(home, kept)) {
			t.Errorf("uninstall output does not say it kept %s:\n%s", kept, out)
		}
	}
}

func assertSameContent(t *testing.T, want, got string) {
	t.Helper()
	wantData, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	gotData, err := os.ReadFile(got)
	if err != nil {
		t.Errorf("%s: %v", got, err)
		return
	}
	if !bytes.Equal(gotData, wantData) {
		t.Errorf("%s differs from %s", got, want)
	}
}

func assertContains(t *testing.T, path, want string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), want) {
		t.Errorf("%s lost %q", path, want)
	}
}

func appendTo(t *testing.T, path, text string) {
	t.Helper()
	file, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if _, err := file.WriteString(text); err != nil {
		t.Fatal(err)
	}
}
