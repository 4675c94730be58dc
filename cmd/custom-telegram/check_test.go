package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/integratord"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/standin"
)

// checkToken is the bot token of the check tests' config.
const checkToken = "987654321:AAEcheckTestTokenNeverPrinted-0123456"

// checkHome writes a Wazuh home with a config pointing at bot and returns
// the home and the config path.
func checkHome(t *testing.T, bot *standin.BotAPI) (string, string) {
	t.Helper()
	home := t.TempDir()
	template, err := os.ReadFile(filepath.Join("..", "..", "templates", "misp_alert.en.md.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"etc/misp-telegram/templates/misp_alert.en.md.tmpl": string(template),
		"integrations/custom-telegram":                      "#!/bin/sh\n",
		"etc/misp-telegram.toml": "[telegram]\n" +
			"bot_token = \"" + checkToken + "\"\n" +
			"chat_id = -1001234567890\n" +
			"api_url = \"" + bot.URL() + "\"\n" +
			"timeout = \"2s\"\n",
	}
	for name, content := range files {
		path := filepath.Join(home, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	return home, filepath.Join(home, "etc", "misp-telegram.toml")
}

func TestCheckTelegramResponses(t *testing.T) {
	tests := []struct {
		name     string
		sendTest bool
		script   []standin.BotResponse

		want     []string
		requests []string
	}{
		{"token accepted", false, nil,
			[]string{"OK   telegram bot: the token belongs to @standin_bot", "telegram.chat_id was not tested: add -send-test"},
			[]string{"getMe"}},
		{"token rejected", false, []standin.BotResponse{standin.BotError(401, "Unauthorized")},
			[]string{"FAIL telegram bot: getMe returned 401 Unauthorized: the bot token is wrong or was revoked"},
			[]string{"getMe"}},
		{"test message sent", true, nil,
			[]string{"OK   telegram chat: test message sent to -1001234567890"},
			[]string{"getMe", "sendMessage"}},
		{"bot kicked", true, []standin.BotResponse{standin.BotOK(), standin.BotForbidden()},
			[]string{"FAIL telegram chat: sendMessage to -1001234567890 returned 403 Forbidden: bot was kicked from the supergroup chat: the bot was removed from the chat"},
			[]string{"getMe", "sendMessage"}},
		{"group migrated", true, []standin.BotResponse{standin.BotOK(), standin.BotMigrate(-1009876543210)},
			[]string{"the group became a supergroup with id -1009876543210 — set telegram.chat_id = -1009876543210"},
			[]string{"getMe", "sendMessage"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bot := standin.NewBotAPI()
			defer bot.Close()
			bot.Script(tc.script...)
			home, configPath := checkHome(t, bot)
			args := []string{"-home", home, "-config", configPath}
			if tc.sendTest {
				args = append(args, "-send-test")
			}
			var stdout, stderr bytes.Buffer

			runCheckTo(args, &stdout, &stderr)

			for _, want := range tc.want {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("output does not contain %q:\n%s", want, stdout.String())
				}
			}
			var methods []string
			for _, r := range bot.Requests() {
				methods = append(methods, r.Method)
			}
			if strings.Join(methods, ",") != strings.Join(tc.requests, ",") {
				t.Errorf("requests = %v, want %v", methods, tc.requests)
			}
			if out := stdout.String() + stderr.String(); strings.Contains(out, checkToken) {
				t.Errorf("output shows the bot token:\n%s", out)
			}
		})
	}
}

func TestCheckTelegramSendsPlainText(t *testing.T) {
	bot := standin.NewBotAPI()
	defer bot.Close()
	home, configPath := checkHome(t, bot)
	var stdout, stderr bytes.Buffer

	runCheckTo([]string{"-home", home, "-config", configPath, "-send-test"}, &stdout, &stderr)

	requests := bot.Requests()
	if len(requests) != 2 {
		t.Fatalf("got %d requests, want getMe and sendMessage", len(requests))
	}
	params := requests[1].Params
	if params["chat_id"] != "-1001234567890" {
		t.Errorf("chat_id = %q, want -1001234567890", params["chat_id"])
	}
	if mode, set := params["parse_mode"]; set {
		t.Errorf("parse_mode = %q, want none: the test message is plain text", mode)
	}
	if !strings.HasPrefix(params["text"], "custom-telegram check: test message from ") {
		t.Errorf("text = %q", params["text"])
	}
}

func TestCheckTelegramFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string

		want int
	}{
		{"unknown flag", []string{"-sendtest"}, integratord.ExitUsage},
		{"extra argument", []string{"now"}, integratord.ExitUsage},
		{"help", []string{"-h"}, integratord.ExitOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer

			got := runCheckTo(tc.args, &stdout, &stderr)

			if got != tc.want {
				t.Errorf("status = %d, want %d (stderr %q)", got, tc.want, stderr.String())
			}
		})
	}
}
