package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/standin"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/testfixture"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// testKey is the MISP key of the stand-in. It must never show up in any
// output of the program.
const testKey = "Kq3fR8tW0pYz5LmN2vB7xC4dE9gH1jA6sU0oI3eT"

// binary is the custom-misp built once for all tests.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "cmbin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "custom-misp")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build custom-misp: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// home is a Wazuh-like directory tree with the binary in integrations/,
// the config in etc/, and a real unixgram socket listening as the queue.
type home struct {
	t     *testing.T
	dir   string
	bin   string
	queue *standin.Queue
}

// newHome lays out a home whose config has the given [misp] url and extra
// lines in the [misp] table (default timeout and budget unless extra sets
// them). Its path stays short because of the socket path limit.
func newHome(t *testing.T, mispURL string, extra string) *home {
	t.Helper()
	dir, err := os.MkdirTemp("", "cm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })

	for _, sub := range []string{"integrations", "etc", "logs", "var", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o750); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "integrations", "custom-misp")
	if err := os.Link(binary, bin); err != nil {
		t.Fatal(err)
	}

	if !strings.Contains(extra, "timeout") {
		extra = "timeout = \"2s\"\nbudget = \"3s\"\n" + extra
	}
	// event_url keeps the links in events independent of the stand-in's port.
	config := fmt.Sprintf("[misp]\nurl = %q\napi_key = %q\nevent_url = \"https://misp.example.org\"\n%s\n", mispURL, testKey, extra)
	if err := os.WriteFile(filepath.Join(dir, "etc", "misp-telegram.toml"), []byte(config), 0o640); err != nil {
		t.Fatal(err)
	}

	queue, err := standin.ListenQueue(filepath.Join(dir, "queue", "sockets", "queue"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(queue.Close)
	return &home{t: t, dir: dir, bin: bin, queue: queue}
}

// startMISP starts a MISP stand-in seeded with the demo attributes, closed
// when the test ends.
func startMISP(t *testing.T) *standin.MISP {
	t.Helper()
	misp, err := standin.NewMISP(testKey)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(misp.Close)
	return misp
}

// writeAlert stores an alert file the way integratord does, under a
// /tmp-like name, and returns its path.
func (h *home) writeAlert(data []byte) string {
	h.t.Helper()
	file, err := os.CreateTemp(filepath.Join(h.dir, "tmp"), "custom-misp-*.alert")
	if err != nil {
		h.t.Fatal(err)
	}
	defer file.Close()
	if _, err := file.Write(data); err != nil {
		h.t.Fatal(err)
	}
	return file.Name()
}

// result is one finished run of the binary.
type result struct {
	code     int
	stdout   string
	stderr   string
	messages [][]byte
	duration time.Duration
}

// run executes the binary as integratord does: argv[0] "integrations",
// the Wazuh home as working directory, stdin from /dev/null.
func (h *home) run(argv []string) result {
	h.t.Helper()
	cmd := exec.Command(h.bin)
	cmd.Args = append([]string{"integrations"}, argv...)
	cmd.Dir = h.dir
	cmd.Env = cleanEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr

	start := time.Now()
	err := cmd.Run()
	r := result{duration: time.Since(start), stdout: stdout.String(), stderr: stderr.String()}
	if exitErr, ok := err.(*exec.ExitError); ok {
		r.code = exitErr.ExitCode()
	} else if err != nil {
		h.t.Fatalf("run custom-misp: %v", err)
	}
	// Datagrams are queued before the sender's write returns; a short wait
	// lets the listener goroutine read them.
	h.queue.WaitFor(1<<30, 20*time.Millisecond)
	r.messages = h.queue.Take()
	return r
}

// log returns integrations.log.
func (h *home) log() string {
	h.t.Helper()
	data, err := os.ReadFile(filepath.Join(h.dir, "logs", "integrations.log"))
	if err != nil && !os.IsNotExist(err) {
		h.t.Fatal(err)
	}
	return string(data)
}

// cleanEnv drops variables that would change where the program looks.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "WAZUH_HOME=") || strings.HasPrefix(kv, "MISP_TELEGRAM_CONFIG=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// layouts are the argv shapes of each integratord version (argv[0]
// excluded), as a function of the alert file path.
var layouts = []struct {
	name string
	argv func(alert, options string) []string
}{
	{"4.3", func(a, _ string) []string { return []string{a, "", "", " > /dev/null 2>&1"} }},
	{"4.3 debug", func(a, _ string) []string { return []string{a, "", "", "debug"} }},
	{"4.7", func(a, _ string) []string { return []string{a, "", "", "", "", "> /dev/null 2>&1"} }},
	{"4.7 options debug", func(a, o string) []string { return []string{a, "", "", "debug", o} }},
	{"4.8", func(a, _ string) []string { return []string{a, "", "", "", "", "10", "3", "> /dev/null 2>&1"} }},
	{"4.8 debug", func(a, o string) []string { return []string{a, "", "", "debug", o, "10", "3"} }},
}

// repoRoot returns the directory holding go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	return testfixture.RepoRoot(t)
}

// sharedFixtures returns the fixtures directory beside the repository.
func sharedFixtures(t testing.TB) string {
	t.Helper()
	return testfixture.Path(t)
}

// mispFixtures returns the bodies of the 200 restSearch samples.
func mispFixtures(t testing.TB) [][]byte {
	t.Helper()
	var bodies [][]byte
	for _, name := range []string{
		"restsearch_single_hit.json",
		"restsearch_multi_hit_composite.json",
		"derived_restsearch_ip_composites_2_5.json",
		"derived_restsearch_native_ints_2_5.json",
		"restsearch_empty.json",
	} {
		data, err := os.ReadFile(filepath.Join(sharedFixtures(t), "misp", name))
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, data)
	}
	return bodies
}

// wrapEventData builds a full eventchannel alert around a data payload
// (the fixtures hold only the data object of those alerts).
func wrapEventData(t *testing.T, payload []byte, id string) []byte {
	t.Helper()
	var data map[string]any
	if err := json.Unmarshal(payload, &data); err != nil {
		t.Fatal(err)
	}
	if inner, ok := data["data"].(map[string]any); ok {
		data = inner
	}
	eventID := ""
	if win, ok := data["win"].(map[string]any); ok {
		if system, ok := win["system"].(map[string]any); ok {
			eventID, _ = system["eventID"].(string)
		}
	}
	group := "sysmon_event" + eventID
	if len(eventID) > 1 {
		group = "sysmon_event_" + eventID
	}
	alert := map[string]any{
		"timestamp": "2026-12-04T10:00:00.000+0000",
		"rule":      map[string]any{"level": 3, "description": "Sysmon - Event " + eventID, "id": "61600", "groups": []string{"windows", "sysmon", group}},
		"agent":     map[string]any{"id": "033", "name": "WIN-HOST01", "ip": "10.0.0.33"},
		"manager":   map[string]any{"name": "wazuh-manager"},
		"id":        id,
		"decoder":   map[string]any{"name": "windows_eventchannel"},
		"data":      data,
		"location":  "EventChannel",
	}
	out, err := json.Marshal(alert)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// oneLine re-serialises a pretty-printed alert as the single line
// integratord writes.
func oneLine(t *testing.T, data []byte) []byte {
	t.Helper()
	var buffer bytes.Buffer
	if err := json.Compact(&buffer, data); err != nil {
		t.Fatal(err)
	}
	buffer.WriteByte('\n')
	return buffer.Bytes()
}

// checkGolden compares the datagrams with testdata/golden/name.golden, one
// datagram per line.
func checkGolden(t *testing.T, name string, messages [][]byte) {
	t.Helper()
	var got bytes.Buffer
	for _, m := range messages {
		got.Write(m)
		got.WriteByte('\n')
	}
	path := filepath.Join("testdata", "golden", name+".golden")
	if *update {
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("queue datagrams differ from %s\ngot:\n%s\nwant:\n%s", path, got.Bytes(), want)
	}
}

// assertNoSecret fails when the MISP key appears in any output.
func assertNoSecret(t *testing.T, outputs ...string) {
	t.Helper()
	for _, out := range outputs {
		if strings.Contains(out, testKey) {
			t.Fatalf("the MISP key appears in output:\n%s", out)
		}
	}
}
