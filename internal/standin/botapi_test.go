package standin

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

const testToken = "123456:ABC-standin"

// post sends a form to the stand-in and returns the status and decoded
// answer.
func post(t *testing.T, ctx context.Context, b *BotAPI, method string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.URL()+"/bot"+testToken+"/"+method, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var answer map[string]any
	if err := json.Unmarshal(body, &answer); err != nil {
		return resp.StatusCode, map[string]any{"raw": string(body)}
	}
	return resp.StatusCode, answer
}

func TestBotAPIValidation(t *testing.T) {
	tests := []struct {
		name string
		form url.Values

		status      int
		description string
	}{
		{"markdown ok", url.Values{"chat_id": {"-1001"}, "text": {"*hi* 1\\.2"}, "parse_mode": {"MarkdownV2"}}, 200, ""},
		{"plain ok", url.Values{"chat_id": {"-1001"}, "text": {"a.b (c)"}}, 200, ""},
		{"bad markup", url.Values{"chat_id": {"-1001"}, "text": {"1.2"}, "parse_mode": {"MarkdownV2"}}, 400, "Bad Request: can't parse entities: Character '.' is reserved"},
		{"lone backslash", url.Values{"chat_id": {"-1001"}, "text": {`C:\Windows`}, "parse_mode": {"markdownv2"}}, 400, "Bad Request: can't parse entities"},
		{"no chat", url.Values{"text": {"x"}}, 400, "Bad Request: chat_id is empty"},
		{"empty text", url.Values{"chat_id": {"1"}, "text": {"**"}, "parse_mode": {"MarkdownV2"}}, 400, "Bad Request: message text is empty"},
		{"too long", url.Values{"chat_id": {"1"}, "text": {strings.Repeat("x", 4097)}}, 400, "Bad Request: message is too long"},
		{"too many bytes", url.Values{"chat_id": {"1"}, "text": {strings.Repeat("x", 32769)}}, 400, "Bad Request: text is too long"},
		{"general topic", url.Values{"chat_id": {"1"}, "text": {"x"}, "message_thread_id": {"1"}}, 400, "Bad Request: message thread not found"},
		{"bad parse mode", url.Values{"chat_id": {"1"}, "text": {"x"}, "parse_mode": {"rtf"}}, 400, "Bad Request: unsupported parse_mode"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBotAPI()
			defer b.Close()

			status, answer := post(t, context.Background(), b, "sendMessage", tc.form)

			if status != tc.status {
				t.Errorf("status = %d, want %d (answer %v)", status, tc.status, answer)
			}
			if description, _ := answer["description"].(string); !strings.HasPrefix(description, tc.description) {
				t.Errorf("description = %q, want prefix %q", description, tc.description)
			}
			requests := b.Requests()
			if len(requests) != 1 || requests[0].Token != testToken || requests[0].Method != "sendMessage" {
				t.Fatalf("requests = %+v, want one sendMessage with the token", requests)
			}
			if requests[0].Params["chat_id"] != tc.form.Get("chat_id") || requests[0].Params["text"] != tc.form.Get("text") {
				t.Errorf("recorded params = %v", requests[0].Params)
			}
		})
	}
}

func TestBotAPIScript(t *testing.T) {
	b := NewBotAPI()
	defer b.Close()
	b.Script(BotRetryAfter(7), BotMigrate(-1001234), BotForbidden(), BotHTML502(), BotError(500, "Internal Server Error"))
	form := url.Values{"chat_id": {"-1"}, "text": {"x"}}

	checks := []struct {
		status int
		check  func(map[string]any) bool
	}{
		{429, func(a map[string]any) bool { return a["parameters"].(map[string]any)["retry_after"] == 7.0 }},
		{400, func(a map[string]any) bool {
			return a["parameters"].(map[string]any)["migrate_to_chat_id"] == -1001234.0
		}},
		{403, func(a map[string]any) bool { return strings.HasPrefix(a["description"].(string), "Forbidden:") }},
		{502, func(a map[string]any) bool { return strings.Contains(a["raw"].(string), "<html>") }},
		{500, func(a map[string]any) bool { return a["error_code"] == 500.0 }},
		{200, func(a map[string]any) bool { return a["ok"] == true }},
	}
	for i, c := range checks {
		status, answer := post(t, context.Background(), b, "sendMessage", form)
		if status != c.status {
			t.Errorf("answer %d: status = %d, want %d", i, status, c.status)
			continue
		}
		if !c.check(answer) {
			t.Errorf("answer %d: unexpected body %v", i, answer)
		}
	}
	if n := len(b.Requests()); n != len(checks) {
		t.Errorf("recorded %d requests, want %d", n, len(checks))
	}
}

func TestBotAPIHang(t *testing.T) {
	b := NewBotAPI()
	defer b.Close()
	b.Script(BotHang())
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.URL()+"/bot"+testToken+"/sendMessage", nil)
	if err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	_, err = http.DefaultClient.Do(req)

	if err == nil {
		t.Fatal("request to a hanging stand-in succeeded")
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("request took %v, want it to end with the client's deadline", elapsed)
	}
}

func TestBotAPICloseReleasesHang(t *testing.T) {
	b := NewBotAPI()
	b.Script(BotHang())
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := http.Post(b.URL()+"/bot"+testToken+"/sendMessage", "application/x-www-form-urlencoded", nil)
		if err == nil {
			resp.Body.Close()
		}
	}()
	for len(b.Requests()) == 0 {
		time.Sleep(5 * time.Millisecond)
	}

	closed := make(chan struct{})
	go func() { b.Close(); close(closed) }()

	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close blocked on a hanging request")
	}
	<-done
}

func TestBotAPIBadPath(t *testing.T) {
	b := NewBotAPI()
	defer b.Close()

	resp, err := http.Post(b.URL()+"/sendMessage", "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	if resp.StatusCode != 404 {
		t.Errorf("status = %d, want 404", resp.StatusCode)
	}
	if n := len(b.Requests()); n != 0 {
		t.Errorf("recorded %d requests for a bad path, want 0", n)
	}
}
