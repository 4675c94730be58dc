package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/secret"
)

// Kind sorts sendMessage failures by what the caller should do.
type Kind int

const (
	// KindTemporary is a 5xx response, a non-JSON response, a timeout or a
	// network error: retry later. A timed-out request may still have been
	// delivered, so a retry can duplicate the message.
	KindTemporary Kind = iota
	// KindRateLimited is a 429: wait RetryAfter before any request.
	KindRateLimited
	// KindMigrated is a 400 naming the supergroup the group became: resend
	// to NewChatID.
	KindMigrated
	// KindParse is a 400 "can't parse entities": resend as plain text.
	KindParse
	// KindPermanent is a configuration problem (token, chat, topic,
	// permissions) that fails every message until the config is fixed.
	KindPermanent
	// KindRejected is any other 4xx: this message can never be sent.
	KindRejected
)

func (k Kind) String() string {
	switch k {
	case KindTemporary:
		return "temporary"
	case KindRateLimited:
		return "rate_limited"
	case KindMigrated:
		return "migrated"
	case KindParse:
		return "parse_error"
	case KindPermanent:
		return "permanent"
	case KindRejected:
		return "rejected"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// defaultRetryAfter is used for a 429 whose response names no retry_after.
const defaultRetryAfter = 5 * time.Second

// maxRetryAfter bounds RetryAfter, so that a retry_after in seconds cannot
// overflow time.Duration. The Deliverer caps the wait far lower.
const maxRetryAfter = 1 << 31 * time.Second

// Error is a failed sendMessage request. It never contains the bot token.
type Error struct {
	Kind Kind
	// Code is the Bot API error_code, or the HTTP status of a response that
	// is not Bot API JSON, or 0 when no response came.
	Code int
	// Description is Telegram's description, or what went wrong locally.
	Description string
	RetryAfter  time.Duration // KindRateLimited only
	NewChatID   int64         // KindMigrated only
	// Hint names the setting to fix, for KindPermanent.
	Hint string
	Err  error // the cause, with the token removed
}

func (e *Error) Error() string {
	msg := "telegram sendMessage failed"
	if e.Code != 0 {
		msg += fmt.Sprintf(" with %d", e.Code)
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	if e.Hint != "" {
		msg += ": " + e.Hint
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// classify turns a failed request into an *Error. err is what
// MakeRequest returned, or a *tgbotapi.Error built by GetMe. status is the
// HTTP status seen, 0 when no response came. Every *Error this package
// returns is built here, so that the token is removed from every text taken
// from a response or an error: a self-hosted Bot API server or a proxy may
// echo the request path, /bot<TOKEN>/method, in its description.
func classify(err error, status int, token string) *Error {
	e := classifyCause(err, status, token)
	e.Description = redactString(e.Description, token)
	e.Hint = redactString(e.Hint, token)
	e.Err = redact(e.Err, token)
	return e
}

func classifyCause(err error, status int, token string) *Error {
	var apiErr *tgbotapi.Error
	if errors.As(err, &apiErr) {
		code := apiErr.Code
		if code == 0 {
			// JSON with "ok":false but no error_code, as a proxy may send.
			code = status
		}
		return classifyAPI(code, apiErr.Message, apiErr.RetryAfter, apiErr.MigrateToChatID)
	}

	err = redact(err, token)
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	if status != 0 && (errors.As(err, &syntaxErr) || errors.As(err, &typeErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)) {
		return classifyNonJSON(status, err)
	}
	return &Error{Kind: KindTemporary, Description: err.Error(), Err: err}
}

// responseError is the error of a Bot API response with "ok":false, in the
// form classify reads.
func responseError(code int, description string, retryAfter int, migrateTo int64) error {
	return &tgbotapi.Error{
		Code:               code,
		Message:            description,
		ResponseParameters: tgbotapi.ResponseParameters{RetryAfter: retryAfter, MigrateToChatID: migrateTo},
	}
}

// classifyAPI sorts a Bot API error response. The description texts are the
// Bot API server's.
func classifyAPI(code int, description string, retryAfter int, migrateTo int64) *Error {
	e := &Error{Code: code, Description: description}
	lower := strings.ToLower(description)
	switch {
	case code == 429:
		e.Kind = KindRateLimited
		e.RetryAfter = time.Duration(min(retryAfter, int(maxRetryAfter/time.Second))) * time.Second
		if e.RetryAfter <= 0 {
			e.RetryAfter = defaultRetryAfter
		}
	case migrateTo != 0:
		e.Kind = KindMigrated
		e.NewChatID = migrateTo
	case code == 400 && strings.Contains(lower, "can't parse entities"):
		e.Kind = KindParse
	case code == 400 && (strings.Contains(lower, "chat not found") || strings.Contains(lower, "chat_id is empty")):
		e.Kind = KindPermanent
		e.Hint = "check telegram.chat_id: use the chat's numeric id (supergroups start with -100) or @channelname, and add the bot to the chat"
	case code == 400 && strings.Contains(lower, "message thread not found"):
		e.Kind = KindPermanent
		e.Hint = "check telegram.message_thread_id: use the topic's id, or 0 for the General topic"
	case code == 401:
		e.Kind = KindPermanent
		e.Hint = "the bot token was rejected: check telegram.bot_token or telegram.bot_token_file against @BotFather"
	case code == 403:
		e.Kind = KindPermanent
		e.Hint = "the bot may not post in telegram.chat_id: add the bot to the chat again and allow it to send messages"
	case code == 404:
		e.Kind = KindPermanent
		e.Hint = "the Bot API returned 404 Not Found: check telegram.bot_token and telegram.api_url"
	case code >= 500 || code < 400:
		e.Kind = KindTemporary
	default:
		e.Kind = KindRejected
	}
	return e
}

// classifyNonJSON sorts a response whose body is not Bot API JSON, such as a
// proxy's or gateway's HTML page.
func classifyNonJSON(status int, err error) *Error {
	e := &Error{Code: status, Description: fmt.Sprintf("HTTP %d response is not Bot API JSON (a proxy or gateway page?)", status), Err: err}
	switch {
	case status == 401 || status == 403 || status == 404:
		e.Kind = KindPermanent
		e.Hint = "check telegram.api_url, telegram.proxy_url and telegram.bot_token"
	case status == 429:
		e.Kind = KindRateLimited
		e.RetryAfter = defaultRetryAfter
	default:
		e.Kind = KindTemporary
	}
	return e
}

// redact removes the token from err. Transport errors are *url.Error values
// whose URL, and so whose text, contains the token in the path
// (/bot<TOKEN>/sendMessage). The URL is rewritten in place. If the token
// still shows anywhere in the text, the error is replaced by its redacted
// text, which keeps only a context error as the cause.
func redact(err error, token string) error {
	if err == nil || token == "" {
		return err
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		urlErr.URL = redactString(urlErr.URL, token)
	}
	if !containsToken(err.Error(), token) {
		return err
	}
	redacted := &redactedError{msg: redactString(err.Error(), token)}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		redacted.cause = context.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		redacted.cause = context.Canceled
	}
	return redacted
}

// minSecretLen is the shortest part after the colon of a token that is
// redacted on its own. Tokens from @BotFather have 35 characters there (an
// observation, not a documented format), so 16 leaves a wide margin.
const minSecretLen = 16

// tokenForms returns the token as it may appear in a text: as it is, path
// and query escaped, and its secret part after the bot id, alone.
func tokenForms(token string) []string {
	forms := []string{token, url.PathEscape(token), url.QueryEscape(token)}
	if _, secretPart, ok := strings.Cut(token, ":"); ok && len(secretPart) >= minSecretLen {
		forms = append(forms, secretPart)
	}
	return forms
}

func containsToken(s, token string) bool {
	if token == "" {
		return false
	}
	for _, form := range tokenForms(token) {
		if strings.Contains(s, form) {
			return true
		}
	}
	return false
}

func redactString(s, token string) string {
	if token == "" {
		return s
	}
	for _, form := range tokenForms(token) {
		s = strings.ReplaceAll(s, form, secret.Placeholder)
	}
	return s
}

type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.cause }
