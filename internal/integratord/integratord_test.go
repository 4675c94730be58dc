package integratord

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseArgsLayouts(t *testing.T) {
	const alert = "/tmp/custom-misp-1715702735--159918011.alert"
	const options = "/tmp/custom-misp-1715702735--159918011.options"
	tests := []struct {
		name string
		argv []string

		want Args
	}{
		{"wazuh 4.3 debug off", []string{"integrations", alert, "", "", " > /dev/null 2>&1"},
			Args{AlertFile: alert, Retries: -1}},
		{"wazuh 4.3 debug on", []string{"integrations", alert, "key", "https://misp", "debug"},
			Args{AlertFile: alert, APIKey: "key", HookURL: "https://misp", Debug: true, Retries: -1}},
		{"wazuh 4.7 debug off", []string{"integrations", alert, "", "", "", "", "> /dev/null 2>&1"},
			Args{AlertFile: alert, Retries: -1}},
		{"wazuh 4.7 options and debug", []string{"integrations", alert, "", "", "debug", options},
			Args{AlertFile: alert, Debug: true, OptionsFile: options, Retries: -1}},
		{"wazuh 4.8 debug off", []string{"integrations", alert, "", "", "", "", "10", "3", "> /dev/null 2>&1"},
			Args{AlertFile: alert, Timeout: 10 * time.Second, Retries: 3}},
		{"wazuh 4.8 debug on", []string{"integrations", alert, "k", "", "debug", "", "15", "0"},
			Args{AlertFile: alert, APIKey: "k", Debug: true, Timeout: 15 * time.Second, Retries: 0}},
		{"alert file only", []string{"custom-misp", alert},
			Args{AlertFile: alert, Retries: -1}},
		{"non-numeric timeout ignored", []string{"integrations", alert, "", "", "", "", "ten", "-1"},
			Args{AlertFile: alert, Retries: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseArgs(tc.argv)

			if err != nil {
				t.Fatalf("ParseArgs: %v", err)
			}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseArgsUsage(t *testing.T) {
	tests := [][]string{
		{"integrations"},
		{"integrations", ""},
		{"integrations", "a", "b", "c", "d", "e", "f", "g", "h", "i"},
	}
	for _, argv := range tests {
		if _, err := ParseArgs(argv); !errors.Is(err, ErrUsage) {
			t.Errorf("ParseArgs(%q) error = %v, want ErrUsage", argv, err)
		}
	}
}

func TestParseArgsSecretsDoNotPrint(t *testing.T) {
	args, err := ParseArgs([]string{"integrations", "/tmp/a.alert", "s3cret-key", "https://user:pw@host", "debug"})
	if err != nil {
		t.Fatal(err)
	}

	printed := strings.Join([]string{args.APIKey.String(), args.HookURL.String()}, " ")
	if strings.Contains(printed, "s3cret") || strings.Contains(printed, "pw@") {
		t.Errorf("secrets printed: %q", printed)
	}
}

func TestReadAlertFile(t *testing.T) {
	tests := []struct {
		name    string
		content string

		wantErr string
	}{
		{"json line", `{"rule":{"id":"1"}}` + "\n", ""},
		{"legacy format", "alertdate='Nov 17, 2022 @ 19:30'\nalertlocation='syscheck'\nruleid='554'\n", "legacy key='value' format: add <alert_format>json</alert_format>"},
		{"empty", "", "is empty"},
		{"not json", "hello", "does not contain a JSON object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.alert")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}

			data, err := ReadAlertFile(path)

			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("ReadAlertFile: %v", err)
				}
				if string(data) != strings.TrimSpace(tc.content) {
					t.Errorf("data = %q", data)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestReadAlertFileTooLarge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.alert")
	if err := os.WriteFile(path, []byte("{"+strings.Repeat(" ", MaxAlertSize)+"}"), 0o600); err != nil {
		t.Fatal(err)
	}

	_, err := ReadAlertFile(path)

	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("error = %v, want a size error", err)
	}
}

func TestReadAlertFileMissing(t *testing.T) {
	_, err := ReadAlertFile(filepath.Join(t.TempDir(), "gone.alert"))

	if err == nil || !strings.Contains(err.Error(), "open alert file") {
		t.Fatalf("error = %v, want an open error", err)
	}
}

func TestReadAlertFileRejectsFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo.alert")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}

	done := make(chan error, 1)
	go func() {
		_, err := ReadAlertFile(path)
		done <- err
	}()

	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("error = %v, want a not-a-regular-file error", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("ReadAlertFile blocked on a FIFO")
	}
}
