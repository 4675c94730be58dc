package check

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/secret"
)

// TelegramProbe makes the two Bot API requests the Telegram checks need.
// custom-telegram implements it on its Bot API client, so that the Bot API
// library stays inside internal/telegram.
type TelegramProbe interface {
	// GetMe returns the username of the bot the token belongs to.
	GetMe(ctx context.Context) (string, error)
	// SendTest sends text as plain text to the configured chat and topic.
	SendTest(ctx context.Context, text string) error
}

// TelegramError is a failed Bot API request, as a probe returns it. Its
// text never contains the bot token.
type TelegramError struct {
	// Code is the Bot API error_code, or the HTTP status of a response that
	// is not Bot API JSON, or 0 when no response arrived.
	Code int
	// Description is Telegram's description, or the transport error.
	Description string
	// MigrateToChatID is the supergroup a basic group became, or 0.
	MigrateToChatID int64
	// RetryAfter is the wait a 429 asked for.
	RetryAfter time.Duration
}

func (e *TelegramError) Error() string {
	if e.Code == 0 {
		return e.Description
	}
	return fmt.Sprintf("%d %s", e.Code, e.Description)
}

// checkTelegram calls getMe to test the token and, with SendTest, posts a
// test message to the chat.
func checkTelegram(ctx context.Context, e *env) []Result {
	const botName = "telegram bot"
	if e.NewTelegramProbe == nil {
		return nil
	}
	cfg := e.cfg
	if cfg == nil && e.configUnread {
		return []Result{warn(botName, "not tried, because the config could not be read",
			fmt.Sprintf("run check as root or as the wazuh user (sudo -u wazuh %s check)", e.Executable))}
	}
	if cfg == nil {
		return []Result{fail(botName, "not tried, because the config did not load", "fix the config first")}
	}
	if !cfg.Telegram.BotToken.IsSet() {
		return []Result{fail(botName, "not tried, because telegram.bot_token is empty (see telegram.bot_token)", "set telegram.bot_token_file")}
	}
	token := cfg.Telegram.BotToken

	probe, err := e.NewTelegramProbe(cfg)
	if err != nil {
		return []Result{fail(botName, scrub(err.Error(), token), "fix the [telegram] setting the message names")}
	}

	getMeCtx, cancel := context.WithTimeout(ctx, cfg.Telegram.Timeout.D())
	username, err := probe.GetMe(getMeCtx)
	cancel()
	if err != nil {
		return []Result{getMeFailure(err, token)}
	}
	results := []Result{ok(botName, "the token belongs to @%s", username)}
	if !e.SendTest {
		return results
	}

	text := fmt.Sprintf("custom-telegram check: test message from %s. Delivery to this chat works.", hostname())
	sendCtx, cancel := context.WithTimeout(ctx, cfg.Telegram.Timeout.D())
	err = probe.SendTest(sendCtx, text)
	cancel()
	if err != nil {
		return append(results, sendFailure(err, string(cfg.Telegram.ChatID), token))
	}
	return append(results, ok("telegram chat", "test message sent to %s", cfg.Telegram.ChatID))
}

func getMeFailure(err error, token secret.String) Result {
	const name = "telegram bot"
	var apiErr *TelegramError
	if !errors.As(err, &apiErr) || apiErr.Code == 0 {
		return fail(name, "getMe failed: "+scrub(err.Error(), token),
			"check the network path to telegram.api_url, and set telegram.proxy_url if this host needs a proxy")
	}
	detail := fmt.Sprintf("getMe returned %d %s", apiErr.Code, scrub(apiErr.Description, token))
	switch apiErr.Code {
	case 401:
		return fail(name, detail+": the bot token is wrong or was revoked",
			"copy the token from @BotFather (/mybots, API Token) into telegram.bot_token_file")
	case 404:
		return fail(name, detail+": the bot token is malformed, or telegram.api_url is not a Bot API server",
			"copy the token from @BotFather into telegram.bot_token_file and check telegram.api_url")
	case 429:
		return warn(name, detail+fmt.Sprintf(": rate limited for %s", apiErr.RetryAfter), "wait, then run check again")
	}
	return fail(name, detail, "check telegram.api_url and telegram.proxy_url")
}

func sendFailure(err error, chatID string, token secret.String) Result {
	const name = "telegram chat"
	var apiErr *TelegramError
	if !errors.As(err, &apiErr) || apiErr.Code == 0 {
		return fail(name, "sendMessage failed: "+scrub(err.Error(), token),
			"check the network path to telegram.api_url, and set telegram.proxy_url if this host needs a proxy")
	}
	detail := fmt.Sprintf("sendMessage to %s returned %d %s", chatID, apiErr.Code, scrub(apiErr.Description, token))
	lower := strings.ToLower(apiErr.Description)
	switch {
	case apiErr.MigrateToChatID != 0:
		return fail(name, fmt.Sprintf("%s: the group became a supergroup with id %d", detail, apiErr.MigrateToChatID),
			fmt.Sprintf("set telegram.chat_id = %d", apiErr.MigrateToChatID))
	case apiErr.Code == 403:
		return fail(name, detail+": the bot was removed from the chat, or was never added",
			"add the bot to the chat again (in a channel, as an administrator allowed to post), then run check -send-test")
	case strings.Contains(lower, "chat not found"):
		return fail(name, detail,
			"check telegram.chat_id: groups are negative, supergroups start with -100, and the bot must be a member")
	case strings.Contains(lower, "message thread not found"):
		return fail(name, detail, "check telegram.message_thread_id: use the topic's id, or 0 for the General topic")
	case apiErr.Code == 429:
		return warn(name, detail+fmt.Sprintf(": rate limited for %s", apiErr.RetryAfter), "wait, then run check -send-test again")
	}
	return fail(name, detail, "check telegram.chat_id and telegram.message_thread_id")
}

// scrub removes the bot token from text, in case an error quotes a URL.
func scrub(text string, token secret.String) string {
	if value := token.Reveal(); value != "" {
		text = strings.ReplaceAll(text, value, secret.Placeholder)
	}
	return oneLine(text)
}

func hostname() string {
	name, err := os.Hostname()
	if err != nil {
		return "this manager"
	}
	return name
}
