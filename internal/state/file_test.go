package state

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests re-run the test binary as helper processes. helperEnv selects
// what a helper does, and helperPath names the file it works on.
const (
	helperEnv  = "STATE_TEST_HELPER"
	helperPath = "STATE_TEST_PATH"
)

// TestHelperProcess is the body of the helper processes that helperCommand
// starts. Run as an ordinary test, it returns at once.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		return
	}
	path := os.Getenv(helperPath)

	switch mode {
	case "increment":
		for range 50 {
			if err := Update(context.Background(), path, 10*time.Second, incrementCounter); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
	case "rewrite":
		// Replace the file with 4 MiB of one letter, then of another, until
		// the parent kills this process.
		a := bytes.Repeat([]byte("a"), 4<<20)
		b := bytes.Repeat([]byte("b"), 4<<20)
		for i := 0; ; i++ {
			data := a
			if i%2 == 1 {
				data = b
			}
			if err := WriteAtomic(path, data); err != nil {
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

func helperCommand(t *testing.T, mode, path string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, helperPath+"="+path)
	cmd.Stderr = os.Stderr
	return cmd
}

// incrementCounter is an Update function that adds one to a decimal counter.
func incrementCounter(old []byte) ([]byte, error) {
	n := 0
	if len(old) > 0 {
		var err error
		n, err = strconv.Atoi(string(old))
		if err != nil {
			return nil, fmt.Errorf("invalid counter %q: %w", old, err)
		}
	}
	return []byte(strconv.Itoa(n + 1)), nil
}

func readCounter(t *testing.T, path string) int {
	t.Helper()
	data, err := ReadFile(path)
	if err != nil {
		t.Fatalf("ReadFile: %v", err)
	}
	n, err := strconv.Atoi(string(data))
	if err != nil {
		t.Fatalf("counter file contains %q, want a number", data)
	}
	return n
}

func TestUpdateConcurrentGoroutines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "counter")
	const goroutines, rounds = 20, 25

	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for range goroutines {
		wg.Go(func() {
			for range rounds {
				if err := Update(context.Background(), path, 10*time.Second, incrementCounter); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Update: %v", err)
	}

	if got, want := readCounter(t, path), goroutines*rounds; got != want {
		t.Errorf("counter = %d, want %d (an update was lost)", got, want)
	}
}

func TestUpdateConcurrentProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "counter")
	const processes = 5

	cmds := make([]*exec.Cmd, processes)
	for i := range cmds {
		cmds[i] = helperCommand(t, "increment", path)
		if err := cmds[i].Start(); err != nil {
			t.Fatalf("start helper: %v", err)
		}
	}
	// Some goroutines of this process compete with the helpers.
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			for range 50 {
				if err := Update(context.Background(), path, 10*time.Second, incrementCounter); err != nil {
					t.Errorf("Update: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("helper failed: %v", err)
		}
	}

	if got, want := readCounter(t, path), (processes+5)*50; got != want {
		t.Errorf("counter = %d, want %d (an update was lost)", got, want)
	}
}

func TestWriteAtomicKilledWriter(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "data")

	for round := range 5 {
		cmd := helperCommand(t, "rewrite", path)
		if err := cmd.Start(); err != nil {
			t.Fatalf("start helper: %v", err)
		}
		// Kill the writer at a different point of its loop each round.
		time.Sleep(time.Duration(20+round*7) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatalf("kill helper: %v", err)
		}
		_ = cmd.Wait() // the helper always ends killed

		data, err := ReadFile(path)
		if err != nil {
			t.Fatalf("round %d: ReadFile: %v", round, err)
		}
		if data == nil {
			continue // killed before its first rename
		}
		if len(data) != 4<<20 {
			t.Fatalf("round %d: file has %d bytes, want %d", round, len(data), 4<<20)
		}
		if n := bytes.Count(data, data[:1]); n != len(data) {
			t.Fatalf("round %d: file mixes two versions (%d of %d bytes are %q)", round, n, len(data), data[:1])
		}
	}
}

func TestWriteAtomicReplacesContent(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(string, []byte) error
	}{
		{"atomic", WriteAtomic},
		{"durable", WriteDurable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sub", "file")

			if err := tc.write(path, []byte("old")); err != nil {
				t.Fatalf("first write: %v", err)
			}
			if err := tc.write(path, []byte("new")); err != nil {
				t.Fatalf("second write: %v", err)
			}

			got, err := ReadFile(path)
			if err != nil {
				t.Fatalf("ReadFile: %v", err)
			}
			if string(got) != "new" {
				t.Errorf("content = %q, want %q", got, "new")
			}
			info, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if mode := info.Mode().Perm(); mode != 0o640 {
				t.Errorf("mode = %o, want 640", mode)
			}
			entries, err := os.ReadDir(filepath.Dir(path))
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 {
				t.Errorf("directory contains %d entries, want only the file (a temp file was left)", len(entries))
			}
		})
	}
}

func TestReadFileMissing(t *testing.T) {
	data, err := ReadFile(filepath.Join(t.TempDir(), "absent"))
	if err != nil {
		t.Fatalf("err = %v, want nil", err)
	}
	if data != nil {
		t.Errorf("data = %q, want nil", data)
	}
}

func TestUpdateNilDataWritesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")

	err := Update(context.Background(), path, time.Second, func(old []byte) ([]byte, error) {
		if old != nil {
			t.Errorf("old = %q, want nil for a missing file", old)
		}
		return nil, nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}

	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stat after a no-op Update: err = %v, want not exist", err)
	}
}

func TestUpdateFnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file")
	if err := WriteAtomic(path, []byte("keep")); err != nil {
		t.Fatal(err)
	}
	errFn := errors.New("fn failed")

	err := Update(context.Background(), path, time.Second, func([]byte) ([]byte, error) {
		return []byte("lost"), errFn
	})
	if !errors.Is(err, errFn) {
		t.Fatalf("err = %v, want %v", err, errFn)
	}

	got, _ := ReadFile(path)
	if string(got) != "keep" {
		t.Errorf("content = %q, want %q", got, "keep")
	}
}

func TestAcquireLockTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file.lock")
	holder, err := AcquireLock(context.Background(), path, time.Second)
	if err != nil {
		t.Fatalf("first AcquireLock: %v", err)
	}
	defer holder.Release()

	start := time.Now()
	_, err = AcquireLock(context.Background(), path, 30*time.Millisecond)
	elapsed := time.Since(start)
	if !errors.Is(err, ErrLockTimeout) {
		t.Fatalf("err = %v, want ErrLockTimeout", err)
	}
	if elapsed < 30*time.Millisecond {
		t.Errorf("gave up after %s, want at least the 30ms timeout", elapsed)
	}
}

func TestAcquireLockCancelled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file.lock")
	holder, err := AcquireLock(context.Background(), path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	start := time.Now()
	_, err = AcquireLock(ctx, path, 10*time.Second)
	if !errors.Is(err, ErrLockTimeout) {
		t.Fatalf("err = %v, want ErrLockTimeout", err)
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("waited %s with a cancelled context", elapsed)
	}
}

func TestAcquireLockWaitsForRelease(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file.lock")
	holder, err := AcquireLock(context.Background(), path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(20*time.Millisecond, func() { holder.Release() })

	lock, err := AcquireLock(context.Background(), path, 5*time.Second)
	if err != nil {
		t.Fatalf("AcquireLock after release: %v", err)
	}
	lock.Release()
}

func TestTryLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file.lock")

	first, err := TryLock(path)
	if err != nil || first == nil {
		t.Fatalf("TryLock on a free lock = %v, %v; want a lock", first, err)
	}
	second, err := TryLock(path)
	if err != nil || second != nil {
		t.Fatalf("TryLock on a held lock = %v, %v; want nil, nil", second, err)
	}
	if err := first.Release(); err != nil {
		t.Fatalf("Release: %v", err)
	}
	third, err := TryLock(path)
	if err != nil || third == nil {
		t.Fatalf("TryLock after Release = %v, %v; want a lock", third, err)
	}
	third.Release()
}

func TestReleaseTwice(t *testing.T) {
	lock, err := TryLock(filepath.Join(t.TempDir(), "file.lock"))
	if err != nil {
		t.Fatal(err)
	}
	if err := lock.Release(); err != nil {
		t.Fatalf("first Release: %v", err)
	}
	if err := lock.Release(); err != nil {
		t.Errorf("second Release: %v, want nil", err)
	}
	var none *Lock
	if err := none.Release(); err != nil {
		t.Errorf("Release on nil Lock: %v, want nil", err)
	}
}

func TestReadFileRejectsHugeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huge.json")
	file, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := file.Truncate(MaxFileSize + 1); err != nil {
		t.Fatal(err)
	}
	file.Close()

	_, err = ReadFile(path)

	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("error = %v, want ErrTooLarge", err)
	}
}
