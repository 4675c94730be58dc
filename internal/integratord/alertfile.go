package integratord

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// MaxAlertSize bounds what is read from the alert file. integratord skips
// alerts.json lines over 64 KiB, so a larger file is not from integratord.
const MaxAlertSize = 1 << 20

// ErrLegacyFormat means the alert file is in integratord's key='value'
// format, written when the <integration> block lacks <alert_format>json.
var ErrLegacyFormat = errors.New("alert file is in the legacy key='value' format: add <alert_format>json</alert_format> to this <integration> block in ossec.conf and restart wazuh-manager")

// ReadAlertFile returns the alert JSON from path, which must be a regular
// file: opening a FIFO would block the run before its time budget starts.
func ReadAlertFile(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open alert file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("alert file %s is not a regular file (mode %s): wazuh-integratord writes a regular file", path, info.Mode().Type())
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open alert file: %w", err)
	}
	defer file.Close()

	data, err := io.ReadAll(io.LimitReader(file, MaxAlertSize+1))
	if err != nil {
		return nil, fmt.Errorf("read alert file %s: %w", path, err)
	}
	if len(data) > MaxAlertSize {
		return nil, fmt.Errorf("alert file %s is larger than %d bytes", path, MaxAlertSize)
	}

	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("alert file %s is empty", path)
	}
	if trimmed[0] != '{' {
		if bytes.HasPrefix(trimmed, []byte("alertdate=")) || bytes.Contains(trimmed, []byte("ruleid=")) {
			return nil, ErrLegacyFormat
		}
		return nil, fmt.Errorf("alert file %s does not contain a JSON object: check <alert_format>json</alert_format> in ossec.conf", path)
	}
	return trimmed, nil
}
