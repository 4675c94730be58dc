package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/standin"
)

// resilienceConfig opens the breaker after three failures for one second
// (the shortest the config allows), with no retries and a one-second budget.
const resilienceConfig = `retries = 0
timeout = "500ms"
budget = "1s"

[breaker]
failures = 3
open_for = "1s"
half_open_probes = 1`

// mispPayload is the part of an event the resilience tests look at.
type mispPayload struct {
	EventID string `json:"event_id"`
	Value   string `json:"value"`
	Delayed bool   `json:"delayed"`
	Source  struct {
		AlertID string `json:"alert_id"`
	} `json:"source"`
	Error *struct {
		Kind    string  `json:"kind"`
		Cause   string  `json:"cause"`
		Skipped float64 `json:"skipped"`
	} `json:"error"`
}

func decodeEvents(t *testing.T, messages [][]byte) []mispPayload {
	t.Helper()
	var events []mispPayload
	for _, message := range messages {
		_, payload, err := standin.SplitMessage(message)
		if err != nil {
			t.Fatal(err)
		}
		var event struct {
			MISP mispPayload `json:"misp"`
		}
		if err := json.Unmarshal(payload, &event); err != nil {
			t.Fatalf("payload is not JSON: %v: %s", err, payload)
		}
		events = append(events, event.MISP)
	}
	return events
}

func errorKinds(events []mispPayload) []string {
	var kinds []string
	for _, e := range events {
		if e.Error != nil {
			kinds = append(kinds, e.Error.Kind)
		}
	}
	return kinds
}

// sampleID returns the alert id of a bundled sample.
func sampleID(t *testing.T, name string) string {
	t.Helper()
	var alert struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(readSample(t, name), &alert); err != nil || alert.ID == "" {
		t.Fatalf("sample %s has no id: %v", name, err)
	}
	return alert.ID
}

// runSample runs a bundled sample with the Wazuh 4.8 layout.
func (h *home) runSample(name string) result {
	h.t.Helper()
	return h.run([]string{h.writeAlert(readSample(h.t, name)), "", "", "", "", "10", "3", "> /dev/null 2>&1"})
}

// TestBreakerAcrossProcesses walks the breaker through its states with
// separate processes: failures open it, it stays open for later
// processes, a probe after open_for closes it, and the lookups skipped
// meanwhile are replayed with delayed:true and their original source.
func TestBreakerAcrossProcesses(t *testing.T) {
	misp := startMISP(t)
	misp.SetMode(standin.MISPError500)
	h := newHome(t, misp.URL(), resilienceConfig)

	// closed -> open: three failures, each with its own error event; the
	// third also reports that the breaker opened.
	failing := []string{"win_sysmon3_public_ip", "win_sysmon22_dns_query", "linux_sysmon3_network"}
	for i, name := range failing {
		r := h.runSample(name)
		if r.code != 0 {
			t.Fatalf("%s: exit %d: %s", name, r.code, r.stderr)
		}
		kinds := errorKinds(decodeEvents(t, r.messages))
		want := []string{"server"}
		if i == len(failing)-1 {
			want = []string{"server", "breaker_open"}
		}
		if strings.Join(kinds, ",") != strings.Join(want, ",") {
			t.Fatalf("run %d (%s): error kinds %v, want %v", i+1, name, kinds, want)
		}
	}
	requests := len(misp.Requests())
	if requests != 3 {
		t.Fatalf("MISP got %d requests, want 3", requests)
	}

	// open: a new process makes no request, sends nothing more (the
	// breaker_open event was already sent for this open period), and ends fast.
	r := h.runSample("win_sysmon1_process_create")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if n := len(misp.Requests()); n != requests {
		t.Errorf("MISP got %d requests while the breaker was open, want %d", n, requests)
	}
	if len(r.messages) != 0 {
		t.Errorf("sent %d datagrams while open, want none:\n%s", len(r.messages), join(r.messages))
	}
	if r.duration > 500*time.Millisecond {
		t.Errorf("run with the breaker open took %s", r.duration)
	}

	// open -> half-open -> closed: after open_for, MISP answers again.
	time.Sleep(1100 * time.Millisecond)
	misp.SetMode(standin.MISPNormal)
	r = h.runSample("syscheck_file_modified")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	events := decodeEvents(t, r.messages)
	if kinds := errorKinds(events); len(kinds) != 0 {
		t.Errorf("error events after recovery: %v", kinds)
	}
	delayed := map[string]string{}
	current := 0
	for _, e := range events {
		if e.Delayed {
			delayed[e.Value] = e.Source.AlertID
		} else if e.EventID != "" {
			current++
		}
	}
	if current != 1 {
		t.Errorf("got %d matches for the current alert, want 1", current)
	}
	// Every skipped or failed alert had one seeded indicator at least.
	for value, alertID := range map[string]string{
		"1.1.123.23":    sampleID(t, "win_sysmon3_public_ip"),
		"91.189.91.157": sampleID(t, "linux_sysmon3_network"),
		"0479327e7136fa14f69d231d1b38cf654421073c8a0166bf6690a3d2c0b14ffa": sampleID(t, "win_sysmon1_process_create"),
		"img-s-msn-com.akamaized.net":                                      sampleID(t, "win_sysmon22_dns_query"),
	} {
		got, ok := delayed[value]
		if !ok {
			t.Errorf("no delayed match for %s; delayed: %v", value, delayed)
			continue
		}
		if got != alertID {
			t.Errorf("delayed match for %s has source alert %s, want the original %s", value, got, alertID)
		}
	}
	if log := h.log(); !strings.Contains(log, "circuit breaker closed") {
		t.Errorf("recovery is not logged:\n%s", log)
	}

	// The spool is empty now: the next run replays nothing.
	r = h.runSample("win_sysmon7_image_loaded")
	for _, e := range decodeEvents(t, r.messages) {
		if e.Delayed {
			t.Errorf("a second replay happened: %+v", e)
		}
	}
}

// TestBreakerReopensAfterFailedProbe checks that a failed half-open probe
// opens the breaker again and reports how many lookups it skipped.
func TestBreakerReopensAfterFailedProbe(t *testing.T) {
	misp := startMISP(t)
	misp.SetMode(standin.MISPError500)
	h := newHome(t, misp.URL(), resilienceConfig)
	for _, name := range []string{"win_sysmon3_public_ip", "win_sysmon22_dns_query", "linux_sysmon3_network"} {
		h.runSample(name)
	}
	h.runSample("win_sysmon1_process_create") // skipped
	h.runSample("win_sysmon7_image_loaded")   // skipped

	time.Sleep(1100 * time.Millisecond)
	r := h.runSample("win_sysmon6_driver_loaded")

	events := decodeEvents(t, r.messages)
	if kinds := errorKinds(events); strings.Join(kinds, ",") != "server,breaker_open" {
		t.Fatalf("error kinds %v, want the probe's failure and a new breaker_open", kinds)
	}
	open := events[1].Error
	if open.Cause != "server" {
		t.Errorf("cause = %q, want server", open.Cause)
	}
	if open.Skipped != 2 {
		t.Errorf("skipped = %v, want the 2 lookups skipped in the previous open period", open.Skipped)
	}
}

// TestStalledMISPStaysInBudget checks that a MISP that never answers costs
// each run its budget at most, and nothing once the breaker is open.
func TestStalledMISPStaysInBudget(t *testing.T) {
	misp := startMISP(t)
	misp.SetMode(standin.MISPStall)
	h := newHome(t, misp.URL(), resilienceConfig)

	for i, name := range []string{"win_sysmon3_public_ip", "win_sysmon22_dns_query", "linux_sysmon3_network"} {
		r := h.runSample(name)
		if r.duration > 1500*time.Millisecond {
			t.Errorf("run %d took %s with a 1s budget", i+1, r.duration)
		}
		if kinds := errorKinds(decodeEvents(t, r.messages)); len(kinds) == 0 || kinds[0] != "timeout" {
			t.Errorf("run %d: error kinds %v, want timeout first", i+1, kinds)
		}
	}
	r := h.runSample("win_sysmon1_process_create")
	if r.duration > 300*time.Millisecond {
		t.Errorf("run with the breaker open took %s", r.duration)
	}
}

// TestCacheHitMakesNoRequest checks that a repeated alert is answered from
// the cache with the same datagrams as the first time.
func TestCacheHitMakesNoRequest(t *testing.T) {
	misp := startMISP(t)
	h := newHome(t, misp.URL(), "")

	first := h.runSample("win_sysmon22_dns_query")
	second := h.runSample("win_sysmon22_dns_query")

	if n := len(misp.Requests()); n != 1 {
		t.Errorf("MISP got %d requests, want 1", n)
	}
	if len(first.messages) == 0 {
		t.Fatal("the first run sent no match")
	}
	if !equalMessages(first.messages, second.messages) {
		t.Errorf("cached answer differs from the fresh one:\n%s\nvs\n%s", join(second.messages), join(first.messages))
	}
}

// TestConcurrentProcesses starts 20 processes at once and checks that all
// succeed and leave valid state and cache files.
func TestConcurrentProcesses(t *testing.T) {
	misp := startMISP(t)
	h := newHome(t, misp.URL(), "")
	samples, err := standin.Samples()
	if err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	errs := make(chan string, 20)
	for i := 0; i < 20; i++ {
		sample := samples[i%len(samples)]
		alertPath := h.writeAlert(sample.Data)
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(h.bin, alertPath, "", "", "", "", "10", "3")
			cmd.Args[0] = "integrations"
			cmd.Dir = h.dir
			cmd.Env = cleanEnv()
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Sprintf("%s: %v: %s", sample.Name, err, out)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}

	assertStateValid(t, h)
	h.queue.WaitFor(1<<30, 50*time.Millisecond)
	if got := len(h.queue.Take()); got < 10 {
		t.Errorf("got %d datagrams from 20 runs, want the matches of every run", got)
	}
}

// TestKilledProcessesLeaveStateUsable kills processes at random moments,
// then checks the state files and that a normal run still works.
func TestKilledProcessesLeaveStateUsable(t *testing.T) {
	misp := startMISP(t)
	h := newHome(t, misp.URL(), "")
	samples, err := standin.Samples()
	if err != nil {
		t.Fatal(err)
	}

	for i := 0; i < 40; i++ {
		sample := samples[i%len(samples)]
		cmd := exec.Command(h.bin, h.writeAlert(sample.Data), "", "", "")
		cmd.Args[0] = "integrations"
		cmd.Dir = h.dir
		cmd.Env = cleanEnv()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(i%8) * 250 * time.Microsecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}
	h.queue.Take()

	assertStateValid(t, h)
	r := h.runSample("win_sysmon3_public_ip")
	if r.code != 0 || len(r.messages) != 1 {
		t.Errorf("run after the kills: exit %d, %d datagrams, stderr %s", r.code, len(r.messages), r.stderr)
	}
}

// assertStateValid checks that every state file under var/ is valid JSON
// and that no temp file is left where readers could mistake it for data.
func assertStateValid(t *testing.T, h *home) {
	t.Helper()
	stateDir := filepath.Join(h.dir, "var", "misp-telegram")
	checked := 0
	err := filepath.Walk(stateDir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || !strings.HasSuffix(path, ".json") || strings.HasPrefix(info.Name(), ".") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !json.Valid(data) {
			t.Errorf("%s is not valid JSON: %.200s", path, data)
		}
		checked++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Errorf("no state files under %s", stateDir)
	}
}
