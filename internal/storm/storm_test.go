package storm

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)

var limits = Limits{RatePerMinute: 20, Burst: 5, DedupeWindow: 10 * time.Minute, MaxPending: 3}

func TestTakeToken(t *testing.T) {
	c := &Chat{}

	for i := range 5 {
		if !c.TakeToken(t0, limits) {
			t.Fatalf("token %d of a new chat refused, want the burst of 5", i+1)
		}
	}
	if c.TakeToken(t0, limits) {
		t.Fatal("sixth token at once granted, want refused")
	}
	// 20 per minute is one every 3 s.
	if c.TakeToken(t0.Add(2*time.Second), limits) {
		t.Error("token after 2 s granted, want refused")
	}
	if !c.TakeToken(t0.Add(3*time.Second), limits) {
		t.Error("token after 3 s refused, want granted")
	}
	if got := c.Available(t0.Add(time.Hour), limits); got != 5 {
		t.Errorf("tokens after an hour = %v, want the burst 5", got)
	}
}

func TestTakeTokenClockBackwards(t *testing.T) {
	c := &Chat{}
	for range 5 {
		c.TakeToken(t0, limits)
	}

	if c.TakeToken(t0.Add(-time.Hour), limits) {
		t.Error("token granted after the clock went back, want refused")
	}
	if !c.TakeToken(t0.Add(-time.Hour+3*time.Second), limits) {
		t.Error("token refused 3 s after the new clock reading, want granted")
	}
}

func TestBlocked(t *testing.T) {
	c := &Chat{}
	c.BlockUntil(t0.Add(time.Minute))
	c.BlockUntil(t0.Add(time.Second))

	if !c.Blocked(t0.Add(59 * time.Second)) {
		t.Error("Blocked before the end = false, want true")
	}
	if c.Blocked(t0.Add(time.Minute)) {
		t.Error("Blocked at the end = true, want false")
	}
}

func TestLimitBlock(t *testing.T) {
	tests := []struct {
		name  string
		until time.Time

		want    time.Time
		limited bool
	}{
		{"year 9999", time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), t0.Add(MaxBlock), true},
		{"just over", t0.Add(MaxBlock + time.Second), t0.Add(MaxBlock), true},
		{"at the cap", t0.Add(MaxBlock), t0.Add(MaxBlock), false},
		{"a minute", t0.Add(time.Minute), t0.Add(time.Minute), false},
		{"none", time.Time{}, time.Time{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &Chat{BlockedUntil: tc.until}

			limited := c.LimitBlock(t0)

			if limited != tc.limited {
				t.Errorf("LimitBlock = %v, want %v", limited, tc.limited)
			}
			if !c.BlockedUntil.Equal(tc.want) {
				t.Errorf("BlockedUntil = %v, want %v", c.BlockedUntil, tc.want)
			}
		})
	}
}

func TestDuplicate(t *testing.T) {
	window := 10 * time.Minute
	c := &Chat{}
	c.Remember("k", t0)

	tests := []struct {
		name   string
		key    string
		at     time.Time
		window time.Duration

		want bool
	}{
		{"same key inside window", "k", t0.Add(9 * time.Minute), window, true},
		{"same key at window end", "k", t0.Add(window), window, false},
		{"other key", "x", t0, window, false},
		{"empty key", "", t0, window, false},
		{"dedupe off", "k", t0, 0, false},
		{"clock far behind", "k", t0.Add(-time.Hour), window, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.Duplicate(tc.key, tc.at, tc.window); got != tc.want {
				t.Errorf("Duplicate = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPrune(t *testing.T) {
	c := &Chat{}
	c.Remember("old", t0)
	c.Remember("new", t0.Add(8*time.Minute))

	c.Prune(t0.Add(10*time.Minute), 10*time.Minute)

	if _, ok := c.Recent["old"]; ok {
		t.Error("expired key kept")
	}
	if _, ok := c.Recent["new"]; !ok {
		t.Error("live key dropped")
	}
}

func TestPruneBound(t *testing.T) {
	c := &Chat{}
	for i := range maxRecent + 10 {
		c.Remember(Key("k", string(rune(i))), t0.Add(time.Duration(i)*time.Millisecond))
	}

	c.Prune(t0.Add(time.Minute), time.Hour)

	if len(c.Recent) != maxRecent {
		t.Errorf("kept %d keys, want %d", len(c.Recent), maxRecent)
	}
	if _, ok := c.Recent[Key("k", string(rune(0)))]; ok {
		t.Error("the oldest key was kept")
	}
}

func TestQueue(t *testing.T) {
	c := &Chat{}
	var ids []uint64
	for i := range 5 {
		ids = append(ids, c.Enqueue(t0, "a", "920100", json.RawMessage(`{"n":`+string(rune('0'+i))+`}`)))
	}

	dropped := c.Trim(3)

	if len(dropped) != 2 || dropped[0].ID != ids[0] || dropped[1].ID != ids[1] {
		t.Fatalf("dropped %+v, want the two oldest", dropped)
	}
	if !c.Queued(ids[4]) || c.Queued(ids[0]) {
		t.Error("Queued does not match what is left")
	}
	c.Remove(ids[2])
	if len(c.Pending) != 2 || c.Pending[0].ID != ids[3] {
		t.Errorf("pending after Remove = %+v", c.Pending)
	}
	if got := c.Trim(0); len(got) != 2 || len(c.Pending) != 0 {
		t.Errorf("Trim(0) dropped %d, left %d", len(got), len(c.Pending))
	}
}

func TestSuppressed(t *testing.T) {
	c := &Chat{}
	c.CountDeduped(t0)
	c.CountDropped(t0.Add(time.Minute), 3)
	c.CountDropped(t0.Add(2*time.Minute), 0)

	if got := c.Suppressed; got.Deduped != 1 || got.Dropped != 3 || !got.Since.Equal(t0) {
		t.Errorf("Suppressed = %+v, want 1 deduped, 3 dropped since %v", got, t0)
	}
	c.ClearSuppressed()
	c.CountDropped(t0.Add(time.Hour), 1)
	if !c.Suppressed.Since.Equal(t0.Add(time.Hour)) {
		t.Errorf("Since after clear = %v, want the new first time", c.Suppressed.Since)
	}
}

func TestKey(t *testing.T) {
	if Key("920100", "1.2.3.4", "001") == Key("920100", "1.2.3.40", "01") {
		t.Error("keys of different parts collide")
	}
	if Key("a", "bc") == Key("ab", "c") {
		t.Error("part boundaries are not part of the key")
	}
	if k := Key("920100", "evil.example"); strings.Contains(k, "evil") || len(k) != 32 {
		t.Errorf("Key = %q, want 32 hex digits", k)
	}
}

func newStore(t *testing.T) (*Store, *strings.Builder) {
	t.Helper()
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, nil))
	return NewStore(t.TempDir(), log), &logs
}

func TestStoreRoundTrip(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()

	err := s.Update(ctx, func(st *State) error {
		c := st.Chat("-100123")
		c.TakeToken(t0, limits)
		c.BlockUntil(t0.Add(time.Minute))
		c.Enqueue(t0, "1.2", "920100", json.RawMessage(`{"misp":{"value":"x"}}`))
		c.CountDeduped(t0)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	var got Chat
	if err := s.Update(ctx, func(st *State) error { got = *st.Chat("-100123"); return nil }); err != nil {
		t.Fatal(err)
	}
	if got.Tokens != 4 || !got.BlockedUntil.Equal(t0.Add(time.Minute)) || len(got.Pending) != 1 || got.Suppressed.Deduped != 1 {
		t.Errorf("state after reload = %+v", got)
	}
	if string(got.Pending[0].Payload) != `{"misp":{"value":"x"}}` {
		t.Errorf("payload = %s", got.Pending[0].Payload)
	}
	info, err := os.Stat(s.Path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o640 {
		t.Errorf("state file mode = %04o, want 0640", perm)
	}
}

func TestStoreCorrupt(t *testing.T) {
	tests := []struct {
		name    string
		content string

		wantLog string
	}{
		{"not JSON", "{\"version\":1,\"chats\":{", "corrupt"},
		{"other version", `{"version":99,"chats":{"x":{"tokens":3}}}`, "unknown version"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, logs := newStore(t)
			if err := os.WriteFile(s.Path, []byte(tc.content), 0o640); err != nil {
				t.Fatal(err)
			}

			chats := -1
			err := s.Update(context.Background(), func(st *State) error { chats = len(st.Chats); return nil })

			if err != nil {
				t.Fatalf("Update = %v, want a fresh start", err)
			}
			if chats != 0 {
				t.Errorf("fresh state has %d chats, want 0", chats)
			}
			if !strings.Contains(logs.String(), tc.wantLog) || !strings.Contains(logs.String(), "level=WARN") {
				t.Errorf("log = %q, want a warning containing %q", logs.String(), tc.wantLog)
			}
			for _, want := range []string{"queued messages", "lost", "count unknown", "path=" + s.Path} {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("log = %q, want it to contain %q", logs.String(), want)
				}
			}
		})
	}
}

func TestStoreFnError(t *testing.T) {
	s, _ := newStore(t)
	boom := errors.New("boom")

	err := s.Update(context.Background(), func(st *State) error { st.Chat("x").Tokens = 1; return boom })

	if !errors.Is(err, boom) || errors.Is(err, ErrUnavailable) {
		t.Errorf("Update = %v, want the function's error only", err)
	}
	if _, err := os.Stat(s.Path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state written after a failed function: %v", err)
	}
}

func TestStoreUnavailable(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s := NewStore(filepath.Join(blocker, "sub"), nil)

	ran := false
	err := s.Update(context.Background(), func(*State) error { ran = true; return nil })

	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("Update = %v, want ErrUnavailable", err)
	}
	if ran {
		t.Error("function ran without the state")
	}
}

func TestStoreConcurrent(t *testing.T) {
	s, _ := newStore(t)
	s.LockTimeout = 10 * time.Second
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			err := s.Update(context.Background(), func(st *State) error {
				st.Chat("c").CountDropped(t0, 1)
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()

	var got int
	if err := s.Update(context.Background(), func(st *State) error { got = st.Chat("c").Suppressed.Dropped; return nil }); err != nil {
		t.Fatal(err)
	}
	if got != 20 {
		t.Errorf("dropped = %d after 20 concurrent updates, want 20", got)
	}
}
