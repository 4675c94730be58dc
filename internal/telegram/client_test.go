package telegram

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/secret"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/standin"
)

const testToken = "123456789:AAE-secret_TOKEN-value"

func newTestClient(t *testing.T, apiURL string, timeout time.Duration) *Client {
	t.Helper()
	c, err := NewClient(Options{Token: secret.String(testToken), APIURL: apiURL, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMessageParams(t *testing.T) {
	tests := []struct {
		name string
		msg  Message

		want map[string]string
	}{
		{"markdown in topic", Message{ChatID: "-1001", ThreadID: 42, Text: "*x*", ParseMode: ParseModeMarkdownV2, DisableNotification: true, DisableLinkPreview: true},
			map[string]string{"chat_id": "-1001", "message_thread_id": "42", "text": "*x*", "parse_mode": "MarkdownV2", "disable_notification": "true", "disable_web_page_preview": "true"}},
		{"plain", Message{ChatID: "@soc_alerts", Text: "a.b"},
			map[string]string{"chat_id": "@soc_alerts", "text": "a.b"}},
		{"general topic omitted", Message{ChatID: "-1001", ThreadID: 1, Text: "x"},
			map[string]string{"chat_id": "-1001", "text": "x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.msg.Params(); !maps.Equal(got, tc.want) {
				t.Errorf("Params = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestClientSend(t *testing.T) {
	bot := standin.NewBotAPI()
	defer bot.Close()
	c := newTestClient(t, bot.URL()+"/", time.Second)
	msg := Message{ChatID: "-1001", ThreadID: 42, Text: "*MISP* 1\\.2\\.3\\.4", ParseMode: ParseModeMarkdownV2, DisableLinkPreview: true}

	if err := c.Send(context.Background(), msg); err != nil {
		t.Fatalf("Send: %v", err)
	}

	requests := bot.Requests()
	if len(requests) != 1 {
		t.Fatalf("stand-in saw %d requests, want 1 (no getMe)", len(requests))
	}
	got := requests[0]
	if got.Method != "sendMessage" || got.Token != testToken {
		t.Errorf("request = %s with token %q, want sendMessage with the configured token", got.Method, got.Token)
	}
	if !maps.Equal(got.Params, msg.Params()) {
		t.Errorf("params = %v, want %v", got.Params, msg.Params())
	}
}

func TestClientClassify(t *testing.T) {
	tests := []struct {
		name     string
		response standin.BotResponse
		text     string

		kind       Kind
		code       int
		retryAfter time.Duration
		newChatID  int64
		hint       string
	}{
		{"429", standin.BotRetryAfter(17), "x", KindRateLimited, 429, 17 * time.Second, 0, ""},
		{"429 for days", standin.BotRetryAfter(999999), "x", KindRateLimited, 429, 999999 * time.Second, 0, ""},
		{"429 past int64", standin.BotRetryAfter(20_000_000_000), "x", KindRateLimited, 429, maxRetryAfter, 0, ""},
		{"migrated", standin.BotMigrate(-1009876), "x", KindMigrated, 400, 0, -1009876, ""},
		{"bad markup", standin.BotOK(), "1.2", KindParse, 400, 0, 0, ""},
		{"kicked", standin.BotForbidden(), "x", KindPermanent, 403, 0, 0, "telegram.chat_id"},
		{"bad token", standin.BotError(401, "Unauthorized"), "x", KindPermanent, 401, 0, 0, "telegram.bot_token"},
		{"not found", standin.BotError(404, "Not Found"), "x", KindPermanent, 404, 0, 0, "telegram.api_url"},
		{"chat not found", standin.BotError(400, "Bad Request: chat not found"), "x", KindPermanent, 400, 0, 0, "telegram.chat_id"},
		{"thread not found", standin.BotError(400, "Bad Request: message thread not found"), "x", KindPermanent, 400, 0, 0, "telegram.message_thread_id"},
		{"too long", standin.BotError(400, "Bad Request: message is too long"), "x", KindRejected, 400, 0, 0, ""},
		{"server error", standin.BotError(500, "Internal Server Error"), "x", KindTemporary, 500, 0, 0, ""},
		{"html 502", standin.BotHTML502(), "x", KindTemporary, 502, 0, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bot := standin.NewBotAPI()
			defer bot.Close()
			bot.Script(tc.response)
			c := newTestClient(t, bot.URL(), time.Second)

			err := c.Send(context.Background(), Message{ChatID: "-1001", Text: tc.text, ParseMode: ParseModeMarkdownV2})

			var tgErr *Error
			if !errors.As(err, &tgErr) {
				t.Fatalf("Send = %v, want an *Error", err)
			}
			if tgErr.Kind != tc.kind {
				t.Errorf("Kind = %v, want %v (%v)", tgErr.Kind, tc.kind, err)
			}
			if tgErr.Code != tc.code {
				t.Errorf("Code = %d, want %d", tgErr.Code, tc.code)
			}
			if tgErr.RetryAfter != tc.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", tgErr.RetryAfter, tc.retryAfter)
			}
			if tgErr.NewChatID != tc.newChatID {
				t.Errorf("NewChatID = %d, want %d", tgErr.NewChatID, tc.newChatID)
			}
			if !strings.Contains(tgErr.Hint, tc.hint) {
				t.Errorf("Hint = %q, want it to name %q", tgErr.Hint, tc.hint)
			}
		})
	}
}

// assertNoToken checks every rendering of err and of each error it wraps.
func assertNoToken(t *testing.T, err error) {
	t.Helper()
	for e := err; e != nil; e = errors.Unwrap(e) {
		for _, text := range []string{e.Error(), fmt.Sprintf("%+v", e), fmt.Sprintf("%#v", e)} {
			if strings.Contains(text, testToken) || strings.Contains(text, "AAE-secret") {
				t.Errorf("error text contains the token: %s", text)
			}
		}
	}
}

func TestClientRedactsToken(t *testing.T) {
	hanging := standin.NewBotAPI()
	defer hanging.Close()
	hanging.Script(standin.BotHang(), standin.BotHang())

	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + listener.Addr().String()
	listener.Close()

	tests := []struct {
		name    string
		apiURL  string
		timeout time.Duration
		ctx     func() (context.Context, context.CancelFunc)

		wantDeadline bool
	}{
		{"client timeout", hanging.URL(), 200 * time.Millisecond, func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, false},
		{"run budget", hanging.URL(), 10 * time.Second, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 200*time.Millisecond)
		}, true},
		{"refused port", refused, time.Second, func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestClient(t, tc.apiURL, tc.timeout)
			ctx, cancel := tc.ctx()
			defer cancel()

			start := time.Now()
			err := c.Send(ctx, Message{ChatID: "-1001", Text: "x"})

			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			if elapsed := time.Since(start); elapsed > 3*time.Second {
				t.Errorf("Send took %v, want it bounded by the timeout", elapsed)
			}
			assertNoToken(t, err)
			var tgErr *Error
			if !errors.As(err, &tgErr) || tgErr.Kind != KindTemporary {
				t.Errorf("error = %v, want a temporary *Error", err)
			}
			if tc.wantDeadline && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error = %v, want it to wrap context.DeadlineExceeded", err)
			}
			if !strings.Contains(err.Error(), "[REDACTED]") {
				t.Errorf("error = %q, want the URL with the token replaced", err)
			}
		})
	}
}

func TestClientProxy(t *testing.T) {
	var seen string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.URL.String()
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true,"result":{"message_id":1}}`)
	}))
	defer proxy.Close()
	c, err := NewClient(Options{Token: secret.String(testToken), APIURL: "http://bot-api.invalid", ProxyURL: proxy.URL, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}

	if err := c.Send(context.Background(), Message{ChatID: "1", Text: "x"}); err != nil {
		t.Fatalf("Send through proxy: %v", err)
	}

	if want := "http://bot-api.invalid/bot" + testToken + "/sendMessage"; seen != want {
		t.Errorf("proxy saw %q, want %q", seen, want)
	}
}

func TestNewClientInvalidProxy(t *testing.T) {
	_, err := NewClient(Options{Token: secret.String(testToken), APIURL: "https://api.telegram.org", ProxyURL: "::nope", Timeout: time.Second})

	if err == nil || !strings.Contains(err.Error(), "telegram.proxy_url") {
		t.Errorf("NewClient = %v, want an error naming telegram.proxy_url", err)
	}
}

func TestClientPercentInAPIURL(t *testing.T) {
	bot := standin.NewBotAPI()
	defer bot.Close()
	c := newTestClient(t, bot.URL()+"/a%20b", time.Second)

	err := c.Send(context.Background(), Message{ChatID: "1", Text: "x"})

	if err == nil {
		t.Fatal("Send to an unknown path succeeded")
	}
	assertNoToken(t, err)
	if strings.Contains(err.Error(), "EXTRA") {
		t.Errorf("the endpoint format was broken by %%: %v", err)
	}
}

func TestClientRedactsTokenInResponse(t *testing.T) {
	secretPart := testToken[strings.Index(testToken, ":")+1:]
	tests := []struct {
		name     string
		response standin.BotResponse
	}{
		{"description with path", standin.BotError(400, "Bad Request: path /bot"+testToken+"/sendMessage")},
		{"description query escaped", standin.BotError(400, "Bad Request: token="+url.QueryEscape(testToken))},
		{"secret part only", standin.BotError(400, "Bad Request: unknown key "+secretPart)},
		{"unauthorized with hint", standin.BotError(401, "Unauthorized: "+testToken)},
		{"no error code", standin.BotRaw(418, "application/json", `{"ok":false,"description":"proxy rejected /bot`+testToken+`/sendMessage"}`)},
	}
	for _, tc := range tests {
		for _, method := range []string{"sendMessage", "getMe"} {
			t.Run(tc.name+"/"+method, func(t *testing.T) {
				bot := standin.NewBotAPI()
				defer bot.Close()
				bot.Script(tc.response)
				c := newTestClient(t, bot.URL(), time.Second)

				var err error
				if method == "getMe" {
					_, err = c.GetMe(context.Background())
				} else {
					err = c.Send(context.Background(), Message{ChatID: "-1001", Text: "x"})
				}

				var tgErr *Error
				if !errors.As(err, &tgErr) {
					t.Fatalf("%s = %v, want an *Error", method, err)
				}
				assertNoToken(t, err)
				for _, text := range []string{tgErr.Description, tgErr.Hint} {
					if strings.Contains(text, secretPart) {
						t.Errorf("field contains the token: %q", text)
					}
				}
				if !strings.Contains(tgErr.Description, secret.Placeholder) {
					t.Errorf("Description = %q, want the token replaced by %s", tgErr.Description, secret.Placeholder)
				}
			})
		}
	}
}
