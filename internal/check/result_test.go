package check

import (
	"bytes"
	"testing"
)

func TestResultLine(t *testing.T) {
	tests := []struct {
		result Result

		want string
	}{
		{Result{OK, "config", "loaded", "ignored"}, "OK   config: loaded"},
		{Result{Warn, "misp tls", "not verified", "set misp.ca_file"}, "WARN misp tls: not verified — set misp.ca_file"},
		{Result{Fail, "binary", "missing", "run make install"}, "FAIL binary: missing — run make install"},
		{Result{Fail, "binary", "missing", ""}, "FAIL binary: missing"},
	}
	for _, tc := range tests {
		if got := tc.result.Line(); got != tc.want {
			t.Errorf("Line() = %q, want %q", got, tc.want)
		}
	}
}

func TestPrint(t *testing.T) {
	tests := []struct {
		name    string
		results []Result

		wantCode int
		want     string
	}{
		{"all ok", []Result{{OK, "a", "fine", ""}}, 0,
			"OK   a: fine\n1 checks: 1 OK, 0 WARN, 0 FAIL\n"},
		{"a warning", []Result{{OK, "a", "fine", ""}, {Warn, "b", "odd", "look"}}, 0,
			"OK   a: fine\nWARN b: odd — look\n2 checks: 1 OK, 1 WARN, 0 FAIL: it works, but read each WARN\n"},
		{"a failure", []Result{{Warn, "b", "odd", "look"}, {Fail, "c", "broken", "fix it"}}, 1,
			"WARN b: odd — look\nFAIL c: broken — fix it\n2 checks: 0 OK, 1 WARN, 1 FAIL: fix each FAIL, then run check again\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer

			code := Print(&out, tc.results)

			if code != tc.wantCode {
				t.Errorf("code = %d, want %d", code, tc.wantCode)
			}
			if out.String() != tc.want {
				t.Errorf("output:\n%s\nwant:\n%s", out.String(), tc.want)
			}
		})
	}
}
