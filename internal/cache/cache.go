package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"
	"unicode/utf8"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/state"
)

// Defaults used by DefaultSettings, and for MaxEntries when it is not
// positive.
const (
	DefaultHitTTL     = time.Hour
	DefaultMissTTL    = 10 * time.Minute
	DefaultMaxEntries = 10000
)

const (
	// formatVersion is the "version" of an entry file. Entries with another
	// version are treated as corrupt.
	formatVersion = 1

	// pruneOneIn makes Put prune the cache after about one write in this
	// many.
	pruneOneIn = 256

	// maxClockSkew is how far in the future an entry's stored time may be
	// before Get distrusts it. A clock set back by more would otherwise keep
	// entries valid for longer than their TTL.
	maxClockSkew = time.Minute

	// staleTempAge is the age after which Prune removes a temp file left
	// by a writer that was killed before its rename.
	staleTempAge = 10 * time.Minute
)

// Settings configures a Cache. The zero value caches nothing: a TTL of zero
// (or less) disables that side.
type Settings struct {
	// HitTTL is how long a MISP match stays valid.
	HitTTL time.Duration
	// MissTTL is how long a miss (no MISP attribute) stays valid.
	MissTTL time.Duration
	// MaxEntries bounds the number of entry files that Prune keeps. Zero or
	// less means DefaultMaxEntries.
	MaxEntries int
}

// DefaultSettings returns the settings of a cache that keeps matches for an
// hour, misses for ten minutes, and at most 10000 entries.
func DefaultSettings() Settings {
	return Settings{HitTTL: DefaultHitTTL, MissTTL: DefaultMissTTL, MaxEntries: DefaultMaxEntries}
}

// Cache stores one lookup result per key in its own file, so a lookup reads one
// small file and concurrent writers never contend for a lock.
type Cache struct {
	dir      string
	settings Settings
	now      func() time.Time
	// shouldPrune decides after each Put whether to prune. Tests replace it.
	shouldPrune func() bool
}

// entry is the content of one cache file.
type entry struct {
	Version int    `json:"version"`
	Key     string `json:"key"`
	Found   bool   `json:"found"`
	// Stored and Expires are Unix times in seconds.
	Stored  int64           `json:"stored"`
	Expires int64           `json:"expires"`
	Data    json.RawMessage `json:"data"`
}

// New returns a cache kept under dir/cache. now is the clock used for TTLs
// (time.Now outside tests). New does not touch the disk.
func New(dir string, s Settings, now func() time.Time) *Cache {
	if s.MaxEntries <= 0 {
		s.MaxEntries = DefaultMaxEntries
	}
	return &Cache{
		dir:         filepath.Join(dir, "cache"),
		settings:    s,
		now:         now,
		shouldPrune: func() bool { return rand.IntN(pruneOneIn) == 0 },
	}
}

// Get returns the lookup result stored for key. found is true for a MISP match,
// whose data are the matched attributes, and false for a miss, whose data
// may be nil. ok is false when there is no valid result: no entry, an
// expired one, one whose side has TTL zero, or a corrupt one, which Get
// deletes.
func (c *Cache) Get(key string) (data json.RawMessage, found bool, ok bool) {
	path := c.path(key)
	raw, err := state.ReadLimited(path)
	if err != nil {
		return nil, false, false
	}

	e, err := parseEntry(raw)
	if err == nil && utf8.ValidString(key) && e.Key != key {
		// A key that is not valid UTF-8 is stored with replacement
		// characters, so only valid keys can be compared.
		err = errors.New("entry belongs to another key")
	}
	if err != nil {
		os.Remove(path) // a rename by a concurrent Put may be lost, which costs one lookup
		return nil, false, false
	}
	if !c.valid(e, c.now()) {
		return nil, false, false
	}
	if !e.Found && bytes.Equal(e.Data, []byte("null")) {
		return nil, false, true
	}
	return e.Data, e.Found, true
}

// Put stores the lookup result for key, replacing any earlier one. data must be
// valid JSON or empty (stored as null). When the TTL of the result's side
// is zero, Put deletes any entry for key instead, so an older result of the
// other side cannot outlive this one. After about one Put in 256 it also
// prunes the cache, and returns a prune failure as its error although the
// result was stored.
func (c *Cache) Put(key string, found bool, data json.RawMessage) error {
	path := c.path(key)
	ttl := c.ttl(found)
	if ttl <= 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("delete cache entry: %w", err)
		}
		return nil
	}

	now := c.now()
	if len(data) == 0 {
		data = json.RawMessage("null")
	}
	raw, err := json.Marshal(entry{
		Version: formatVersion,
		Key:     key,
		Found:   found,
		Stored:  now.Unix(),
		Expires: now.Add(ttl).Unix(),
		Data:    data,
	})
	if err != nil {
		return fmt.Errorf("encode cache entry %s: %w", filepath.Base(path), err)
	}
	if err := state.WriteAtomic(path, raw); err != nil {
		return err
	}
	// Prune reads the stored time from the modification time, so that it
	// need not open every file.
	if err := os.Chtimes(path, now, now); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("set cache entry time: %w", err)
	}

	if c.shouldPrune() {
		if _, err := c.Prune(); err != nil {
			return fmt.Errorf("prune cache after storing an entry: %w", err)
		}
	}
	return nil
}

// path returns the file for key: dir/cache/<first 2 hex digits>/<hex of
// sha256(key)>.json. Hashing keeps any key, "../" and NUL included, inside
// the cache directory.
func (c *Cache) path(key string) string {
	sum := sha256.Sum256([]byte(key))
	name := hex.EncodeToString(sum[:])
	return filepath.Join(c.dir, name[:2], name+".json")
}

// ttl returns the TTL of the side found selects.
func (c *Cache) ttl(found bool) time.Duration {
	if found {
		return c.settings.HitTTL
	}
	return c.settings.MissTTL
}

// valid reports whether e may be used at now. The current TTL also bounds
// an entry written under a longer one.
func (c *Cache) valid(e entry, now time.Time) bool {
	ttl := c.ttl(e.Found)
	if ttl <= 0 {
		return false
	}
	stored := time.Unix(e.Stored, 0)
	if stored.After(now.Add(maxClockSkew)) {
		return false
	}
	return now.Before(time.Unix(e.Expires, 0)) && now.Before(stored.Add(ttl))
}

// parseEntry decodes an entry file.
func parseEntry(raw []byte) (entry, error) {
	var e entry
	if err := json.Unmarshal(raw, &e); err != nil {
		return e, fmt.Errorf("invalid JSON: %w", err)
	}
	if e.Version != formatVersion {
		return e, fmt.Errorf("unsupported version %d, want %d", e.Version, formatVersion)
	}
	if len(e.Data) == 0 {
		return e, errors.New("missing data")
	}
	return e, nil
}
