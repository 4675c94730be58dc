package wazuh

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestLoggerLineFormat(t *testing.T) {
	var buf bytes.Buffer
	logger := NewLogger(&buf, "custom-misp", slog.LevelInfo)

	logger.Info("lookup done", "value", "evil.example\ntime=forged level=ERROR", "hits", 2)

	line := buf.String()
	if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
		t.Fatalf("got %q, want exactly one line", line)
	}
	pattern := `^time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=INFO msg="lookup done" ` +
		`program=custom-misp pid=` + strconv.Itoa(os.Getpid()) +
		` value="evil\.example\\ntime=forged level=ERROR" hits=2\n$`
	if !regexp.MustCompile(pattern).MatchString(line) {
		t.Fatalf("line\n %q\ndoes not match\n %q", line, pattern)
	}
}

func TestLoggerDropsBelowLevel(t *testing.T) {
	var buf bytes.Buffer
	logger := NewLogger(&buf, "custom-telegram", slog.LevelInfo)

	logger.Debug("per-indicator detail")

	if buf.Len() != 0 {
		t.Fatalf("got %q, want no output below Info", buf.String())
	}
}

func TestOpenLogFileAppends(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "logs", "sub", "integrations.log")

	for _, line := range []string{"first\n", "second\n"} {
		file, err := OpenLogFile(path)
		if err != nil {
			t.Fatalf("OpenLogFile: %v", err)
		}
		if _, err := file.WriteString(line); err != nil {
			t.Fatal(err)
		}
		if err := file.Close(); err != nil {
			t.Fatal(err)
		}
	}

	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "first\nsecond\n" {
		t.Errorf("content %q, want both lines in order", got)
	}
}

func TestOpenLogFileModes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "logs", "integrations.log")

	file, err := OpenLogFile(path)
	if err != nil {
		t.Fatalf("OpenLogFile: %v", err)
	}
	file.Close()

	umask := currentUmask()
	for _, tc := range []struct {
		path string
		want os.FileMode
	}{
		{path, 0o640 &^ umask},
		{filepath.Dir(path), 0o750 &^ umask},
	} {
		info, err := os.Stat(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != tc.want {
			t.Errorf("mode of %s is %o, want %o", tc.path, got, tc.want)
		}
	}
}

func TestOpenLogFileUnwritable(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "logs")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	_, err := OpenLogFile(filepath.Join(blocker, "integrations.log"))

	if err == nil || !strings.Contains(err.Error(), blocker) {
		t.Fatalf("got %v, want an error naming %s", err, blocker)
	}
}

// currentUmask reads the process umask by creating a file with mode 0777.
func currentUmask() os.FileMode {
	dir, err := os.MkdirTemp("", "umask")
	if err != nil {
		return 0
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "f")
	file, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o777)
	if err != nil {
		return 0
	}
	file.Close()
	info, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return 0o777 &^ info.Mode().Perm()
}
