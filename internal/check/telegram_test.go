package check

import (
	"strings"
	"testing"
	"time"
)

func TestTelegramProbe(t *testing.T) {
	tests := []struct {
		name     string
		getMeErr error
		sendErr  error

		result string
		status Status
		want   []string
	}{
		{"getMe ok", nil, nil, "telegram bot", OK, []string{"the token belongs to @soc_alerts_bot"}},
		{"send ok", nil, nil, "telegram chat", OK, []string{"test message sent to -1001234567890"}},
		{"token rejected", &TelegramError{Code: 401, Description: "Unauthorized"}, nil,
			"telegram bot", Fail, []string{"getMe returned 401 Unauthorized", "wrong or was revoked", "@BotFather"}},
		{"token malformed", &TelegramError{Code: 404, Description: "Not Found"}, nil,
			"telegram bot", Fail, []string{"404 Not Found", "telegram.api_url"}},
		{"network", &TelegramError{Description: "Post \"https://api.telegram.org/bot" + testToken + "/getMe\": dial tcp: i/o timeout"}, nil,
			"telegram bot", Fail, []string{"getMe failed", "/bot[REDACTED]/getMe", "telegram.proxy_url"}},
		{"kicked", nil, &TelegramError{Code: 403, Description: "Forbidden: bot was kicked from the supergroup chat"},
			"telegram chat", Fail, []string{"returned 403 Forbidden: bot was kicked", "add the bot to the chat again"}},
		{"chat not found", nil, &TelegramError{Code: 400, Description: "Bad Request: chat not found"},
			"telegram chat", Fail, []string{"chat not found", "supergroups start with -100"}},
		{"migrated", nil, &TelegramError{Code: 400, Description: "Bad Request: group chat was upgraded to a supergroup chat", MigrateToChatID: -1009876543210},
			"telegram chat", Fail, []string{"became a supergroup with id -1009876543210", "set telegram.chat_id = -1009876543210"}},
		{"thread", nil, &TelegramError{Code: 400, Description: "Bad Request: message thread not found"},
			"telegram chat", Fail, []string{"telegram.message_thread_id"}},
		{"rate limited", nil, &TelegramError{Code: 429, Description: "Too Many Requests: retry after 30", RetryAfter: 30 * time.Second},
			"telegram chat", Warn, []string{"rate limited for 30s"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTree(t, ProgramTelegram)
			tr.opts.SendTest = true
			tr.probe.getMeErr = tc.getMeErr
			tr.probe.sendErr = tc.sendErr

			results := tr.run()

			expect(t, results, tc.result, tc.status, tc.want...)
			assertNoToken(t, results)
		})
	}
}

func TestTelegramSendTestOff(t *testing.T) {
	tr := newTree(t, ProgramTelegram)

	results := tr.run()

	expect(t, results, "telegram bot", OK)
	for _, r := range results {
		if r.Name == "telegram chat" {
			t.Errorf("chat checked without SendTest: %s", r.Line())
		}
	}
	if len(tr.probe.sent) != 0 {
		t.Errorf("sent %d messages without SendTest", len(tr.probe.sent))
	}
}

func TestTelegramSendTestText(t *testing.T) {
	tr := newTree(t, ProgramTelegram)
	tr.opts.SendTest = true

	tr.run()

	if len(tr.probe.sent) != 1 {
		t.Fatalf("sent %d messages, want 1", len(tr.probe.sent))
	}
	if got := tr.probe.sent[0]; !strings.HasPrefix(got, "custom-telegram check: test message from ") {
		t.Errorf("test message = %q", got)
	}
}

func TestTelegramProbeUnavailable(t *testing.T) {
	tr := newTree(t, ProgramTelegram)
	tr.opts.NewTelegramProbe = nil

	results := tr.run()

	for _, r := range results {
		if strings.HasPrefix(r.Name, "telegram bot") {
			t.Errorf("Telegram checked without a probe: %s", r.Line())
		}
	}
}

// assertNoToken fails when any line shows the bot token.
func assertNoToken(t *testing.T, results []Result) {
	t.Helper()
	for _, r := range results {
		if strings.Contains(r.Line(), testToken) || strings.Contains(r.Line(), "AAHfakeToken") {
			t.Errorf("a line shows the bot token: %s", r.Line())
		}
	}
}
