package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// copyCase copies testdata/name into a temp dir with mode 0640 and returns its path.
func copyCase(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o640); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadGood(t *testing.T) {
	path := copyCase(t, "good.toml")

	cfg, err := Load(path, "/var/ossec")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	if got, want := cfg.MISP.Timeout.D(), 2*time.Second; got != want {
		t.Errorf("misp.timeout = %v, want %v", got, want)
	}
	if got, want := cfg.MISP.Budget.D(), 8*time.Second; got != want {
		t.Errorf("misp.budget default = %v, want %v", got, want)
	}
	if got, want := string(cfg.Telegram.ChatID), "-1001234567890"; got != want {
		t.Errorf("telegram.chat_id = %q, want %q", got, want)
	}
	if got, want := cfg.Wazuh.QueueSocket, "/var/ossec/queue/sockets/queue"; got != want {
		t.Errorf("queue socket = %q, want %q", got, want)
	}
	if err := cfg.RequireMISP(); err != nil {
		t.Errorf("RequireMISP: %v", err)
	}
	if err := cfg.RequireTelegram(); err != nil {
		t.Errorf("RequireTelegram: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		file string

		want []string
	}{
		{"typo.toml", []string{"misp.api_kye (did you mean misp.api_key?)", "telegarm.chat_id (did you mean telegram.chat_id?)"}},
		{"bare_number_duration.toml", []string{`invalid duration 5: write it as a string with a unit`}},
		{"both_key_and_file.toml", []string{"both misp.api_key and misp.api_key_file are set"}},
		{"bad_values.toml", []string{"misp.url \"ftp://misp.example.org\": must start with https:// or http://", `misp.auth_header "Bearer" is not supported`, "misp.limit 0 is out of range", `invalid telegram.chat_id "@ab"`, "telegram.message_thread_id 1 is invalid"}},
		{"not_toml.toml", []string{"parse config"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := copyCase(t, tc.file)

			_, err := Load(path, "/var/ossec")

			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q\ndoes not contain %q", err, want)
				}
			}
		})
	}
}

func TestLoadErrorsHideURLSecrets(t *testing.T) {
	path := copyCase(t, "url_with_secrets.toml")

	_, err := Load(path, "/var/ossec")

	if err == nil {
		t.Fatal("Load succeeded, want an error")
	}
	if strings.Contains(err.Error(), "s3cretpw") {
		t.Errorf("error quotes a password or token: %v", err)
	}
	if !strings.Contains(err.Error(), "credentials, path or query removed") {
		t.Errorf("error does not say that part of the URL was left out: %v", err)
	}
}

func TestLoadPermissions(t *testing.T) {
	tests := []struct {
		name string
		mode os.FileMode

		wantErr     string
		wantWarning string
	}{
		{"owner and group read", 0o640, "", ""},
		{"group writable", 0o660, "writable by group or others (mode 0660)", ""},
		{"world writable", 0o602, "writable by group or others (mode 0602)", ""},
		{"world readable", 0o644, "", "readable by others (mode 0644)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := copyCase(t, "good.toml")
			if err := os.Chmod(path, tc.mode); err != nil {
				t.Fatal(err)
			}

			cfg, err := Load(path, "/var/ossec")

			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			warnings := strings.Join(cfg.Warnings, "\n")
			if tc.wantWarning == "" && warnings != "" {
				t.Errorf("unexpected warnings: %s", warnings)
			}
			if tc.wantWarning != "" && !strings.Contains(warnings, tc.wantWarning) {
				t.Errorf("warnings %q do not contain %q", warnings, tc.wantWarning)
			}
		})
	}
}

func TestLoadSecretFiles(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "misp.key")
	if err := os.WriteFile(keyFile, []byte("  abcdefabcdefabcdefabcdefabcdefabcdefabcd\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "c.toml")
	body := "[misp]\nurl = \"https://misp.example.org\"\napi_key_file = \"" + keyFile + "\"\n"
	if err := os.WriteFile(path, []byte(body), 0o640); err != nil {
		t.Fatal(err)
	}

	cfg, err := Load(path, dir)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	if got, want := cfg.MISP.APIKey.Reveal(), "abcdefabcdefabcdefabcdefabcdefabcdefabcd"; got != want {
		t.Errorf("api key = %q, want %q", got, want)
	}
	if got := cfg.MISP.APIKey.String(); got != "[REDACTED]" {
		t.Errorf("api key prints as %q, want the placeholder", got)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "absent.toml"), "/var/ossec")

	if err == nil || !strings.Contains(err.Error(), "not found: copy config.example.toml there") {
		t.Fatalf("error = %v, want a not-found message with the fix", err)
	}
}

// TestExampleDocumentsEveryKey keeps config.example.toml complete and
// loadable: every key the code knows appears in it, and it parses.
func TestExampleDocumentsEveryKey(t *testing.T) {
	example := filepath.Join("..", "..", "config.example.toml")
	data, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "example.toml")
	if err := os.WriteFile(path, data, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, "/var/ossec"); err != nil {
		t.Fatalf("config.example.toml does not load: %v", err)
	}

	table := ""
	documented := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			table = strings.Trim(line, "[]")
			continue
		}
		if key, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			documented[table+"."+strings.TrimSpace(key)] = true
		}
	}
	keys := KnownKeys()
	if len(keys) < 40 {
		t.Fatalf("KnownKeys returned %d keys, want every key of every table", len(keys))
	}
	for _, key := range keys {
		if !documented[key] {
			t.Errorf("config.example.toml does not document %s", key)
		}
	}
	for key := range documented {
		if !contains(keys, key) {
			t.Errorf("config.example.toml has %s, which the code does not know", key)
		}
	}
}

func contains(list []string, s string) bool {
	for _, item := range list {
		if item == s {
			return true
		}
	}
	return false
}

func TestLoadRejectsNonRegularFiles(t *testing.T) {
	dir := t.TempDir()

	_, err := Load(dir, "/var/ossec")

	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("error = %v, want a not-a-regular-file error", err)
	}
}
