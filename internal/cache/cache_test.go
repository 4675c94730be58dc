package cache

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var testTime = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable time source for a Cache.
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

// newCache returns a cache that never prunes by itself.
func newCache(dir string, s Settings, now func() time.Time) *Cache {
	c := New(dir, s, now)
	c.shouldPrune = func() bool { return false }
	return c
}

const matchData = `[{"id":"1","event_id":"7","type":"ip-dst","value":"203.0.113.9"}]`

func put(t *testing.T, c *Cache, key string, found bool, data string) {
	t.Helper()
	if err := c.Put(key, found, json.RawMessage(data)); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

// entryFiles returns the entry files under dir/cache.
func entryFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(filepath.Join(dir, "cache"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".json") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return files
}

func TestGetPutRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name  string
		found bool
		data  string

		wantData string
	}{
		{"match", true, matchData, matchData},
		{"miss without data", false, "", ""},
		{"miss with null", false, "null", ""},
		{"miss with data", false, `{"checked":["ip"]}`, `{"checked":["ip"]}`},
		{"indented data is compacted", true, "[ 1,\n 2 ]", "[1,2]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCache(t.TempDir(), DefaultSettings(), newClock().Now)
			put(t, c, "ip:203.0.113.9", tc.found, tc.data)

			data, found, ok := c.Get("ip:203.0.113.9")

			if !ok {
				t.Fatal("ok = false, want a cached answer")
			}
			if found != tc.found {
				t.Errorf("found = %v, want %v", found, tc.found)
			}
			if string(data) != tc.wantData {
				t.Errorf("data = %q, want %q", data, tc.wantData)
			}
		})
	}
}

func TestGetMissing(t *testing.T) {
	c := newCache(t.TempDir(), DefaultSettings(), newClock().Now)

	data, found, ok := c.Get("ip:203.0.113.9")

	if ok || found || data != nil {
		t.Errorf("Get = %q, %v, %v; want nil, false, false", data, found, ok)
	}
}

func TestPutReplaces(t *testing.T) {
	c := newCache(t.TempDir(), DefaultSettings(), newClock().Now)
	put(t, c, "md5:x", false, "")
	put(t, c, "md5:x", true, matchData)

	data, found, ok := c.Get("md5:x")

	if !ok || !found || string(data) != matchData {
		t.Errorf("Get = %q, %v, %v; want the match written last", data, found, ok)
	}
}

func TestPutInvalidData(t *testing.T) {
	dir := t.TempDir()
	c := newCache(dir, DefaultSettings(), newClock().Now)

	err := c.Put("md5:x", true, json.RawMessage(`{"truncated":`))

	if err == nil {
		t.Error("Put with invalid JSON data succeeded, want an error")
	}
	if files := entryFiles(t, dir); len(files) != 0 {
		t.Errorf("cache contains %d files, want none", len(files))
	}
}

func TestTTL(t *testing.T) {
	settings := Settings{HitTTL: time.Hour, MissTTL: 10 * time.Minute}
	for _, tc := range []struct {
		name    string
		found   bool
		elapsed time.Duration

		wantOK bool
	}{
		{"hit fresh", true, 59 * time.Minute, true},
		{"hit expired", true, time.Hour, false},
		{"miss fresh", false, 9 * time.Minute, true},
		{"miss expired", false, 10 * time.Minute, false},
		{"miss after a hit's lifetime", false, 30 * time.Minute, false},
		{"clock set back within skew", true, -30 * time.Second, true},
		{"clock set back beyond skew", true, -2 * time.Minute, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			c := newCache(t.TempDir(), settings, clk.Now)
			put(t, c, "domain:example.org", tc.found, matchData)
			clk.Advance(tc.elapsed)

			_, _, ok := c.Get("domain:example.org")

			if ok != tc.wantOK {
				t.Errorf("ok = %v, want %v", ok, tc.wantOK)
			}
		})
	}
}

func TestTTLShortenedAfterWrite(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	put(t, newCache(dir, Settings{HitTTL: 24 * time.Hour, MissTTL: time.Minute}, clk.Now), "sha1:x", true, matchData)
	clk.Advance(2 * time.Hour)

	_, _, ok := newCache(dir, Settings{HitTTL: time.Hour, MissTTL: time.Minute}, clk.Now).Get("sha1:x")

	if ok {
		t.Error("ok = true, want the current 1h TTL to expire a 2h old entry")
	}
}

func TestTTLZeroDisablesSide(t *testing.T) {
	for _, tc := range []struct {
		name     string
		settings Settings
		found    bool
	}{
		{"hits disabled", Settings{MissTTL: time.Hour}, true},
		{"misses disabled", Settings{HitTTL: time.Hour}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			clk := newClock()
			// A result of the other side, cached earlier.
			put(t, newCache(dir, Settings{HitTTL: time.Hour, MissTTL: time.Hour}, clk.Now), "ip:x", !tc.found, matchData)
			c := newCache(dir, tc.settings, clk.Now)

			put(t, c, "ip:x", tc.found, matchData)

			if _, _, ok := c.Get("ip:x"); ok {
				t.Error("Get found an answer, want none: the stale answer must be gone")
			}
			if files := entryFiles(t, dir); len(files) != 0 {
				t.Errorf("cache contains %d files, want none", len(files))
			}
		})
	}
}

func TestTTLZeroIgnoresStoredSide(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	put(t, newCache(dir, DefaultSettings(), clk.Now), "ip:x", true, matchData)

	_, _, ok := newCache(dir, Settings{MissTTL: time.Hour}, clk.Now).Get("ip:x")

	if ok {
		t.Error("ok = true for a cached match while HitTTL is zero, want false")
	}
}

func TestGetCorrupt(t *testing.T) {
	clk := newClock()
	valid, err := json.Marshal(entry{Version: 1, Key: "ip:x", Found: true, Stored: testTime.Unix(), Expires: testTime.Add(time.Hour).Unix(), Data: json.RawMessage("[]")})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		content []byte
	}{
		{"empty", nil},
		{"garbage", []byte("\x00\xffnot json")},
		{"truncated", valid[:len(valid)-7]},
		{"wrong version", bytes.Replace(valid, []byte(`"version":1`), []byte(`"version":2`), 1)},
		{"other key", bytes.Replace(valid, []byte(`"key":"ip:x"`), []byte(`"key":"ip:y"`), 1)},
		{"no data", bytes.Replace(valid, []byte(`,"data":[]`), nil, 1)},
		{"array", []byte("[]")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if bytes.Equal(tc.content, valid) {
				t.Fatal("test case did not change the valid entry")
			}
			c := newCache(t.TempDir(), DefaultSettings(), clk.Now)
			path := c.path("ip:x")
			if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tc.content, 0o640); err != nil {
				t.Fatal(err)
			}

			_, _, ok := c.Get("ip:x")

			if ok {
				t.Error("ok = true for a corrupt entry, want false")
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Errorf("corrupt entry still exists (stat err = %v), want it deleted", err)
			}
			put(t, c, "ip:x", true, matchData)
			if _, _, ok := c.Get("ip:x"); !ok {
				t.Error("cache unusable after a corrupt entry")
			}
		})
	}
}

func TestGetValidEntryFromFile(t *testing.T) {
	// The valid entry of TestGetCorrupt must be accepted, or that test
	// proves nothing.
	c := newCache(t.TempDir(), DefaultSettings(), newClock().Now)
	raw, err := json.Marshal(entry{Version: 1, Key: "ip:x", Found: true, Stored: testTime.Unix(), Expires: testTime.Add(time.Hour).Unix(), Data: json.RawMessage("[]")})
	if err != nil {
		t.Fatal(err)
	}
	path := c.path("ip:x")
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o640); err != nil {
		t.Fatal(err)
	}

	if _, _, ok := c.Get("ip:x"); !ok {
		t.Error("ok = false for a valid entry, want true")
	}
}

func TestKeyStaysInsideDir(t *testing.T) {
	for _, key := range []string{
		"../../../etc/passwd",
		"/absolute/path",
		"domain:a/b\\c",
		"ip:\x00evil",
		"",
		"\xff\xfe invalid utf-8",
		strings.Repeat("x", 10000),
	} {
		t.Run(fmt.Sprintf("%.20q", key), func(t *testing.T) {
			dir := t.TempDir()
			c := newCache(dir, DefaultSettings(), newClock().Now)

			put(t, c, key, true, matchData)

			data, found, ok := c.Get(key)
			if !ok || !found || string(data) != matchData {
				t.Errorf("Get = %q, %v, %v; want the stored match", data, found, ok)
			}
			files := entryFiles(t, dir)
			if len(files) != 1 {
				t.Fatalf("cache contains %d files, want 1", len(files))
			}
			rel, err := filepath.Rel(filepath.Join(dir, "cache"), files[0])
			if err != nil || strings.HasPrefix(rel, "..") || len(rel) != len("ab/")+64+len(".json") {
				t.Errorf("entry file %s, want dir/cache/<2 hex>/<64 hex>.json", rel)
			}
		})
	}
}

func TestKeysDoNotCollide(t *testing.T) {
	c := newCache(t.TempDir(), DefaultSettings(), newClock().Now)
	put(t, c, "ip:203.0.113.9", true, `["ip"]`)
	put(t, c, "domain:203.0.113.9", false, `["domain"]`)

	ip, _, _ := c.Get("ip:203.0.113.9")
	domain, _, _ := c.Get("domain:203.0.113.9")

	if string(ip) != `["ip"]` || string(domain) != `["domain"]` {
		t.Errorf("got %s and %s, want each key's own data", ip, domain)
	}
}

func TestPruneExpired(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	c := newCache(dir, Settings{HitTTL: time.Hour, MissTTL: 10 * time.Minute}, clk.Now)
	put(t, c, "miss-old", false, "")
	put(t, c, "hit-old", true, matchData)
	clk.Advance(30 * time.Minute)
	put(t, c, "miss-new", false, "")
	clk.Advance(31 * time.Minute)

	removed, err := c.Prune()

	if err != nil {
		t.Fatalf("Prune: %v", err)
	}
	// miss-old is 61 minutes old, hit-old 61, miss-new 31 (expired after 10).
	if removed != 3 {
		t.Errorf("removed = %d, want 3", removed)
	}
	if files := entryFiles(t, dir); len(files) != 0 {
		t.Errorf("cache contains %d files after pruning, want 0", len(files))
	}
}

func TestPruneKeepsValid(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	c := newCache(dir, Settings{HitTTL: time.Hour, MissTTL: 10 * time.Minute}, clk.Now)
	put(t, c, "hit", true, matchData)
	put(t, c, "miss", false, "")
	clk.Advance(20 * time.Minute) // between the two TTLs: Prune opens both files

	removed, err := c.Prune()

	if err != nil {
		t.Fatalf("Prune: %v", err)
	}
	if removed != 1 {
		t.Errorf("removed = %d, want 1 (the expired miss)", removed)
	}
	if _, _, ok := c.Get("hit"); !ok {
		t.Error("Prune deleted a valid hit")
	}
}

func TestPruneMaxEntries(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	c := newCache(dir, Settings{HitTTL: time.Hour, MissTTL: time.Hour, MaxEntries: 10}, clk.Now)
	for i := range 15 {
		put(t, c, "key-"+strconv.Itoa(i), true, matchData)
		clk.Advance(time.Second)
	}

	removed, err := c.Prune()

	if err != nil {
		t.Fatalf("Prune: %v", err)
	}
	if removed != 5 {
		t.Errorf("removed = %d, want 5", removed)
	}
	for i := range 15 {
		_, _, ok := c.Get("key-" + strconv.Itoa(i))
		if want := i >= 5; ok != want {
			t.Errorf("key-%d: ok = %v, want %v (the oldest go first)", i, ok, want)
		}
	}
}

func TestPutPrunes(t *testing.T) {
	dir := t.TempDir()
	c := New(dir, Settings{HitTTL: time.Hour, MaxEntries: 3}, newClock().Now)
	calls := 0
	c.shouldPrune = func() bool { calls++; return calls%4 == 0 }

	for i := range 8 {
		put(t, c, "key-"+strconv.Itoa(i), true, matchData)
	}

	if files := entryFiles(t, dir); len(files) != 3 {
		t.Errorf("cache contains %d files, want 3 after the 8th Put pruned it", len(files))
	}
}

func TestPruneRandomRate(t *testing.T) {
	c := New(t.TempDir(), DefaultSettings(), time.Now)
	const draws = 256 * 200

	prunes := 0
	for range draws {
		if c.shouldPrune() {
			prunes++
		}
	}

	// Expect 200. The bounds are about six standard deviations away.
	if prunes < 120 || prunes > 290 {
		t.Errorf("shouldPrune was true %d times in %d draws, want about 200", prunes, draws)
	}
}

func TestPruneStaleTempFiles(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	c := newCache(dir, DefaultSettings(), clk.Now)
	put(t, c, "k", true, matchData)
	bucket := filepath.Dir(c.path("k"))
	stale := filepath.Join(bucket, ".abc.json.tmp-1")
	fresh := filepath.Join(bucket, ".def.json.tmp-2")
	for path, age := range map[string]time.Duration{stale: time.Hour, fresh: time.Minute} {
		if err := os.WriteFile(path, []byte(`{"ver`), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, testTime.Add(-age), testTime.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}

	removed, err := c.Prune()

	if err != nil || removed != 1 {
		t.Errorf("Prune = %d, %v; want 1, nil", removed, err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("stale temp file still exists")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("fresh temp file was deleted: %v", err)
	}
}

func TestPruneEmptyCache(t *testing.T) {
	c := newCache(t.TempDir(), DefaultSettings(), newClock().Now)

	removed, err := c.Prune()

	if err != nil || removed != 0 {
		t.Errorf("Prune = %d, %v; want 0, nil", removed, err)
	}
}

// Helper processes started by the tests below.
const (
	helperEnv = "CACHE_TEST_HELPER"
	helperDir = "CACHE_TEST_DIR"
	helperID  = "CACHE_TEST_ID"
)

// TestHelperProcess is the body of the helper processes that helperCommand
// starts. Run as an ordinary test, it returns at once.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		return
	}
	dir := os.Getenv(helperDir)
	id := os.Getenv(helperID)
	c := New(dir, Settings{HitTTL: time.Hour, MissTTL: time.Hour, MaxEntries: 1000}, time.Now)

	switch mode {
	case "write":
		// Shared keys race with other processes, own keys do not, and
		// pruning runs now and then among the writes.
		for i := range 50 {
			keys := []string{"shared-" + strconv.Itoa(i%5), "own-" + id + "-" + strconv.Itoa(i)}
			for _, key := range keys {
				data := fmt.Sprintf(`{"writer":%q,"round":%d}`, id, i)
				if err := c.Put(key, i%2 == 0, json.RawMessage(data)); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
			}
			if i%10 == 0 {
				if _, err := c.Prune(); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
			}
		}
	case "rewrite":
		// Rewrite one key with a large value until the parent kills this
		// process.
		big := json.RawMessage(`"` + strings.Repeat("a", 4<<20) + `"`)
		for {
			if err := c.Put("big", true, big); err != nil {
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

func helperCommand(t *testing.T, mode, dir, id string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, helperDir+"="+dir, helperID+"="+id)
	cmd.Stderr = os.Stderr
	return cmd
}

func TestConcurrentProcesses(t *testing.T) {
	dir := t.TempDir()
	const processes = 20

	cmds := make([]*exec.Cmd, processes)
	for i := range cmds {
		cmds[i] = helperCommand(t, "write", dir, strconv.Itoa(i))
		if err := cmds[i].Start(); err != nil {
			t.Fatalf("start helper: %v", err)
		}
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("helper failed: %v", err)
		}
	}

	files := entryFiles(t, dir)
	if want := 5 + processes*50; len(files) != want {
		t.Errorf("cache contains %d entry files, want %d", len(files), want)
	}
	for _, path := range files {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parseEntry(raw); err != nil {
			t.Errorf("%s: %v", filepath.Base(path), err)
		}
	}
	c := New(dir, DefaultSettings(), time.Now)
	for i := range 5 {
		if _, _, ok := c.Get("shared-" + strconv.Itoa(i)); !ok {
			t.Errorf("shared-%d: no valid answer after concurrent writes", i)
		}
	}
	temps, err := filepath.Glob(filepath.Join(dir, "cache", "*", ".*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(temps) != 0 {
		t.Errorf("writers that exited normally left temp files: %v", temps)
	}
}

func TestKilledWriter(t *testing.T) {
	dir := t.TempDir()

	c := New(dir, DefaultSettings(), time.Now)
	for round := range 3 {
		cmd := helperCommand(t, "rewrite", dir, "0")
		if err := cmd.Start(); err != nil {
			t.Fatalf("start helper: %v", err)
		}
		waitForFile(t, c.path("big"))
		// Kill the writer at a different point of its loop each round.
		time.Sleep(time.Duration(5+round*7) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatalf("kill helper: %v", err)
		}
		_ = cmd.Wait() // the helper always ends killed

		data, found, ok := c.Get("big")
		if !ok || !found {
			t.Fatalf("round %d: Get = found %v, ok %v; want the last complete value", round, found, ok)
		}
		if len(data) != 4<<20+2 {
			t.Fatalf("round %d: Get = %d bytes, want %d", round, len(data), 4<<20+2)
		}
	}

	// A clock past the temp file age limit lets Prune clear what the kills
	// left behind, and the cache stays usable.
	c = New(dir, DefaultSettings(), func() time.Time { return time.Now().Add(staleTempAge + time.Minute) })
	if _, err := c.Prune(); err != nil {
		t.Fatalf("Prune: %v", err)
	}
	temps, err := filepath.Glob(filepath.Join(dir, "cache", "*", ".*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(temps) != 0 {
		t.Errorf("Prune left temp files: %v", temps)
	}
	c = New(dir, DefaultSettings(), time.Now)
	put(t, c, "after", true, matchData)
	if _, _, ok := c.Get("after"); !ok {
		t.Error("cache unusable after killed writers")
	}
}

// waitForFile waits until path exists, which shows that a helper has
// started writing.
func waitForFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear within 30s", path)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func FuzzGetEntryFile(f *testing.F) {
	// A valid match.
	f.Add([]byte(`{"version":1,"key":"ip:x","found":true,"stored":1740830400,"expires":1740834000,"data":[{"id":"1"}]}`))
	// A miss with null data.
	f.Add([]byte(`{"version":1,"key":"ip:x","found":false,"stored":1740830400,"expires":1740831000,"data":null}`))
	// Expiry before storage.
	f.Add([]byte(`{"version":1,"key":"ip:x","found":true,"stored":1740830400,"expires":0,"data":1}`))
	// Times that overflow time arithmetic.
	f.Add([]byte(`{"version":1,"key":"ip:x","found":true,"stored":-9223372036854775808,"expires":9223372036854775807,"data":1}`))
	// A number where a string belongs.
	f.Add([]byte(`{"version":1,"key":7}`))
	// Duplicate keys, of which encoding/json keeps the last.
	f.Add([]byte(`{"version":1,"version":2,"key":"ip:x","data":1}`))

	f.Fuzz(func(t *testing.T, content []byte) {
		c := newCache(t.TempDir(), DefaultSettings(), newClock().Now)
		path := c.path("ip:x")
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, content, 0o640); err != nil {
			t.Fatal(err)
		}

		data, found, ok := c.Get("ip:x")

		e, parseErr := parseEntry(content)
		if parseErr == nil && e.Key != "ip:x" {
			parseErr = fmt.Errorf("key %q", e.Key)
		}
		_, statErr := os.Stat(path)
		switch {
		case parseErr != nil:
			if ok {
				t.Errorf("ok = true for an entry that does not parse (%v)", parseErr)
			}
			if !os.IsNotExist(statErr) {
				t.Errorf("invalid entry was not deleted (%v)", parseErr)
			}
		case ok:
			if found != e.Found {
				t.Errorf("found = %v, want the stored %v", found, e.Found)
			}
			if data != nil && !json.Valid(data) {
				t.Errorf("data %q is not valid JSON", data)
			}
			if !c.valid(e, testTime) {
				t.Error("ok = true for an entry that is not valid now")
			}
		default:
			if statErr != nil {
				t.Errorf("a parsable entry was deleted: %v", statErr)
			}
		}
	})
}

func FuzzPutGetKey(f *testing.F) {
	f.Add("ip:203.0.113.9", true)
	// Path traversal.
	f.Add("../../x", false)
	// NUL and invalid UTF-8, which JSON cannot carry unchanged.
	f.Add("a\x00b\xff", true)

	f.Fuzz(func(t *testing.T, key string, found bool) {
		dir := t.TempDir()
		c := newCache(dir, DefaultSettings(), newClock().Now)

		if err := c.Put(key, found, json.RawMessage(matchData)); err != nil {
			t.Fatalf("Put: %v", err)
		}
		data, gotFound, ok := c.Get(key)

		if !ok || gotFound != found || string(data) != matchData {
			t.Errorf("Get = %q, %v, %v; want the stored answer", data, gotFound, ok)
		}
		if files := entryFiles(t, dir); len(files) != 1 {
			t.Errorf("cache contains %d files, want 1", len(files))
		}
	})
}

func BenchmarkGetHit(b *testing.B) {
	c := newCache(b.TempDir(), DefaultSettings(), time.Now)
	if err := c.Put("ip:203.0.113.9", true, json.RawMessage(matchData)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()

	for b.Loop() {
		if _, _, ok := c.Get("ip:203.0.113.9"); !ok {
			b.Fatal("cache miss, want a hit")
		}
	}
}

func BenchmarkGetMiss(b *testing.B) {
	c := newCache(b.TempDir(), DefaultSettings(), time.Now)
	b.ReportAllocs()

	for b.Loop() {
		if _, _, ok := c.Get("ip:203.0.113.9"); ok {
			b.Fatal("cache hit, want a miss")
		}
	}
}

func BenchmarkPut(b *testing.B) {
	c := newCache(b.TempDir(), DefaultSettings(), time.Now)
	b.ReportAllocs()

	for b.Loop() {
		if err := c.Put("ip:203.0.113.9", true, json.RawMessage(matchData)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPrune(b *testing.B) {
	c := newCache(b.TempDir(), DefaultSettings(), time.Now)
	for i := range 2000 {
		if err := c.Put("key-"+strconv.Itoa(i), i%2 == 0, json.RawMessage(matchData)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()

	for b.Loop() {
		if _, err := c.Prune(); err != nil {
			b.Fatal(err)
		}
	}
}
