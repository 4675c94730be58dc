package state

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestRootRunKeepsStateOwner checks that files written by root under a
// state directory owned by another user belong to that user, so a manual
// test run as root does not lock the wazuh user out.
func TestRootRunKeepsStateOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create files for another owner")
	}
	const uid, gid = 65534, 65534
	dir := t.TempDir()
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "cache", "ab", "entry.json")

	if err := WriteAtomic(data, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	lock, err := AcquireLock(context.Background(), filepath.Join(dir, "breaker.json.lock"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	lock.Release()

	for _, path := range []string{filepath.Join(dir, "cache"), filepath.Join(dir, "cache", "ab"), data, filepath.Join(dir, "breaker.json.lock")} {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		stat := info.Sys().(*syscall.Stat_t)
		if stat.Uid != uid || stat.Gid != gid {
			t.Errorf("%s is owned by %d:%d, want %d:%d", path, stat.Uid, stat.Gid, uid, gid)
		}
	}
}
