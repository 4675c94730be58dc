package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/state"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/storm"
)

var t0 = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)

// fakeSender returns scripted errors, then success, and records messages.
type fakeSender struct {
	mu      sync.Mutex
	results []error
	sent    []Message
}

func (f *fakeSender) Send(_ context.Context, m Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, m)
	if len(f.results) == 0 {
		return nil
	}
	err := f.results[0]
	f.results = f.results[1:]
	return err
}

// fixture is a Deliverer over a real state file, a fake sender and a
// clock that tests move.
type fixture struct {
	d      *Deliverer
	sender *fakeSender
	logs   *strings.Builder
	now    time.Time
	slept  []time.Duration
	notes  []storm.Suppressed
}

func newFixture(t *testing.T, limits storm.Limits) *fixture {
	t.Helper()
	f := &fixture{sender: &fakeSender{}, logs: &strings.Builder{}, now: t0}
	log := slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.d = &Deliverer{
		Sender: f.sender,
		Store:  storm.NewStore(t.TempDir(), log),
		Limits: limits,
		Target: Target{ChatID: "-1001", ThreadID: 7, DisableLinkPreview: true},
		Render: func(payload json.RawMessage, note storm.Suppressed) (Content, error) {
			var p struct{ N string }
			if err := json.Unmarshal(payload, &p); err != nil {
				return Content{}, err
			}
			f.notes = append(f.notes, note)
			text := "alert " + p.N
			if note.Total() > 0 {
				text += fmt.Sprintf(" +%d", note.Total())
			}
			return Content{Markdown: "*" + text + "*", Plain: text}, nil
		},
		Log: log,
		Now: func() time.Time { return f.now },
		Sleep: func(_ context.Context, d time.Duration) error {
			f.slept = append(f.slept, d)
			f.now = f.now.Add(d)
			return nil
		},
	}
	return f
}

var defaultLimits = storm.Limits{RatePerMinute: 20, Burst: 5, DedupeWindow: 10 * time.Minute, MaxPending: 10}

func item(n string) Item {
	return Item{AlertID: "a" + n, RuleID: "920100", DedupeKey: storm.Key("920100", n), Payload: json.RawMessage(`{"N":"` + n + `"}`)}
}

// deliver runs Deliver with a budget of 8 s.
func (f *fixture) deliver(t *testing.T, it Item) (Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	return f.d.Deliver(ctx, it)
}

func (f *fixture) texts() []string {
	var out []string
	for _, m := range f.sender.sent {
		out = append(out, m.ChatID+" "+m.Text)
	}
	return out
}

func TestDeliverSends(t *testing.T) {
	f := newFixture(t, defaultLimits)

	res, err := f.deliver(t, item("1"))

	if err != nil || res.Outcome != OutcomeSent || res.Sent != 1 || res.Pending != 0 {
		t.Fatalf("Deliver = %+v, %v; want sent", res, err)
	}
	want := Message{ChatID: "-1001", ThreadID: 7, Text: "*alert 1*", ParseMode: ParseModeMarkdownV2, DisableLinkPreview: true}
	if len(f.sender.sent) != 1 || f.sender.sent[0] != want {
		t.Errorf("sent %+v, want %+v", f.sender.sent, want)
	}
}

func TestDeliverDedupe(t *testing.T) {
	f := newFixture(t, defaultLimits)
	f.deliver(t, item("1"))

	f.now = f.now.Add(time.Minute)
	res, err := f.deliver(t, item("1"))
	if err != nil || res.Outcome != OutcomeDeduplicated {
		t.Fatalf("repeat: Deliver = %+v, %v; want deduplicated", res, err)
	}
	f.deliver(t, item("1"))

	f.now = f.now.Add(time.Minute)
	res, _ = f.deliver(t, item("2"))

	if res.Outcome != OutcomeSent {
		t.Fatalf("new alert: outcome %s, want sent", res.Outcome)
	}
	if got := f.texts(); len(got) != 2 || got[1] != "-1001 *alert 2 +2*" {
		t.Errorf("sent %q, want the second message to report 2 suppressed", got)
	}
	if since := f.notes[1].Since; !since.Equal(t0.Add(time.Minute)) {
		t.Errorf("note since %v, want the first repeat's time", since)
	}

	f.now = f.now.Add(10 * time.Minute)
	f.deliver(t, item("1"))
	if got := f.texts(); len(got) != 3 || got[2] != "-1001 *alert 1*" {
		t.Errorf("after the window: sent %q, want alert 1 again without a note", got)
	}
}

func TestDeliverDuplicateFlushesQueue(t *testing.T) {
	f := newFixture(t, defaultLimits)
	f.sender.results = []error{&Error{Kind: KindRateLimited, Code: 429, RetryAfter: time.Minute}}
	f.deliver(t, item("1"))

	f.now = f.now.Add(2 * time.Minute)
	res, err := f.deliver(t, item("1"))

	if err != nil || res.Outcome != OutcomeDeduplicated || res.Sent != 1 || res.Pending != 0 {
		t.Errorf("Deliver = %+v, %v; want the repeat counted and the queued message sent", res, err)
	}
	if got := f.texts(); len(got) != 2 || got[1] != "-1001 *alert 1 +1*" {
		t.Errorf("sent %q, want the queued alert 1 reporting the repeat", got)
	}
}

func TestDeliverRateLimit(t *testing.T) {
	f := newFixture(t, storm.Limits{RatePerMinute: 20, Burst: 2, DedupeWindow: time.Minute, MaxPending: 10})
	for _, n := range []string{"1", "2", "3", "4"} {
		f.deliver(t, item(n))
	}
	if got := len(f.sender.sent); got != 2 {
		t.Fatalf("sent %d messages at once, want the burst of 2", got)
	}

	f.now = f.now.Add(3 * time.Second)
	res, _ := f.deliver(t, item("5"))

	if got := f.texts(); len(got) != 3 || got[2] != "-1001 *alert 3*" {
		t.Errorf("sent %q, want the oldest queued message next", got)
	}
	if res.Outcome != OutcomeQueued || res.Pending != 2 {
		t.Errorf("Deliver = %+v, want queued with 2 pending", res)
	}

	f.now = f.now.Add(time.Minute)
	res, _ = f.deliver(t, item("6"))
	if got := f.texts(); len(got) != 5 || got[3] != "-1001 *alert 4*" || got[4] != "-1001 *alert 5*" {
		t.Errorf("sent %q, want alerts 4 and 5 after refill", got)
	}
	if res.Outcome != OutcomeQueued || res.Pending != 1 {
		t.Errorf("Deliver = %+v, want this run's alert queued behind the burst", res)
	}
}

func TestDeliverQueueBound(t *testing.T) {
	f := newFixture(t, storm.Limits{RatePerMinute: 1, Burst: 1, DedupeWindow: time.Minute, MaxPending: 2})
	for _, n := range []string{"1", "2", "3", "4", "5"} {
		f.deliver(t, item(n))
	}

	f.now = f.now.Add(time.Minute)
	f.deliver(t, item("6"))

	if got := f.texts(); len(got) != 2 || got[1] != "-1001 *alert 4 +2*" {
		t.Errorf("sent %q, want alert 4 reporting the 2 dropped", got)
	}
	if !strings.Contains(f.logs.String(), "message queue full") || !strings.Contains(f.logs.String(), "dropped=1") {
		t.Errorf("no warning for the dropped messages:\n%s", f.logs)
	}
}

func TestDeliverNoQueue(t *testing.T) {
	f := newFixture(t, storm.Limits{RatePerMinute: 1, Burst: 1, DedupeWindow: time.Minute, MaxPending: 0})
	f.deliver(t, item("1"))

	res, err := f.deliver(t, item("2"))

	if err != nil || res.Outcome != OutcomeDropped || res.Pending != 0 {
		t.Errorf("Deliver = %+v, %v; want dropped with nothing pending", res, err)
	}
	if !strings.Contains(f.logs.String(), "telegram.max_pending is 0") {
		t.Errorf("no warning naming max_pending:\n%s", f.logs)
	}
}

func TestDeliverRetryAfterShort(t *testing.T) {
	f := newFixture(t, defaultLimits)
	f.sender.results = []error{&Error{Kind: KindRateLimited, Code: 429, RetryAfter: 2 * time.Second}}

	res, err := f.deliver(t, item("1"))

	if err != nil || res.Outcome != OutcomeSent {
		t.Fatalf("Deliver = %+v, %v; want sent after waiting", res, err)
	}
	if len(f.slept) != 1 || f.slept[0] != 2*time.Second {
		t.Errorf("slept %v, want one wait of 2s", f.slept)
	}
	if len(f.sender.sent) != 2 {
		t.Errorf("sent %d requests, want 2", len(f.sender.sent))
	}
}

func TestDeliverRetryAfterLong(t *testing.T) {
	f := newFixture(t, defaultLimits)
	f.sender.results = []error{&Error{Kind: KindRateLimited, Code: 429, RetryAfter: 60 * time.Second}}

	res, err := f.deliver(t, item("1"))
	if err != nil || res.Outcome != OutcomeQueued {
		t.Fatalf("Deliver = %+v, %v; want queued", res, err)
	}
	if len(f.slept) != 0 {
		t.Errorf("slept %v with 8s of budget, want no wait", f.slept)
	}

	f.now = t0.Add(59 * time.Second)
	f.deliver(t, item("2"))
	if got := len(f.sender.sent); got != 1 {
		t.Fatalf("sent %d requests while blocked, want only the first", got)
	}

	f.now = t0.Add(61 * time.Second)
	res, _ = f.deliver(t, item("3"))
	if got := f.texts(); len(got) != 4 || got[1] != "-1001 *alert 1*" || got[3] != "-1001 *alert 3*" {
		t.Errorf("after the block sent %q, want alerts 1, 2, 3 in order", got[1:])
	}
	if res.Outcome != OutcomeSent || res.Sent != 3 {
		t.Errorf("Deliver = %+v, want 3 sent", res)
	}
	if !strings.Contains(f.logs.String(), "blocked_until") || !strings.Contains(f.logs.String(), "level=WARN") {
		t.Errorf("no warning with blocked_until:\n%s", f.logs)
	}
}

func TestDeliverRetryAfterCapped(t *testing.T) {
	f := newFixture(t, defaultLimits)
	f.sender.results = []error{&Error{Kind: KindRateLimited, Code: 429, RetryAfter: 999999 * time.Second}}

	res, err := f.deliver(t, item("1"))
	if err != nil || res.Outcome != OutcomeQueued {
		t.Fatalf("Deliver = %+v, %v; want queued", res, err)
	}
	if lines := linesWith(f.logs.String(), "level=ERROR"); len(lines) != 1 || !strings.Contains(lines[0], "max_block=1h0m0s") {
		t.Errorf("error lines = %q, want one naming max_block", lines)
	}

	f.logs.Reset()
	f.now = t0.Add(30 * time.Minute)
	f.deliver(t, item("2"))
	if got := len(f.sender.sent); got != 1 {
		t.Fatalf("sent %d requests while blocked, want only the first", got)
	}
	blocked := linesWith(f.logs.String(), "blocked_until")
	if len(blocked) != 1 {
		t.Fatalf("lines naming blocked_until = %q, want 1", blocked)
	}
	for _, want := range []string{"level=WARN", "remaining=30m0s", "pending=2"} {
		if !strings.Contains(blocked[0], want) {
			t.Errorf("blocked line lacks %s:\n%s", want, blocked[0])
		}
	}

	f.now = t0.Add(time.Hour)
	res, _ = f.deliver(t, item("3"))
	if res.Outcome != OutcomeSent || res.Sent != 3 {
		t.Errorf("Deliver after an hour = %+v, want the 3 messages sent", res)
	}
}

func TestDeliverStoredBlockCapped(t *testing.T) {
	f := newFixture(t, defaultLimits)
	err := f.d.Store.Update(context.Background(), func(st *storm.State) error {
		st.Chat("-1001").BlockedUntil = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	res, _ := f.deliver(t, item("1"))
	if res.Outcome != OutcomeQueued {
		t.Fatalf("Deliver = %+v, want queued while blocked", res)
	}
	if !strings.Contains(f.logs.String(), "level=WARN") || !strings.Contains(f.logs.String(), "remaining=1h0m0s") {
		t.Errorf("no warning with the block cut to an hour:\n%s", f.logs)
	}

	f.now = t0.Add(time.Hour)
	res, _ = f.deliver(t, item("2"))
	if res.Outcome != OutcomeSent || res.Sent != 2 {
		t.Errorf("Deliver after an hour = %+v, want both messages sent", res)
	}
}

func TestDeliverMigrated(t *testing.T) {
	f := newFixture(t, defaultLimits)
	f.sender.results = []error{&Error{Kind: KindMigrated, Code: 400, NewChatID: -1009876}}

	res, err := f.deliver(t, item("1"))
	if err != nil || res.Outcome != OutcomeSent {
		t.Fatalf("Deliver = %+v, %v; want sent to the new id", res, err)
	}
	f.deliver(t, item("2"))

	if got := f.texts(); len(got) != 3 || got[1] != "-1009876 *alert 1*" || got[2] != "-1009876 *alert 2*" {
		t.Errorf("sent %q, want the resend and later messages to go to -1009876", got)
	}
	if !strings.Contains(f.logs.String(), "level=ERROR") || !strings.Contains(f.logs.String(), "new_chat_id=-1009876") {
		t.Errorf("no error line naming the new chat id:\n%s", f.logs)
	}
}

func TestDeliverParseError(t *testing.T) {
	f := newFixture(t, defaultLimits)
	f.sender.results = []error{&Error{Kind: KindParse, Code: 400, Description: "Bad Request: can't parse entities"}}

	res, err := f.deliver(t, item("1"))

	if err != nil || res.Outcome != OutcomeSent {
		t.Fatalf("Deliver = %+v, %v; want sent as plain text", res, err)
	}
	if len(f.sender.sent) != 2 {
		t.Fatalf("sent %d requests, want 2", len(f.sender.sent))
	}
	if resend := f.sender.sent[1]; resend.ParseMode != "" || resend.Text != "alert 1" {
		t.Errorf("resend = %+v, want the plain text without parse_mode", resend)
	}
}

func TestDeliverPermanent(t *testing.T) {
	f := newFixture(t, defaultLimits)
	forbidden := &Error{Kind: KindPermanent, Code: 403, Description: "Forbidden: bot was kicked", Hint: "add the bot"}
	f.sender.results = []error{forbidden}

	res, err := f.deliver(t, item("1"))

	if !errors.Is(err, forbidden) {
		t.Fatalf("Deliver error = %v, want the 403", err)
	}
	if res.Outcome != OutcomeQueued || res.Pending != 1 {
		t.Errorf("Deliver = %+v, want the message kept for after the fix", res)
	}
	if !strings.Contains(f.logs.String(), "level=ERROR") || !strings.Contains(f.logs.String(), "add the bot") {
		t.Errorf("no error line with the fix:\n%s", f.logs)
	}
}

func TestDeliverRejected(t *testing.T) {
	f := newFixture(t, defaultLimits)
	rejected := &Error{Kind: KindRejected, Code: 400, Description: "Bad Request: message is too long"}
	f.sender.results = []error{rejected}

	res, err := f.deliver(t, item("1"))
	if !errors.Is(err, rejected) || res.Outcome != OutcomeDropped || res.Pending != 0 {
		t.Fatalf("Deliver = %+v, %v; want dropped with the error", res, err)
	}

	f.deliver(t, item("2"))
	if got := f.texts(); len(got) != 2 || got[1] != "-1001 *alert 2 +1*" {
		t.Errorf("sent %q, want the next message to report the dropped one", got)
	}
}

func TestDeliverTemporary(t *testing.T) {
	temporary := &Error{Kind: KindTemporary, Code: 502}
	tests := []struct {
		name    string
		results []error

		outcome  Outcome
		requests int
	}{
		{"retry succeeds", []error{temporary}, OutcomeSent, 2},
		{"retry fails", []error{temporary, temporary}, OutcomeQueued, 2},
		{"untyped error", []error{errors.New("connection reset")}, OutcomeSent, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, defaultLimits)
			f.sender.results = tc.results

			res, err := f.deliver(t, item("1"))

			if err != nil || res.Outcome != tc.outcome {
				t.Errorf("Deliver = %+v, %v; want %s", res, err, tc.outcome)
			}
			if len(f.sender.sent) != tc.requests {
				t.Errorf("sent %d requests, want %d", len(f.sender.sent), tc.requests)
			}
		})
	}
}

func TestDeliverNoRetryWithoutBudget(t *testing.T) {
	f := newFixture(t, defaultLimits)
	f.sender.results = []error{&Error{Kind: KindTemporary}}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()

	res, err := f.d.Deliver(ctx, item("1"))

	if err != nil || res.Outcome != OutcomeQueued || len(f.sender.sent) != 1 {
		t.Errorf("Deliver = %+v, %v after %d requests; want queued after 1", res, err, len(f.sender.sent))
	}
}

func TestDeliverStateUnavailable(t *testing.T) {
	f := newFixture(t, defaultLimits)
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	f.d.Store = storm.NewStore(filepath.Join(blocker, "dir"), f.d.Log)

	res, err := f.deliver(t, item("1"))

	if err != nil || res.Outcome != OutcomeSent {
		t.Errorf("Deliver = %+v, %v; want sent without state", res, err)
	}
	if !strings.Contains(f.logs.String(), "telegram state unavailable") {
		t.Errorf("no warning about the state:\n%s", f.logs)
	}
}

func TestDeliverRenderError(t *testing.T) {
	f := newFixture(t, defaultLimits)

	res, err := f.deliver(t, Item{AlertID: "x", DedupeKey: "k", Payload: json.RawMessage(`not json`)})

	if err != nil || res.Outcome != OutcomeDropped {
		t.Errorf("Deliver = %+v, %v; want dropped", res, err)
	}
	if len(f.sender.sent) != 0 {
		t.Errorf("sent %d requests for an unrenderable message", len(f.sender.sent))
	}
	if !strings.Contains(f.logs.String(), "cannot be rendered") {
		t.Errorf("no log line for the dropped message:\n%s", f.logs)
	}
}

// unusableState makes the fixture's state file unusable in the named way
// and returns its path.
func unusableState(t *testing.T, f *fixture, how string) string {
	t.Helper()
	path := f.d.Store.Path
	switch how {
	case "directory":
		if err := os.Mkdir(path, 0o750); err != nil {
			t.Fatal(err)
		}
	case "too large":
		file, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer file.Close()
		if err := file.Truncate(state.MaxFileSize + 1); err != nil {
			t.Fatal(err)
		}
	case "unreadable":
		if os.Geteuid() == 0 {
			t.Skip("root reads files of any mode")
		}
		if err := os.WriteFile(path, []byte(`{"version":1}`), 0o000); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("unknown way %q", how)
	}
	return path
}

func TestDeliverStateUnusable(t *testing.T) {
	for _, how := range []string{"directory", "too large", "unreadable"} {
		t.Run(how+"/sent", func(t *testing.T) {
			f := newFixture(t, defaultLimits)
			path := unusableState(t, f, how)

			res, err := f.deliver(t, item("1"))

			if err != nil || res.Outcome != OutcomeSent {
				t.Errorf("Deliver = %+v, %v; want sent without state", res, err)
			}
			errorLines := linesWith(f.logs.String(), "level=ERROR")
			if len(errorLines) != 1 {
				t.Fatalf("error lines = %q, want one about the state file", errorLines)
			}
			for _, want := range []string{path, "without rate limit", "wazuh user", "remove or fix"} {
				if !strings.Contains(errorLines[0], want) {
					t.Errorf("error line lacks %q:\n%s", want, errorLines[0])
				}
			}
		})

		t.Run(how+"/not sent", func(t *testing.T) {
			f := newFixture(t, defaultLimits)
			unusableState(t, f, how)
			f.sender.results = []error{&Error{Kind: KindRateLimited, Code: 429, RetryAfter: time.Minute}}

			res, err := f.deliver(t, item("1"))

			if !errors.Is(err, ErrNotKept) {
				t.Errorf("Deliver error = %v, want ErrNotKept", err)
			}
			if res.Outcome != OutcomeDropped || res.Pending != 0 {
				t.Errorf("Deliver = %+v, want dropped with nothing pending", res)
			}
			if lines := linesWith(f.logs.String(), "kept"); len(lines) != 0 {
				t.Errorf("log claims a message was kept:\n%s", strings.Join(lines, "\n"))
			}
			if lines := linesWith(f.logs.String(), "dropped"); len(lines) != 0 {
				t.Errorf("log says dropped, want it only in the returned error:\n%s", strings.Join(lines, "\n"))
			}
			if !strings.Contains(err.Error(), "dropped") {
				t.Errorf("error = %q, want it to say the message was dropped", err)
			}
		})
	}
}

func TestDeliverStateUnusablePermanent(t *testing.T) {
	f := newFixture(t, defaultLimits)
	unusableState(t, f, "directory")
	forbidden := &Error{Kind: KindPermanent, Code: 403, Description: "Forbidden: bot was kicked", Hint: "add the bot"}
	f.sender.results = []error{forbidden}

	res, err := f.deliver(t, item("1"))

	if !errors.Is(err, ErrNotKept) || !errors.Is(err, forbidden) {
		t.Errorf("Deliver error = %v, want ErrNotKept wrapping the 403", err)
	}
	if res.Outcome != OutcomeDropped {
		t.Errorf("Deliver = %+v, want dropped", res)
	}
	if lines := linesWith(f.logs.String(), "stay queued"); len(lines) != 0 {
		t.Errorf("log claims messages stay queued:\n%s", strings.Join(lines, "\n"))
	}
}

// linesWith returns the lines of logs that contain s.
func linesWith(logs, s string) []string {
	var out []string
	for line := range strings.Lines(logs) {
		if strings.Contains(line, s) {
			out = append(out, strings.TrimSuffix(line, "\n"))
		}
	}
	return out
}
