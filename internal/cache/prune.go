package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/state"
)

// file is one entry file found by Prune.
type file struct {
	path   string
	stored time.Time // the modification time, which Put sets to the stored time
}

// Prune deletes expired and corrupt entries, temp files left by killed
// writers, and then the oldest entries beyond MaxEntries. It returns how
// many files it deleted. It decides most entries from their modification
// time and opens a file only when that time falls between the shorter and
// the longer TTL. Only one process prunes at a time: when another holds
// dir/cache/prune.lock, Prune returns at once with zero.
func (c *Cache) Prune() (removed int, err error) {
	lock, err := state.TryLock(filepath.Join(c.dir, "prune.lock"))
	if err != nil {
		return 0, err
	}
	if lock == nil {
		return 0, nil
	}
	defer lock.Release()

	now := c.now()
	kept, removed, err := c.pruneExpired(now)

	if excess := len(kept) - c.settings.MaxEntries; excess > 0 {
		slices.SortFunc(kept, func(a, b file) int { return a.stored.Compare(b.stored) })
		for _, f := range kept[:excess] {
			if removeErr := remove(f.path); removeErr != nil {
				err = errors.Join(err, removeErr)
				continue
			}
			removed++
		}
	}
	return removed, err
}

// pruneExpired deletes what can no longer be used and returns the entries
// it kept.
func (c *Cache) pruneExpired(now time.Time) (kept []file, removed int, err error) {
	shortest, longest := c.ttlRange()

	buckets, err := os.ReadDir(c.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("list cache directory: %w", err)
	}
	for _, bucket := range buckets {
		if !bucket.IsDir() || len(bucket.Name()) != 2 {
			continue
		}
		dir := filepath.Join(c.dir, bucket.Name())
		listing, readErr := os.ReadDir(dir)
		if readErr != nil {
			err = errors.Join(err, fmt.Errorf("list cache directory: %w", readErr))
			continue
		}

		for _, listed := range listing {
			path := filepath.Join(dir, listed.Name())
			info, statErr := listed.Info()
			if statErr != nil {
				continue // deleted since the listing
			}

			switch c.classify(path, info, now, shortest, longest) {
			case keep:
				kept = append(kept, file{path: path, stored: info.ModTime()})
			case drop:
				if removeErr := remove(path); removeErr != nil {
					err = errors.Join(err, removeErr)
					continue
				}
				removed++
			}
		}
	}
	return kept, removed, err
}

// action is Prune's decision about one file.
type action int

const (
	ignore action = iota // not an entry, or deleted meanwhile
	keep
	drop
)

// classify decides about one file in a bucket directory.
func (c *Cache) classify(path string, info fs.FileInfo, now time.Time, shortest, longest time.Duration) action {
	name := info.Name()
	age := now.Sub(info.ModTime())

	switch {
	case strings.HasPrefix(name, "."):
		if strings.Contains(name, ".tmp-") && age > staleTempAge {
			return drop
		}
		return ignore
	case !strings.HasSuffix(name, ".json"):
		return ignore
	case age >= longest:
		return drop
	case age < shortest:
		return keep
	}

	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ignore
	}
	if err != nil {
		return drop
	}
	e, err := parseEntry(raw)
	if err != nil || !c.valid(e, now) {
		return drop
	}
	return keep
}

// ttlRange returns the shorter and the longer TTL. A disabled side counts
// as zero, so its entries are always opened.
func (c *Cache) ttlRange() (shortest, longest time.Duration) {
	hit := max(c.settings.HitTTL, 0)
	miss := max(c.settings.MissTTL, 0)
	return min(hit, miss), max(hit, miss)
}

func remove(path string) error {
	err := os.Remove(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete cache file: %w", err)
	}
	return nil
}
