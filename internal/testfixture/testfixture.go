// Package testfixture locates, for tests, the repository root and the
// shared alert and MISP samples, which sit in ../shared/fixtures beside the
// repository (as in CI, which lays a copy of shared/ beside the clone).
package testfixture

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// RepoRoot returns the directory holding go.mod.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		tb.Fatal("cannot locate the testfixture package")
	}
	// This file is internal/testfixture/testfixture.go under the root.
	root := filepath.Join(filepath.Dir(file), "..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		tb.Fatalf("go.mod not found at %s: %v", root, err)
	}
	return root
}

// Path returns the path of a shared fixture, such as
// Path(tb, "alerts", "win_sysmon1_event_data.json"). It fails the test when
// the fixtures directory is missing.
func Path(tb testing.TB, parts ...string) string {
	tb.Helper()
	dir := filepath.Join(RepoRoot(tb), "..", "shared", "fixtures")
	if _, err := os.Stat(dir); err != nil {
		tb.Fatalf("shared fixtures not found at %s: %v", dir, err)
	}
	return filepath.Join(append([]string{dir}, parts...)...)
}

// Read returns the content of a shared fixture.
func Read(tb testing.TB, parts ...string) []byte {
	tb.Helper()
	data, err := os.ReadFile(Path(tb, parts...))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}
