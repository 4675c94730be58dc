package misp

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/testfixture"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixture returns a shared MISP response fixture.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	return testfixture.Read(t, "misp", name)
}

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs:\ngot:  %s\nwant: %s", path, got, want)
	}
}
