package breaker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/state"
)

var (
	errUnavailable = errors.New("misp unavailable")
	errForbidden   = errors.New("misp rejected the api key")
)

// isUnavailable counts errUnavailable as a failure and excludes the rest.
func isUnavailable(err error) bool { return errors.Is(err, errUnavailable) }

// logBuffer collects log output from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func newLogger() (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	return slog.New(slog.NewJSONHandler(buf, nil)), buf
}

func openBreaker(t testing.TB, dir string, s Settings) *Breaker {
	t.Helper()
	b, err := Open(dir, s, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return b
}

// fail runs a call that fails with errUnavailable and sets cause first.
func fail(t *testing.T, b *Breaker, cause string) Report {
	t.Helper()
	rep, err := b.Execute(func() error {
		if cause != "" {
			b.SetCause(cause)
		}
		return errUnavailable
	}, isUnavailable)
	if !errors.Is(err, errUnavailable) && !errors.Is(err, ErrOpen) {
		t.Fatalf("Execute: err = %v, want errUnavailable or ErrOpen", err)
	}
	return rep
}

func succeed(t *testing.T, b *Breaker) Report {
	t.Helper()
	rep, err := b.Execute(func() error { return nil }, isUnavailable)
	if err != nil && !errors.Is(err, ErrOpen) {
		t.Fatalf("Execute: err = %v, want nil or ErrOpen", err)
	}
	return rep
}

// skip runs a call that the breaker must reject, and fails the test if fn
// runs or the error does not wrap ErrOpen.
func skip(t *testing.T, b *Breaker) Report {
	t.Helper()
	ran := false
	rep, err := b.Execute(func() error { ran = true; return nil }, isUnavailable)
	if ran {
		t.Fatal("fn ran, want it skipped")
	}
	if !errors.Is(err, ErrOpen) {
		t.Fatalf("err = %v, want ErrOpen", err)
	}
	if !rep.Skipped {
		t.Error("Report.Skipped = false, want true")
	}
	return rep
}

func openIt(t *testing.T, b *Breaker, failures int) Report {
	t.Helper()
	var rep Report
	for range failures {
		rep = fail(t, b, "timeout")
	}
	if rep.State != "open" {
		t.Fatalf("state after %d failures = %q, want open", failures, rep.State)
	}
	return rep
}

// shiftTime moves the stored start and expiry of breaker name back by d, as
// if d had passed, so tests need not sleep through an open period.
func shiftTime(t *testing.T, dir, name string, d time.Duration) {
	t.Helper()
	path := filepath.Join(dir, FileName)
	err := state.Update(context.Background(), path, time.Second, func(old []byte) ([]byte, error) {
		doc, _, _, err := decodeDocument(old)
		if err != nil {
			return nil, err
		}
		key := "gobreaker:state:" + name
		var shared gobreaker.SharedState
		if err := json.Unmarshal(doc.Entries[key], &shared); err != nil {
			return nil, err
		}
		shared.Start = shared.Start.Add(-d)
		if !shared.Expiry.IsZero() {
			shared.Expiry = shared.Expiry.Add(-d)
		}
		doc.Entries[key], err = json.Marshal(shared)
		if err != nil {
			return nil, err
		}
		return json.Marshal(doc)
	})
	if err != nil {
		t.Fatalf("shift breaker time: %v", err)
	}
}

// readDocument decodes the state file and fails the test unless it is a
// valid version 1 document with a valid entry for every breaker.
func readDocument(t *testing.T, dir string) *document {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatalf("read state file: %v", err)
	}
	doc, _, dropped, err := decodeDocument(data)
	if err != nil {
		t.Fatalf("state file is invalid: %v\n%s", err, data)
	}
	if len(dropped) > 0 {
		t.Fatalf("state file has invalid entries: %v", dropped)
	}
	return doc
}

func TestBreakerOpensAfterFailures(t *testing.T) {
	b := openBreaker(t, t.TempDir(), Settings{FailuresToOpen: 3})

	for i := range 2 {
		rep := fail(t, b, "timeout")
		if rep.State != "closed" || rep.Opened || rep.Notify {
			t.Fatalf("failure %d: report = %+v, want closed without Opened or Notify", i+1, rep)
		}
	}

	// closed to open
	before := time.Now()
	rep := fail(t, b, "timeout")
	if rep.State != "open" {
		t.Errorf("State = %q, want open", rep.State)
	}
	if !rep.Opened {
		t.Error("Opened = false, want true")
	}
	if !rep.Notify {
		t.Error("Notify = false, want true")
	}
	if rep.Skipped {
		t.Error("Skipped = true, want false")
	}
	if rep.Cause != "timeout" {
		t.Errorf("Cause = %q, want timeout", rep.Cause)
	}
	if rep.SkippedCount != 0 {
		t.Errorf("SkippedCount = %d, want 0", rep.SkippedCount)
	}
	if rep.OpenUntil.Before(before.Add(DefaultOpenFor)) || rep.OpenUntil.After(time.Now().Add(DefaultOpenFor)) {
		t.Errorf("OpenUntil = %s, want about 60s from now", rep.OpenUntil)
	}

	// open: skipped calls
	for i := range 3 {
		rep := skip(t, b)
		if rep.State != "open" {
			t.Errorf("skip %d: State = %q, want open", i+1, rep.State)
		}
		if rep.Notify || rep.Opened {
			t.Errorf("skip %d: Notify = %v, Opened = %v, want both false", i+1, rep.Notify, rep.Opened)
		}
		if rep.SkippedCount != i+1 {
			t.Errorf("skip %d: SkippedCount = %d, want %d", i+1, rep.SkippedCount, i+1)
		}
		if rep.Cause != "timeout" {
			t.Errorf("skip %d: Cause = %q, want timeout", i+1, rep.Cause)
		}
	}
}

func TestBreakerSuccessResetsFailures(t *testing.T) {
	b := openBreaker(t, t.TempDir(), Settings{FailuresToOpen: 3})

	fail(t, b, "")
	fail(t, b, "")
	succeed(t, b)
	fail(t, b, "")
	rep := fail(t, b, "")

	if rep.State != "closed" {
		t.Errorf("State = %q, want closed (failures were not consecutive)", rep.State)
	}
}

func TestBreakerOpenErrorMessage(t *testing.T) {
	b := openBreaker(t, t.TempDir(), Settings{FailuresToOpen: 1})
	rep := openIt(t, b, 1)

	_, err := b.Execute(func() error { return nil }, isUnavailable)

	want := "breaker misp: circuit breaker is open until " + rep.OpenUntil.UTC().Format(time.RFC3339)
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}

func TestBreakerStaysOpenAcrossOpen(t *testing.T) {
	dir := t.TempDir()
	first := openBreaker(t, dir, Settings{FailuresToOpen: 2})
	openIt(t, first, 2)
	skip(t, first)

	second := openBreaker(t, dir, Settings{FailuresToOpen: 2})

	got, err := second.State()
	if err != nil {
		t.Fatalf("State: %v", err)
	}
	if got != "open" {
		t.Errorf("State = %q, want open", got)
	}
	rep := skip(t, second)
	if rep.Notify {
		t.Error("Notify = true, want false (the first breaker already notified)")
	}
	if rep.SkippedCount != 2 {
		t.Errorf("SkippedCount = %d, want 2 (one skip per breaker)", rep.SkippedCount)
	}
}

func TestBreakerHalfOpen(t *testing.T) {
	for _, tc := range []struct {
		name  string
		probe func() error

		wantState     string
		wantOpened    bool
		wantRecovered bool
		wantNotify    bool
		wantCause     string
	}{
		{"success closes", func() error { return nil }, "closed", false, true, false, "timeout"},
		{"failure reopens", func() error { return errUnavailable }, "open", true, false, true, errUnavailable.Error()},
		{"excluded stays half-open", func() error { return errForbidden }, "half-open", false, false, false, "timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			b := openBreaker(t, dir, Settings{FailuresToOpen: 2, OpenFor: time.Minute})
			openIt(t, b, 2)
			skip(t, b)
			skip(t, b)

			// open to half-open
			shiftTime(t, dir, DefaultName, time.Minute+time.Second)
			if got, err := b.State(); err != nil || got != "half-open" {
				t.Fatalf("State = %q, %v; want half-open", got, err)
			}
			ran := false
			rep, _ := b.Execute(func() error { ran = true; return tc.probe() }, isUnavailable)

			if !ran {
				t.Fatal("probe did not run")
			}
			if rep.State != tc.wantState {
				t.Errorf("State = %q, want %q", rep.State, tc.wantState)
			}
			if rep.Opened != tc.wantOpened {
				t.Errorf("Opened = %v, want %v", rep.Opened, tc.wantOpened)
			}
			if rep.Recovered != tc.wantRecovered {
				t.Errorf("Recovered = %v, want %v", rep.Recovered, tc.wantRecovered)
			}
			if rep.Notify != tc.wantNotify {
				t.Errorf("Notify = %v, want %v", rep.Notify, tc.wantNotify)
			}
			if tc.wantOpened || tc.wantRecovered {
				if rep.SkippedCount != 2 {
					t.Errorf("SkippedCount = %d, want 2 from the period that ended", rep.SkippedCount)
				}
			}
			if rep.Cause != tc.wantCause {
				t.Errorf("Cause = %q, want %q", rep.Cause, tc.wantCause)
			}
		})
	}
}

func TestBreakerReopenStartsNewPeriod(t *testing.T) {
	dir := t.TempDir()
	b := openBreaker(t, dir, Settings{FailuresToOpen: 1})
	openIt(t, b, 1)
	skip(t, b)

	// half-open to open
	shiftTime(t, dir, DefaultName, 2*DefaultOpenFor)
	reopened := fail(t, b, "connection refused")
	if !reopened.Opened || !reopened.Notify {
		t.Fatalf("report = %+v, want Opened and Notify", reopened)
	}
	if reopened.Cause != "connection refused" {
		t.Errorf("Cause = %q, want the probe's cause", reopened.Cause)
	}
	rep := skip(t, b)

	if rep.SkippedCount != 1 {
		t.Errorf("SkippedCount = %d, want 1 (the count restarts each period)", rep.SkippedCount)
	}
	if rep.Notify {
		t.Error("Notify = true on a skipped call, want false")
	}
}

func TestBreakerHalfOpenProbes(t *testing.T) {
	dir := t.TempDir()
	b := openBreaker(t, dir, Settings{FailuresToOpen: 1, HalfOpenProbes: 2})
	openIt(t, b, 1)
	shiftTime(t, dir, DefaultName, 2*DefaultOpenFor)

	first := succeed(t, b)
	second := succeed(t, b)

	if first.State != "half-open" {
		t.Errorf("after one of two probes: State = %q, want half-open", first.State)
	}
	if second.State != "closed" || !second.Recovered {
		t.Errorf("after two probes: State = %q, Recovered = %v; want closed, true", second.State, second.Recovered)
	}
}

func TestBreakerExcludedErrors(t *testing.T) {
	b := openBreaker(t, t.TempDir(), Settings{FailuresToOpen: 2})

	for i := range 20 {
		rep, err := b.Execute(func() error { return errForbidden }, isUnavailable)
		if !errors.Is(err, errForbidden) {
			t.Fatalf("call %d: err = %v, want errForbidden", i+1, err)
		}
		if rep.State != "closed" {
			t.Fatalf("call %d: State = %q, want closed", i+1, rep.State)
		}
	}
	fail(t, b, "")
	if _, err := b.Execute(func() error { return errForbidden }, isUnavailable); !errors.Is(err, errForbidden) {
		t.Fatalf("err = %v, want errForbidden", err)
	}
	rep := fail(t, b, "")
	if rep.State != "open" {
		t.Errorf("State = %q, want open (an excluded error does not break a run of failures)", rep.State)
	}
}

func TestBreakerNilIsFailure(t *testing.T) {
	b := openBreaker(t, t.TempDir(), Settings{FailuresToOpen: 2})

	var rep Report
	for range 2 {
		rep, _ = b.Execute(func() error { return errForbidden }, nil)
	}

	if rep.State != "open" {
		t.Errorf("State = %q, want open (a nil isFailure counts every error)", rep.State)
	}
}

func TestBreakerCauseFallsBackToError(t *testing.T) {
	b := openBreaker(t, t.TempDir(), Settings{FailuresToOpen: 1})
	long := errors.New(strings.Repeat("é", maxCauseLen))

	rep, _ := b.Execute(func() error { return long }, nil)

	if !strings.HasPrefix(long.Error(), strings.TrimSuffix(rep.Cause, "…")) {
		t.Errorf("Cause = %q, want a prefix of the error text", rep.Cause)
	}
	if len(rep.Cause) > maxCauseLen+len("…") {
		t.Errorf("Cause has %d bytes, want at most %d", len(rep.Cause), maxCauseLen+len("…"))
	}
	if !strings.HasSuffix(rep.Cause, "…") {
		t.Errorf("Cause = %q, want it cut with an ellipsis", rep.Cause)
	}
}

func TestSetCauseOutsideExecute(t *testing.T) {
	dir := t.TempDir()
	b := openBreaker(t, dir, Settings{FailuresToOpen: 1})
	rep := fail(t, b, "")
	if rep.Cause != errUnavailable.Error() {
		t.Fatalf("Cause = %q, want the error text %q", rep.Cause, errUnavailable.Error())
	}

	b.SetCause("http 503")

	rep = skip(t, openBreaker(t, dir, Settings{FailuresToOpen: 1}))
	if rep.Cause != "http 503" {
		t.Errorf("Cause = %q, want http 503", rep.Cause)
	}
}

func TestBreakerNotifyWhenUnrecorded(t *testing.T) {
	dir := t.TempDir()
	b := openBreaker(t, dir, Settings{FailuresToOpen: 1})
	openIt(t, b, 1)
	// A process that opened the breaker and died before its metadata was
	// written leaves an open period with no notification recorded.
	err := state.Update(context.Background(), filepath.Join(dir, FileName), time.Second, func(old []byte) ([]byte, error) {
		doc, _, _, err := decodeDocument(old)
		if err != nil {
			return nil, err
		}
		doc.Breakers[DefaultName].NotifiedGeneration = 0
		return json.Marshal(doc)
	})
	if err != nil {
		t.Fatal(err)
	}

	first := skip(t, b)
	second := skip(t, b)

	if !first.Notify {
		t.Error("first skipped call: Notify = false, want true")
	}
	if second.Notify {
		t.Error("second skipped call: Notify = true, want false")
	}
}

func TestBreakerLockTimeout(t *testing.T) {
	dir := t.TempDir()
	b := openBreaker(t, dir, Settings{LockTimeout: 30 * time.Millisecond})
	holder, err := state.AcquireLock(context.Background(), filepath.Join(dir, FileName+".lock"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Release()

	ran := false
	start := time.Now()
	_, err = b.Execute(func() error { ran = true; return nil }, isUnavailable)

	if !errors.Is(err, state.ErrLockTimeout) {
		t.Errorf("err = %v, want state.ErrLockTimeout", err)
	}
	if ran {
		t.Error("fn ran without the lock")
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("Execute waited %s, want about the 30ms lock timeout", elapsed)
	}
}

func TestBreakerSuccessSkipsWrite(t *testing.T) {
	dir := t.TempDir()
	b := openBreaker(t, dir, Settings{})
	path := filepath.Join(dir, FileName)
	// The link keeps the original file, so a rewrite (a rename of a new file
	// over path) shows up as path and the link no longer being one file.
	link := filepath.Join(dir, "original")
	if err := os.Link(path, link); err != nil {
		t.Fatal(err)
	}

	for range 5 {
		succeed(t, b)
	}

	if !sameFile(t, path, link) {
		t.Error("successful calls in the closed state rewrote the state file")
	}
	fail(t, b, "")
	if sameFile(t, path, link) {
		t.Error("a failure did not rewrite the state file")
	}
}

func sameFile(t *testing.T, a, b string) bool {
	t.Helper()
	infoA, err := os.Stat(a)
	if err != nil {
		t.Fatal(err)
	}
	infoB, err := os.Stat(b)
	if err != nil {
		t.Fatal(err)
	}
	return os.SameFile(infoA, infoB)
}

func TestBreakerPanicReleasesLock(t *testing.T) {
	dir := t.TempDir()
	b := openBreaker(t, dir, Settings{LockTimeout: 100 * time.Millisecond})

	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic in fn did not reach the caller")
			}
		}()
		b.Execute(func() error { panic("boom") }, isUnavailable)
	}()

	if _, err := b.Execute(func() error { return nil }, isUnavailable); err != nil {
		t.Errorf("Execute after a panic: %v", err)
	}
	// After the panic, SetCause must write at once instead of staging the
	// cause for a call that has ended.
	b.SetCause("after panic")
	if got := readDocument(t, dir).Breakers[DefaultName].Cause; got != "after panic" {
		t.Errorf("stored cause = %q, want %q", got, "after panic")
	}
}

func TestBreakerNamesShareFile(t *testing.T) {
	dir := t.TempDir()
	misp := openBreaker(t, dir, Settings{FailuresToOpen: 1})
	other := openBreaker(t, dir, Settings{Name: "telegram", FailuresToOpen: 1})

	openIt(t, misp, 1)

	if rep := succeed(t, other); rep.State != "closed" {
		t.Errorf("telegram breaker State = %q, want closed", rep.State)
	}
	doc := readDocument(t, dir)
	if len(doc.Entries) != 2 {
		t.Errorf("state file has %d entries, want 2", len(doc.Entries))
	}
}

func TestBreakerCorruptFile(t *testing.T) {
	valid := func(t *testing.T) []byte {
		dir := t.TempDir()
		openIt(t, openBreaker(t, dir, Settings{FailuresToOpen: 1}), 1)
		data, err := os.ReadFile(filepath.Join(dir, FileName))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}(t)

	for _, tc := range []struct {
		name    string
		content []byte

		wantWarn string
	}{
		{"garbage", []byte("\x00\x01not json"), "breaker state file is corrupt"},
		{"empty", []byte{}, "breaker state file is corrupt"},
		{"truncated", valid[:len(valid)/2], "breaker state file is corrupt"},
		{"wrong version", bytes.Replace(valid, []byte(`"version":1`), []byte(`"version":2`), 1), "breaker state file is corrupt"},
		{"null", []byte("null"), "breaker state file is corrupt"},
		{"invalid state", bytes.Replace(valid, []byte(`"state":2`), []byte(`"state":7`), 1), "dropped an invalid entry"},
		{"negative count", bytes.Replace(valid, []byte(`"Requests":0`), []byte(`"Requests":-1`), 1), "dropped an invalid entry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if bytes.Equal(tc.content, valid) {
				t.Fatal("test case did not change the valid file")
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, FileName), tc.content, 0o640); err != nil {
				t.Fatal(err)
			}
			log, logs := newLogger()

			b, err := Open(dir, Settings{FailuresToOpen: 1}, log)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}

			if !strings.Contains(logs.String(), tc.wantWarn) {
				t.Errorf("log = %s, want a warning containing %q", logs, tc.wantWarn)
			}
			if !strings.Contains(logs.String(), `"level":"WARN"`) {
				t.Errorf("log = %s, want level WARN", logs)
			}
			if !strings.Contains(logs.String(), `"path":`) {
				t.Errorf("log = %s, want the path", logs)
			}
			if got, err := b.State(); err != nil || got != "closed" {
				t.Errorf("State = %q, %v; want closed after a reset", got, err)
			}
			readDocument(t, dir)
		})
	}
}

func TestBreakerUnreadableFile(t *testing.T) {
	dir := t.TempDir()
	// A directory in place of the state file cannot be read as a file.
	if err := os.Mkdir(filepath.Join(dir, FileName), 0o750); err != nil {
		t.Fatal(err)
	}
	log, logs := newLogger()

	_, err := Open(dir, Settings{}, log)

	if !strings.Contains(logs.String(), "breaker state file is unreadable") {
		t.Errorf("log = %s, want an unreadable-file warning", logs)
	}
	// The directory cannot be replaced by rename either, so Open fails.
	if err == nil {
		t.Error("Open succeeded, want an error for a state file that cannot be written")
	}
}

func TestBreakerDeletedFileRecreated(t *testing.T) {
	dir := t.TempDir()
	b := openBreaker(t, dir, Settings{FailuresToOpen: 1})
	if err := os.Remove(filepath.Join(dir, FileName)); err != nil {
		t.Fatal(err)
	}

	rep := succeed(t, b)

	if rep.State != "closed" {
		t.Errorf("State = %q, want closed", rep.State)
	}
	readDocument(t, dir)
}

// Helper processes started by the tests below.
const (
	helperEnv = "BREAKER_TEST_HELPER"
	helperDir = "BREAKER_TEST_DIR"
)

// TestHelperProcess is the body of the helper processes that helperCommand
// starts. Run as an ordinary test, it returns at once.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		return
	}
	dir := os.Getenv(helperDir)
	settings := Settings{FailuresToOpen: 3, LockTimeout: 10 * time.Second}
	b, err := Open(dir, settings, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}

	switch mode {
	case "fail":
		// One per-alert run whose lookup fails.
		rep, err := b.Execute(func() error { return errUnavailable }, isUnavailable)
		if err != nil && !errors.Is(err, errUnavailable) && !errors.Is(err, ErrOpen) {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
			os.Exit(1)
		}
	case "hammer":
		for i := range 40 {
			_, err := b.Execute(func() error { return outcome(i) }, isUnavailable)
			if err != nil && !errors.Is(err, errUnavailable) && !errors.Is(err, errForbidden) && !errors.Is(err, ErrOpen) {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
	default:
		fmt.Fprintf(os.Stderr, "unknown helper mode %q\n", mode)
		os.Exit(2)
	}
	os.Exit(0)
}

// outcome gives call i a success, a counted failure or an excluded error.
func outcome(i int) error {
	switch i % 3 {
	case 0:
		return nil
	case 1:
		return errUnavailable
	default:
		return errForbidden
	}
}

func helperCommand(t *testing.T, mode, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, helperDir+"="+dir)
	cmd.Stderr = os.Stderr
	return cmd
}

func TestBreakerSeparateProcesses(t *testing.T) {
	dir := t.TempDir()
	want := []struct {
		state   string
		opened  bool
		notify  bool
		skipped bool
	}{
		{"closed", false, false, false},
		{"closed", false, false, false},
		{"open", true, true, false},
		{"open", false, false, true},
	}

	for i, w := range want {
		out, err := helperCommand(t, "fail", dir).Output()
		if err != nil {
			t.Fatalf("run %d: helper failed: %v", i+1, err)
		}
		var rep Report
		if err := json.Unmarshal(out, &rep); err != nil {
			t.Fatalf("run %d: decode report %q: %v", i+1, out, err)
		}
		if rep.State != w.state || rep.Opened != w.opened || rep.Notify != w.notify || rep.Skipped != w.skipped {
			t.Errorf("run %d: report = %+v, want State %s, Opened %v, Notify %v, Skipped %v",
				i+1, rep, w.state, w.opened, w.notify, w.skipped)
		}
	}
}

func TestBreakerConcurrent(t *testing.T) {
	dir := t.TempDir()
	log, logs := newLogger()
	settings := Settings{FailuresToOpen: 3, LockTimeout: 10 * time.Second}
	if _, err := Open(dir, settings, log); err != nil {
		t.Fatal(err)
	}

	cmds := make([]*exec.Cmd, 5)
	for i := range cmds {
		cmds[i] = helperCommand(t, "hammer", dir)
		if err := cmds[i].Start(); err != nil {
			t.Fatalf("start helper: %v", err)
		}
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			// Like a separate run, each goroutine opens a Breaker of its own.
			b, err := Open(dir, settings, log)
			if err != nil {
				t.Errorf("Open: %v", err)
				return
			}
			for i := range 40 {
				_, err := b.Execute(func() error { return outcome(i) }, isUnavailable)
				if err != nil && !errors.Is(err, errUnavailable) && !errors.Is(err, errForbidden) && !errors.Is(err, ErrOpen) {
					t.Errorf("Execute: %v", err)
					return
				}
			}
		})
	}
	// These goroutines share one Breaker.
	shared := openBreaker(t, dir, settings)
	for range 5 {
		wg.Go(func() {
			for i := range 40 {
				shared.Execute(func() error { return outcome(i) }, isUnavailable)
			}
		})
	}
	wg.Wait()
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper failed: %v", err)
		}
	}

	doc := readDocument(t, dir)
	if _, ok := doc.Entries["gobreaker:state:misp"]; !ok {
		t.Error("state file lost the breaker entry")
	}
	if strings.Contains(logs.String(), "WARN") {
		t.Errorf("concurrent calls logged warnings:\n%s", logs)
	}
}

func BenchmarkExecuteOpen(b *testing.B) {
	dir := b.TempDir()
	br := openBreaker(b, dir, Settings{FailuresToOpen: 1})
	br.Execute(func() error { return errUnavailable }, nil)
	b.ReportAllocs()

	for b.Loop() {
		if _, err := br.Execute(func() error { return nil }, nil); !errors.Is(err, ErrOpen) {
			b.Fatalf("err = %v, want ErrOpen", err)
		}
	}
}

func BenchmarkExecuteClosedSuccess(b *testing.B) {
	br := openBreaker(b, b.TempDir(), Settings{})
	b.ReportAllocs()

	for b.Loop() {
		if _, err := br.Execute(func() error { return nil }, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenExecuteOpen is one per-alert run while the breaker is open:
// Open, then one skipped Execute.
func BenchmarkOpenExecuteOpen(b *testing.B) {
	dir := b.TempDir()
	openBreaker(b, dir, Settings{FailuresToOpen: 1}).Execute(func() error { return errUnavailable }, nil)
	b.ReportAllocs()

	for b.Loop() {
		br := openBreaker(b, dir, Settings{FailuresToOpen: 1})
		if _, err := br.Execute(func() error { return nil }, nil); !errors.Is(err, ErrOpen) {
			b.Fatalf("err = %v, want ErrOpen", err)
		}
	}
}

func TestOpenInvalidName(t *testing.T) {
	for _, name := range []string{"../misp", "..", ".hidden", "a/b", "misp\x00", strings.Repeat("m", 65)} {
		t.Run(name, func(t *testing.T) {
			_, err := Open(t.TempDir(), Settings{Name: name}, nil)

			if err == nil || !strings.Contains(err.Error(), "invalid breaker name") {
				t.Errorf("err = %v, want an invalid breaker name error", err)
			}
		})
	}
}

func FuzzOpenStateFile(f *testing.F) {
	// A valid file with an open breaker.
	f.Add([]byte(`{"version":1,"entries":{"gobreaker:state:misp":{"state":2,"generation":3,"age":0,"counts":{"Requests":0,"TotalSuccesses":0,"TotalFailures":0,"TotalExclusions":0,"ConsecutiveSuccesses":0,"ConsecutiveFailures":0},"buckets":[{}],"start":"2025-01-01T00:00:00Z","expiry":"2025-01-01T00:01:00Z"}},"breakers":{"misp":{"cause":"timeout","notified_generation":3}}}`))
	// An entry that is a JSON string, not an object.
	f.Add([]byte(`{"version":1,"entries":{"gobreaker:state:misp":"x"}}`))
	// A null metadata record and an unknown field.
	f.Add([]byte(`{"version":1,"entries":{},"breakers":{"misp":null},"extra":true}`))
	// Version as a string.
	f.Add([]byte(`{"version":"1"}`))
	// A state number gobreaker does not know.
	f.Add([]byte(`{"version":1,"entries":{"gobreaker:state:misp":{"state":-1}}}`))
	// Not JSON.
	f.Add([]byte("\xff\xfe"))

	f.Fuzz(func(t *testing.T, content []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, FileName), content, 0o640); err != nil {
			t.Fatal(err)
		}

		b, err := Open(dir, Settings{FailuresToOpen: 1}, nil)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		rep, err := b.Execute(func() error { return errUnavailable }, nil)
		if err != nil && !errors.Is(err, errUnavailable) && !errors.Is(err, ErrOpen) {
			t.Fatalf("Execute: %v", err)
		}

		if rep.State != "open" {
			t.Errorf("State = %q, want open after a failure with FailuresToOpen 1", rep.State)
		}
		readDocument(t, dir)
	})
}
