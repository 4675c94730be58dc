package state

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// ErrLockTimeout is returned when another process holds a lock for longer
// than the caller was willing to wait.
var ErrLockTimeout = errors.New("timed out waiting for lock")

// lockPollInterval is how often a busy lock is retried. Holders keep locks
// for milliseconds, so a short poll keeps waiters fast.
const lockPollInterval = 2 * time.Millisecond

// Lock is an exclusive advisory lock (flock) on a file. The kernel drops it
// when the process exits, so a killed holder never leaves a stale lock.
type Lock struct {
	file *os.File
}

// AcquireLock takes an exclusive lock on path, creating the file (mode 0640)
// and its directory if needed. It polls until the lock is free, ctx is done,
// or timeout passes, and then returns an error wrapping ErrLockTimeout.
func AcquireLock(ctx context.Context, path string, timeout time.Duration) (*Lock, error) {
	file, err := openLockFile(path)
	if err != nil {
		return nil, err
	}

	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(file.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return &Lock{file: file}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			file.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			file.Close()
			return nil, fmt.Errorf("lock %s after %s: %w", path, timeout, ErrLockTimeout)
		}
		time.Sleep(lockPollInterval)
	}
}

// TryLock takes the lock only if it is free right now. It returns nil and no
// error when another process holds it.
func TryLock(path string) (*Lock, error) {
	file, err := openLockFile(path)
	if err != nil {
		return nil, err
	}
	err = syscall.Flock(int(file.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		file.Close()
		return nil, nil
	}
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &Lock{file: file}, nil
}

// Release drops the lock. Calling it on a nil Lock does nothing.
func (l *Lock) Release() error {
	if l == nil || l.file == nil {
		return nil
	}
	err := l.file.Close() // closing the descriptor releases the flock
	l.file = nil
	return err
}

func openLockFile(path string) (*os.File, error) {
	if err := MkdirAll(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	file, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	inheritOwner(path)
	return file, nil
}

// MaxFileSize bounds every state file read. The files this project writes
// stay far below it (the largest, telegram.json, is bounded by
// telegram.max_pending), so a larger file is damage, and reading it would
// spend the run's time budget.
const MaxFileSize = 32 << 20

// ErrTooLarge is returned for a state file larger than MaxFileSize.
var ErrTooLarge = errors.New("state file is larger than the limit")

// ReadFile returns the content of path, or nil and no error when the file
// does not exist yet. It takes no lock: WriteAtomic replaces files by rename,
// so a reader sees either the old or the new version, never a mix.
func ReadFile(path string) ([]byte, error) {
	data, err := ReadLimited(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return data, err
}

// ReadLimited returns the content of path, which must be a regular file of
// at most MaxFileSize bytes. Errors from the file system are returned as
// they are, so os.ErrNotExist can be told apart.
func ReadLimited(path string) ([]byte, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()

	info, err := file.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if info.Size() > MaxFileSize {
		return nil, fmt.Errorf("%s has %d bytes: %w (%d bytes)", path, info.Size(), ErrTooLarge, MaxFileSize)
	}
	return io.ReadAll(io.LimitReader(file, MaxFileSize))
}

// WriteAtomic replaces path with data through a temp file in the same
// directory and a rename. A process killed at any point leaves either the old
// or the new content at path. It does not fsync, so an OS crash or power loss
// may lose the latest write: right for caches and breaker state, which are
// cheap to rebuild, and worth about 0.4 ms per write.
func WriteAtomic(path string, data []byte) error {
	return writeAtomic(path, data, false)
}

// WriteDurable is WriteAtomic plus an fsync of the file before the rename and
// of the directory after it, so the new content also survives a power loss.
func WriteDurable(path string, data []byte) error {
	return writeAtomic(path, data, true)
}

func writeAtomic(path string, data []byte, durable bool) error {
	dir := filepath.Dir(path)
	if err := MkdirAll(dir); err != nil {
		return fmt.Errorf("create state directory: %w", err)
	}

	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create temp file for %s: %w", path, err)
	}
	tmpName := tmp.Name()
	renamed := false
	defer func() {
		if !renamed {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()

	if err := tmp.Chmod(0o640); err != nil {
		return fmt.Errorf("chmod %s: %w", tmpName, err)
	}
	inheritOwner(tmpName)
	n, err := tmp.Write(data)
	if err != nil {
		return fmt.Errorf("write %s: %w", tmpName, err)
	}
	if n != len(data) {
		return fmt.Errorf("write %s: wrote %d of %d bytes", tmpName, n, len(data))
	}
	if durable {
		if err := tmp.Sync(); err != nil {
			return fmt.Errorf("sync %s: %w", tmpName, err)
		}
	}
	// Close before the rename so that no descriptor refers to the old name.
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmpName, err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("rename %s to %s: %w", tmpName, path, err)
	}
	renamed = true

	if !durable {
		return nil
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// Update runs fn on the current content of path (nil when absent) while
// holding path+".lock", and writes what fn returns atomically. When fn
// returns nil data and no error, nothing is written.
func Update(ctx context.Context, path string, lockTimeout time.Duration, fn func(old []byte) ([]byte, error)) error {
	lock, err := AcquireLock(ctx, path+".lock", lockTimeout)
	if err != nil {
		return err
	}
	defer lock.Release()

	old, err := ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	data, err := fn(old)
	if err != nil {
		return err
	}
	if data == nil {
		return nil
	}
	return WriteAtomic(path, data)
}
