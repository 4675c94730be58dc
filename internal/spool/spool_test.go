package spool

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/indicator"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/state"
)

var testTime = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable time source for a Spool.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: testTime} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// logBuffer collects log output as JSON lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// Records returns the decoded log records.
func (l *logBuffer) Records(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var records []map[string]any
	scanner := bufio.NewScanner(bytes.NewReader(l.buf.Bytes()))
	for scanner.Scan() {
		var record map[string]any
		if err := json.Unmarshal(scanner.Bytes(), &record); err != nil {
			t.Fatalf("decode log line %q: %v", scanner.Text(), err)
		}
		records = append(records, record)
	}
	return records
}

func newLogger() (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	return slog.New(slog.NewJSONHandler(buf, nil)), buf
}

func record(value string) Record {
	return Record{
		Indicators: []indicator.Indicator{{Kind: indicator.IP, Value: value, Field: "data.srcip"}},
		Source:     json.RawMessage(`{"alert_id":"1740830400.1","agent":{"id":"001"}}`),
	}
}

func add(t *testing.T, s *Spool, r Record) {
	t.Helper()
	if err := s.Add(r); err != nil {
		t.Fatalf("Add: %v", err)
	}
}

// replayAll replays every record and returns their first indicator values
// in the order fn saw them.
func replayAll(t *testing.T, s *Spool) []string {
	t.Helper()
	var seen []string
	n, err := s.Replay(context.Background(), func(r Record) error {
		seen = append(seen, r.Indicators[0].Value)
		return nil
	})
	if err != nil {
		t.Fatalf("Replay: %v", err)
	}
	if n != len(seen) {
		t.Errorf("Replay = %d, want %d (the records fn completed)", n, len(seen))
	}
	return seen
}

func TestAddReplayRoundTrip(t *testing.T) {
	s := New(t.TempDir(), Settings{}, newClock().Now, nil)
	want := Record{
		Created: testTime.Add(-time.Minute),
		Indicators: []indicator.Indicator{
			{Kind: indicator.Domain, Value: "example.org", Field: "data.win.eventdata.queryName", Query: "example.org"},
			{Kind: indicator.SHA256, Value: strings.Repeat("ab", 32), Field: "syscheck.sha256_after"},
		},
		Source: json.RawMessage(`{"alert_id":"1740830400.1","rule":{"id":"92213"}}`),
	}
	add(t, s, want)

	var got []Record
	if _, err := s.Replay(context.Background(), func(r Record) error { got = append(got, r); return nil }); err != nil {
		t.Fatalf("Replay: %v", err)
	}

	if len(got) != 1 {
		t.Fatalf("Replay handed %d records, want 1", len(got))
	}
	if got[0].ID == "" {
		t.Error("ID is empty, want one set by Add")
	}
	if !got[0].Created.Equal(want.Created) {
		t.Errorf("Created = %s, want %s", got[0].Created, want.Created)
	}
	if !slices.Equal(got[0].Indicators, want.Indicators) {
		t.Errorf("Indicators = %+v, want %+v", got[0].Indicators, want.Indicators)
	}
	if string(got[0].Source) != string(want.Source) {
		t.Errorf("Source = %s, want %s", got[0].Source, want.Source)
	}
	if n := s.Len(); n != 0 {
		t.Errorf("Len after replay = %d, want 0", n)
	}
}

func TestAddDefaults(t *testing.T) {
	clk := newClock()
	s := New(t.TempDir(), Settings{}, clk.Now, nil)
	r := record("203.0.113.1")
	r.Source = nil
	add(t, s, r)

	var got Record
	s.Replay(context.Background(), func(r Record) error { got = r; return nil })

	if !got.Created.Equal(testTime) {
		t.Errorf("Created = %s, want the clock's %s", got.Created, testTime)
	}
	if string(got.Source) != "null" {
		t.Errorf("Source = %s, want null", got.Source)
	}
}

func TestAddRejects(t *testing.T) {
	for _, tc := range []struct {
		name   string
		record Record

		want string
	}{
		{"no indicators", Record{}, "no indicators"},
		{"path in ID", Record{ID: "../x", Indicators: record("a").Indicators}, "invalid ID"},
		{"hidden ID", Record{ID: ".x", Indicators: record("a").Indicators}, "invalid ID"},
		{"invalid source", Record{Indicators: record("a").Indicators, Source: json.RawMessage(`{"a":`)}, "encode spool record"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := New(dir, Settings{}, newClock().Now, nil)

			err := s.Add(tc.record)

			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one containing %q", err, tc.want)
			}
			if n := s.Len(); n != 0 {
				t.Errorf("Len = %d, want 0", n)
			}
		})
	}
}

func TestReplayOrder(t *testing.T) {
	clk := newClock()
	s := New(t.TempDir(), Settings{}, clk.Now, nil)
	for _, value := range []string{"b", "c", "d"} {
		clk.Advance(time.Second)
		add(t, s, record(value))
	}
	// Added last, but created first.
	early := record("a")
	early.Created = testTime
	add(t, s, early)

	got := replayAll(t, s)

	if want := []string{"a", "b", "c", "d"}; !slices.Equal(got, want) {
		t.Errorf("replay order = %v, want %v", got, want)
	}
}

func TestIDsUniqueAndSorted(t *testing.T) {
	s := New(t.TempDir(), Settings{}, newClock().Now, nil)
	for i := range 50 {
		add(t, s, record(strconv.Itoa(i))) // all in the same nanosecond
	}

	if n := s.Len(); n != 50 {
		t.Errorf("Len = %d, want 50 distinct records", n)
	}
	if a, b := newID(testTime), newID(testTime.Add(time.Nanosecond)); a >= b {
		t.Errorf("newID: %s sorts after the later %s", a, b)
	}
	if a, b := newID(time.Unix(9, 0)), newID(time.Unix(10, 0)); a >= b {
		t.Errorf("newID: %s sorts after the later %s (padding)", a, b)
	}
}

func TestAddDropsOldest(t *testing.T) {
	clk := newClock()
	log, logs := newLogger()
	s := New(t.TempDir(), Settings{MaxRecords: 3}, clk.Now, log)

	for i := range 5 {
		clk.Advance(time.Second)
		add(t, s, record(strconv.Itoa(i)))
	}

	if n := s.Len(); n != 3 {
		t.Errorf("Len = %d, want 3", n)
	}
	if got, want := replayAll(t, s), []string{"2", "3", "4"}; !slices.Equal(got, want) {
		t.Errorf("records kept = %v, want the newest %v", got, want)
	}
	warnings := 0
	for _, r := range logs.Records(t) {
		if r["level"] != "WARN" {
			continue
		}
		warnings++
		if r["dropped"] != 1.0 || r["max_records"] != 3.0 {
			t.Errorf("warning = %v, want dropped 1 and max_records 3", r)
		}
	}
	if warnings != 2 {
		t.Errorf("%d warnings, want one for each of the 2 Adds that dropped", warnings)
	}
}

func TestAddDropsManyWithOneWarning(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	big := New(dir, Settings{MaxRecords: 100}, clk.Now, nil)
	for i := range 10 {
		clk.Advance(time.Second)
		add(t, big, record(strconv.Itoa(i)))
	}
	log, logs := newLogger()
	small := New(dir, Settings{MaxRecords: 3}, clk.Now, log)

	clk.Advance(time.Second)
	add(t, small, record("new"))

	records := logs.Records(t)
	if len(records) != 1 {
		t.Fatalf("%d log lines, want 1: %v", len(records), records)
	}
	if got := records[0]["dropped"]; got != 8.0 {
		t.Errorf("dropped = %v, want 8", got)
	}
	if got, want := replayAll(t, small), []string{"8", "9", "new"}; !slices.Equal(got, want) {
		t.Errorf("records kept = %v, want %v", got, want)
	}
}

func TestReplayExpired(t *testing.T) {
	clk := newClock()
	log, logs := newLogger()
	s := New(t.TempDir(), Settings{MaxAge: time.Hour}, clk.Now, log)
	add(t, s, record("old-1"))
	add(t, s, record("old-2"))
	clk.Advance(50 * time.Minute)
	add(t, s, record("young"))
	clk.Advance(11 * time.Minute)

	got := replayAll(t, s)

	if want := []string{"young"}; !slices.Equal(got, want) {
		t.Errorf("fn saw %v, want %v", got, want)
	}
	if n := s.Len(); n != 0 {
		t.Errorf("Len = %d, want 0", n)
	}
	records := logs.Records(t)
	if len(records) != 1 {
		t.Fatalf("%d log lines, want 1: %v", len(records), records)
	}
	if records[0]["level"] != "WARN" || records[0]["expired"] != 2.0 {
		t.Errorf("log = %v, want one Warn with expired 2", records[0])
	}
}

func TestReplayStopsOnError(t *testing.T) {
	s := New(t.TempDir(), Settings{}, newClock().Now, nil)
	for i := range 5 {
		add(t, s, record(strconv.Itoa(i)))
	}
	errMISP := errors.New("misp unavailable")

	calls := 0
	n, err := s.Replay(context.Background(), func(Record) error {
		calls++
		if calls == 3 {
			return errMISP
		}
		return nil
	})

	if !errors.Is(err, errMISP) {
		t.Errorf("err = %v, want errMISP", err)
	}
	if n != 2 {
		t.Errorf("completed = %d, want 2", n)
	}
	if got := s.Len(); got != 3 {
		t.Errorf("Len = %d, want 3 (the failed record and the two after it)", got)
	}
}

func TestReplayContextDeadline(t *testing.T) {
	s := New(t.TempDir(), Settings{}, newClock().Now, nil)
	for i := range 5 {
		add(t, s, record(strconv.Itoa(i)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()

	n, err := s.Replay(ctx, func(Record) error {
		time.Sleep(20 * time.Millisecond)
		return nil
	})

	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
	if n < 1 || n > 3 {
		t.Errorf("completed = %d, want 1 to 3 records in 30ms at 20ms each", n)
	}
	if got := s.Len(); got != 5-n {
		t.Errorf("Len = %d, want %d", got, 5-n)
	}
}

func TestReplayCancelledContext(t *testing.T) {
	s := New(t.TempDir(), Settings{}, newClock().Now, nil)
	add(t, s, record("a"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	n, err := s.Replay(ctx, func(Record) error {
		t.Error("fn called with a cancelled context")
		return nil
	})

	if n != 0 || !errors.Is(err, context.Canceled) {
		t.Errorf("Replay = %d, %v; want 0, context.Canceled", n, err)
	}
}

func TestReplayLockBusy(t *testing.T) {
	dir := t.TempDir()
	s := New(dir, Settings{}, newClock().Now, nil)
	add(t, s, record("a"))
	holder, err := state.TryLock(filepath.Join(dir, "spool.lock"))
	if err != nil || holder == nil {
		t.Fatalf("TryLock = %v, %v", holder, err)
	}
	defer holder.Release()

	start := time.Now()
	n, err := s.Replay(context.Background(), func(Record) error {
		t.Error("fn called while another replay holds the lock")
		return nil
	})

	if n != 0 || err != nil {
		t.Errorf("Replay = %d, %v; want 0, nil", n, err)
	}
	if elapsed := time.Since(start); elapsed > 100*time.Millisecond {
		t.Errorf("Replay waited %s, want an immediate return", elapsed)
	}
	if got := s.Len(); got != 1 {
		t.Errorf("Len = %d, want 1", got)
	}
}

func TestReplayCorruptRecords(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	log, logs := newLogger()
	s := New(dir, Settings{}, clk.Now, log)
	add(t, s, record("first"))
	valid, err := os.ReadFile(filepath.Join(s.dir, mustList(t, s)[0]))
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSuffix(mustList(t, s)[0], recordExt)
	corrupt := map[string][]byte{
		"garbage":       []byte("\x00\xffnot json"),
		"empty":         nil,
		"truncated":     valid[:len(valid)/2],
		"wrong version": bytes.Replace(valid, []byte(`"version":1`), []byte(`"version":9`), 1),
		"other ID":      valid,
		"no indicators": bytes.Replace(valid, []byte(`"indicators":[`), []byte(`"indicators":[],"x":[`), 1),
		"no time":       bytes.Replace(valid, []byte(`"created":"`), []byte(`"created":"0001-01-01T00:00:00Z","x":"`), 1),
	}
	i := 0
	for name, content := range corrupt {
		i++
		// IDs after the valid record's, so that each name is unique and
		// they sort after it.
		fileName := fmt.Sprintf("%s-%02d%s", id, i, recordExt)
		if err := os.WriteFile(filepath.Join(s.dir, fileName), content, 0o640); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	clk.Advance(time.Second)
	add(t, s, record("last"))

	got := replayAll(t, s)

	if want := []string{"first", "last"}; !slices.Equal(got, want) {
		t.Errorf("fn saw %v, want %v (corrupt records must not block the queue)", got, want)
	}
	if n := s.Len(); n != 0 {
		t.Errorf("Len = %d, want 0", n)
	}
	moved, err := os.ReadDir(filepath.Join(s.dir, corruptDir))
	if err != nil {
		t.Fatal(err)
	}
	if len(moved) != len(corrupt) {
		t.Errorf("%d files moved aside, want %d", len(moved), len(corrupt))
	}
	warnings := 0
	for _, r := range logs.Records(t) {
		if r["level"] == "WARN" && r["msg"] == "moved an unreadable spool record aside" && r["path"] != nil && r["error"] != nil {
			warnings++
		}
	}
	if warnings != len(corrupt) {
		t.Errorf("%d warnings with path and error, want %d", warnings, len(corrupt))
	}
}

func TestCorruptDirBounded(t *testing.T) {
	s := New(t.TempDir(), Settings{}, newClock().Now, nil)
	if err := os.MkdirAll(s.dir, 0o750); err != nil {
		t.Fatal(err)
	}
	for i := range maxCorrupt + 5 {
		name := fmt.Sprintf("%05d%s", i, recordExt)
		if err := os.WriteFile(filepath.Join(s.dir, name), []byte("x"), 0o640); err != nil {
			t.Fatal(err)
		}
	}

	replayAll(t, s)

	moved, err := os.ReadDir(filepath.Join(s.dir, corruptDir))
	if err != nil {
		t.Fatal(err)
	}
	if len(moved) != maxCorrupt {
		t.Errorf("corrupt directory contains %d files, want %d", len(moved), maxCorrupt)
	}
	if moved[0].Name() != fmt.Sprintf("%05d%s", 5, recordExt) {
		t.Errorf("oldest file kept is %s, want the 6th", moved[0].Name())
	}
}

func TestReplayRemovesStaleTemps(t *testing.T) {
	s := New(t.TempDir(), Settings{}, newClock().Now, nil)
	add(t, s, record("a"))
	stale := filepath.Join(s.dir, ".x.json.tmp-1")
	fresh := filepath.Join(s.dir, ".y.json.tmp-2")
	for path, age := range map[string]time.Duration{stale: 2 * time.Hour, fresh: time.Minute} {
		if err := os.WriteFile(path, []byte("{"), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, testTime.Add(-age), testTime.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}

	replayAll(t, s)

	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("stale temp file still exists")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("fresh temp file was deleted: %v", err)
	}
}

func TestLenIgnoresOtherFiles(t *testing.T) {
	s := New(t.TempDir(), Settings{}, newClock().Now, nil)
	if n := s.Len(); n != 0 {
		t.Errorf("Len of a missing spool = %d, want 0", n)
	}
	add(t, s, record("a"))
	for _, name := range []string{".temp.json.tmp-1", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(s.dir, name), nil, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(s.dir, "dir.json"), 0o750); err != nil {
		t.Fatal(err)
	}

	if n := s.Len(); n != 1 {
		t.Errorf("Len = %d, want 1", n)
	}
}

// mustList returns the record file names, oldest first.
func mustList(t *testing.T, s *Spool) []string {
	t.Helper()
	names, err := s.list()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	return names
}

// Helper processes started by the tests below.
const (
	helperEnv = "SPOOL_TEST_HELPER"
	helperDir = "SPOOL_TEST_DIR"
	helperLog = "SPOOL_TEST_LOG"
)

// TestHelperProcess is the body of the helper processes that helperCommand
// starts. Run as an ordinary test, it returns at once.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "replay" {
		return
	}
	s := New(os.Getenv(helperDir), Settings{}, time.Now, nil)
	seen, err := os.OpenFile(os.Getenv(helperLog), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}

	// Replay until the spool is empty, as runs that follow each other would.
	deadline := time.Now().Add(30 * time.Second)
	for s.Len() > 0 && time.Now().Before(deadline) {
		_, err := s.Replay(context.Background(), func(r Record) error {
			// One write per line, so that lines from processes do not mix.
			_, err := seen.WriteString(r.ID + "\n")
			time.Sleep(100 * time.Microsecond)
			return err
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		time.Sleep(time.Millisecond)
	}
	os.Exit(0)
}

func TestReplayConcurrentProcesses(t *testing.T) {
	dir := t.TempDir()
	seenPath := filepath.Join(dir, "seen.log")
	s := New(dir, Settings{}, time.Now, nil)
	const records = 300
	for i := range records {
		add(t, s, record(strconv.Itoa(i)))
	}
	ids := mustList(t, s)

	cmds := make([]*exec.Cmd, 4)
	for i := range cmds {
		cmds[i] = exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
		cmds[i].Env = append(os.Environ(), helperEnv+"=replay", helperDir+"="+dir, helperLog+"="+seenPath)
		cmds[i].Stderr = os.Stderr
		if err := cmds[i].Start(); err != nil {
			t.Fatalf("start helper: %v", err)
		}
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper failed: %v", err)
		}
	}

	data, err := os.ReadFile(seenPath)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for line := range strings.Lines(string(data)) {
		counts[strings.TrimSuffix(line, "\n")]++
	}
	for _, name := range ids {
		id := strings.TrimSuffix(name, recordExt)
		if counts[id] != 1 {
			t.Errorf("record %s processed %d times, want exactly once", id, counts[id])
		}
	}
	if len(counts) != records {
		t.Errorf("%d distinct records processed, want %d", len(counts), records)
	}
	if n := s.Len(); n != 0 {
		t.Errorf("Len = %d, want 0", n)
	}
}

func FuzzReplayRecordFile(f *testing.F) {
	// A valid record.
	f.Add([]byte(`{"version":1,"id":"00000000000000000001","created":"2025-03-01T11:59:00Z","indicators":[{"kind":"ip","value":"203.0.113.1","field":"data.srcip"}],"source":{"a":1}}`))
	// An indicator list of the wrong type.
	f.Add([]byte(`{"version":1,"id":"00000000000000000001","created":"2025-03-01T11:59:00Z","indicators":{}}`))
	// A time that does not parse.
	f.Add([]byte(`{"version":1,"id":"00000000000000000001","created":"yesterday","indicators":[{}]}`))
	// A record from the far future, which never expires.
	f.Add([]byte(`{"version":1,"id":"00000000000000000001","created":"9999-12-31T23:59:59Z","indicators":[{}],"source":null}`))

	f.Fuzz(func(t *testing.T, content []byte) {
		s := New(t.TempDir(), Settings{}, newClock().Now, nil)
		if err := os.MkdirAll(s.dir, 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(s.dir, "00000000000000000001"+recordExt), content, 0o640); err != nil {
			t.Fatal(err)
		}
		last := record("last")
		last.ID = "00000000000000000002"
		add(t, s, last)

		var seen []Record
		_, err := s.Replay(context.Background(), func(r Record) error {
			seen = append(seen, r)
			return nil
		})

		if err != nil {
			t.Fatalf("Replay: %v", err)
		}
		if len(seen) == 0 || seen[len(seen)-1].ID != last.ID {
			t.Fatalf("fn saw %d records without the valid last one: a bad record blocked the queue", len(seen))
		}
		for _, r := range seen {
			if len(r.Indicators) == 0 || r.Created.IsZero() {
				t.Errorf("fn got an incomplete record %+v", r)
			}
		}
		if n := s.Len(); n != 0 {
			t.Errorf("Len = %d, want 0", n)
		}
	})
}

func BenchmarkAdd(b *testing.B) {
	s := New(b.TempDir(), Settings{MaxRecords: 100}, time.Now, nil)
	r := Record{
		Indicators: []indicator.Indicator{{Kind: indicator.IP, Value: "203.0.113.1", Field: "data.srcip"}},
		Source:     json.RawMessage(`{"alert_id":"1740830400.1","agent":{"id":"001"}}`),
	}
	b.ReportAllocs()

	for b.Loop() {
		if err := s.Add(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLen(b *testing.B) {
	s := New(b.TempDir(), Settings{}, time.Now, nil)
	r := Record{Indicators: []indicator.Indicator{{Kind: indicator.IP, Value: "203.0.113.1"}}}
	for range 1000 {
		if err := s.Add(r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()

	for b.Loop() {
		if n := s.Len(); n != 1000 {
			b.Fatalf("Len = %d, want 1000", n)
		}
	}
}
