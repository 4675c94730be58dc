package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/check"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/integratord"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/standin"
)

// checkMISPKey is the API key of the check tests' MISP stand-in.
const checkMISPKey = "Zm9yLXRoZS1jaGVjay10ZXN0cy1vbmx5LTAwMDAw"

// checkHome writes a Wazuh home that passes the checks of custom-misp, with
// its queue socket in a short temporary directory, and returns the home and
// the config path.
func checkHome(t *testing.T, mispURL string) (string, string) {
	t.Helper()
	home := t.TempDir()
	socketDir, err := os.MkdirTemp("", "q")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(socketDir) })
	queue, err := standin.ListenQueue(filepath.Join(socketDir, "queue"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(queue.Close)
	rules, err := os.ReadFile(filepath.Join("..", "..", "rules", "misp_telegram_rules.xml"))
	if err != nil {
		t.Fatal(err)
	}

	files := map[string]string{
		"integrations/custom-misp":          "#!/bin/sh\n",
		"etc/rules/misp_telegram_rules.xml": string(rules),
		"logs/integrations.log":             "",
		"etc/ossec.conf": "<ossec_config>\n  <integration>\n    <name>custom-misp</name>\n" +
			"    <rule_id>554,550</rule_id>\n    <alert_format>json</alert_format>\n  </integration>\n</ossec_config>\n",
		"etc/misp-telegram.toml": "[wazuh]\nqueue_socket = \"" + queue.Path + "\"\n\n" +
			"[misp]\nurl = \"" + mispURL + "\"\napi_key = \"" + checkMISPKey + "\"\ntimeout = \"2s\"\n",
	}
	for name, content := range files {
		path := filepath.Join(home, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(home, "integrations", "custom-misp"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(home, "var", "misp-telegram"), 0o750); err != nil {
		t.Fatal(err)
	}
	return home, filepath.Join(home, "etc", "misp-telegram.toml")
}

func TestCheckHealthyHome(t *testing.T) {
	if check.LookupWazuh().Known() {
		t.Skip("this host has a wazuh user, which the files of this test do not belong to")
	}
	misp, err := standin.NewMISP(checkMISPKey)
	if err != nil {
		t.Fatal(err)
	}
	defer misp.Close()
	home, configPath := checkHome(t, misp.URL())
	var stdout, stderr bytes.Buffer

	status := runMain([]string{"custom-misp", "check", "-home", home, "-config", configPath}, &stdout, &stderr)

	if status != 0 {
		t.Errorf("status = %d, want 0\n%s%s", status, stdout.String(), stderr.String())
	}
	for _, want := range []string{
		"OK   config: " + configPath + " loaded, every key is known",
		"OK   misp: MISP 2.5.1 at " + misp.URL() + " accepted the API key",
		"OK   queue socket: ",
		"OK   rules file: rule 920100 is in etc/rules/misp_telegram_rules.xml",
		" 0 FAIL",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output does not contain %q:\n%s", want, stdout.String())
		}
	}
}

func TestCheckWrongKeyFails(t *testing.T) {
	misp, err := standin.NewMISP(strings.Repeat("k", 40))
	if err != nil {
		t.Fatal(err)
	}
	defer misp.Close()
	home, configPath := checkHome(t, misp.URL())
	var stdout, stderr bytes.Buffer

	status := runCheck([]string{"-home", home, "-config", configPath}, &stdout, &stderr)

	if status != 1 {
		t.Errorf("status = %d, want 1", status)
	}
	if want := "FAIL misp: GET " + misp.URL() + "/servers/getVersion returned HTTP 403"; !strings.Contains(stdout.String(), want) {
		t.Errorf("output does not contain %q:\n%s", want, stdout.String())
	}
	if strings.Contains(stdout.String()+stderr.String(), checkMISPKey) {
		t.Error("output shows the API key")
	}
}

func TestCheckFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string

		want int
	}{
		{"unknown flag", []string{"-send-test"}, integratord.ExitUsage},
		{"extra argument", []string{"now"}, integratord.ExitUsage},
		{"help", []string{"-h"}, integratord.ExitOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer

			got := runCheck(tc.args, &stdout, &stderr)

			if got != tc.want {
				t.Errorf("status = %d, want %d (stderr %q)", got, tc.want, stderr.String())
			}
		})
	}
}

// TestCheckFIFOAndSignal runs check on a home whose etc/rules holds a FIFO
// and whose MISP never responds, then sends SIGINT: check must skip the FIFO
// and end on the signal, printing the checks that finished.
func TestCheckFIFOAndSignal(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer hang.Close()
	home, configPath := checkHome(t, hang.URL)
	fifo := filepath.Join(home, "etc", "rules", "local_rules.xml")
	if err := syscall.Mkfifo(fifo, 0o640); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	// Opening the write end releases a reader blocked in open(2).
	defer func() {
		if writer, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			writer.Close()
		}
	}()
	cmd := exec.Command(binary, "check", "-home", home, "-config", configPath)
	cmd.Env = cleanEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	time.Sleep(500 * time.Millisecond)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-exited:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-exited
		t.Fatalf("check still ran 5s after SIGINT\nstdout:\n%s", stdout.String())
	}

	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit status = %d (%v), want 1", code, err)
	}
	if want := "WARN rules: etc/rules/local_rules.xml is a FIFO, not a regular file, so its rules were not checked"; !strings.Contains(stdout.String(), want) {
		t.Errorf("stdout does not contain %q:\n%s", want, stdout.String())
	}
	if strings.Contains(stdout.String(), "misp:") {
		t.Errorf("stdout shows a MISP result, want none before MISP responds:\n%s", stdout.String())
	}
	if want := "custom-misp check: stopped by a signal before every check finished"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr = %q, want it to contain %q", stderr.String(), want)
	}
}
