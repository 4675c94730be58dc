package wazuh

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
)

// logTimeFormat is RFC 3339 with milliseconds; times are written in UTC.
const logTimeFormat = "2006-01-02T15:04:05.000Z07:00"

// NewLogger returns a logger that writes one key=value line per record to w,
// each with program=<program> and pid=<pid>. The text handler quotes any
// value containing spaces, quotes, "=" or control characters, so an
// attacker-controlled alert value passed as an attribute cannot start a new
// line or forge keys. Records below level are dropped.
func NewLogger(w io.Writer, program string, level slog.Level) *slog.Logger {
	handler := slog.NewTextHandler(w, &slog.HandlerOptions{
		Level:       level,
		ReplaceAttr: formatTime,
	})
	return slog.New(handler).With("program", program, "pid", os.Getpid())
}

// formatTime rewrites the record time as UTC with millisecond precision.
func formatTime(groups []string, attr slog.Attr) slog.Attr {
	if len(groups) == 0 && attr.Key == slog.TimeKey && attr.Value.Kind() == slog.KindTime {
		return slog.String(slog.TimeKey, attr.Value.Time().UTC().Format(logTimeFormat))
	}
	return attr
}

// OpenLogFile opens path for appending, creating it with mode 0640 and its
// directory with mode 0750 when missing (both before the umask). The caller
// closes the file.
func OpenLogFile(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create log directory for %s: %w", path, err)
	}
	file, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open log file %s (the wazuh user needs write access): %w", path, err)
	}
	return file, nil
}
