package standin

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/render"
)

// BotRequest is one request as the Bot API stand-in received it.
type BotRequest struct {
	Method string            // the Bot API method, such as "sendMessage"
	Token  string            // the token in the request path
	Params map[string]string // the form parameters
	Time   time.Time
}

// BotResponse is a scripted response to one request.
type BotResponse struct {
	status      int
	contentType string
	body        string
	header      http.Header
	hang        bool
	validate    bool
}

// BotOK checks the request as Telegram would and returns success, or the
// 400 that Telegram returns for what it rejects. It is the response when
// nothing is scripted.
func BotOK() BotResponse { return BotResponse{validate: true} }

// BotRetryAfter returns 429 "Too Many Requests" with retry_after seconds.
func BotRetryAfter(seconds int) BotResponse {
	r := botError(429, fmt.Sprintf("Too Many Requests: retry after %d", seconds), map[string]any{"retry_after": seconds})
	r.header = http.Header{"Retry-After": {strconv.Itoa(seconds)}}
	return r
}

// BotMigrate returns 400 "group chat was upgraded to a supergroup chat"
// with migrate_to_chat_id.
func BotMigrate(newChatID int64) BotResponse {
	return botError(400, "Bad Request: group chat was upgraded to a supergroup chat", map[string]any{"migrate_to_chat_id": newChatID})
}

// BotForbidden returns 403 "bot was kicked from the supergroup chat".
func BotForbidden() BotResponse {
	return botError(403, "Forbidden: bot was kicked from the supergroup chat", nil)
}

// BotError returns a Bot API error of any code and description.
func BotError(code int, description string) BotResponse { return botError(code, description, nil) }

// BotHang holds the request open until the client gives up or the stand-in
// is closed.
func BotHang() BotResponse { return BotResponse{hang: true} }

// BotHTML502 returns 502 with an HTML page, as a reverse proxy does when
// the Bot API is down.
func BotHTML502() BotResponse {
	return BotResponse{
		status:      http.StatusBadGateway,
		contentType: "text/html",
		body:        "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n",
	}
}

// BotRaw returns status with body as it is, for responses that a proxy or a
// self-hosted server might send and the helpers above do not build.
func BotRaw(status int, contentType, body string) BotResponse {
	return BotResponse{status: status, contentType: contentType, body: body}
}

func botError(code int, description string, parameters map[string]any) BotResponse {
	answer := map[string]any{"ok": false, "error_code": code, "description": description}
	if parameters != nil {
		answer["parameters"] = parameters
	}
	body, _ := json.Marshal(answer)
	return BotResponse{status: code, contentType: "application/json", body: string(body)}
}

// BotAPI is a Telegram Bot API server on 127.0.0.1. It records every
// request and responds to each with the next scripted BotResponse, or BotOK
// when none is left. BotOK validates sendMessage like Telegram: MarkdownV2
// texts go through render.CheckMarkdownV2, which is stricter than Telegram
// about lone backslashes and needless escapes, so that escaping mistakes
// fail here even where Telegram would show them garbled.
type BotAPI struct {
	server *httptest.Server

	mu        sync.Mutex
	script    []BotResponse
	requests  []BotRequest
	messageID int
	closing   chan struct{}
	closeOnce sync.Once
}

// NewBotAPI starts a stand-in. Close it when done.
func NewBotAPI() *BotAPI {
	b := &BotAPI{closing: make(chan struct{})}
	b.server = httptest.NewServer(http.HandlerFunc(b.serve))
	return b
}

// URL returns the base URL, the value for telegram.api_url.
func (b *BotAPI) URL() string { return b.server.URL }

// Script queues answers for the next requests, in order.
func (b *BotAPI) Script(responses ...BotResponse) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.script = append(b.script, responses...)
}

// Requests returns a copy of the requests received so far.
func (b *BotAPI) Requests() []BotRequest {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]BotRequest, len(b.requests))
	for i, r := range b.requests {
		r.Params = maps.Clone(r.Params)
		out[i] = r
	}
	return out
}

// Close releases hanging requests and stops the server.
func (b *BotAPI) Close() {
	b.closeOnce.Do(func() { close(b.closing) })
	b.server.Close()
}

func (b *BotAPI) serve(w http.ResponseWriter, r *http.Request) {
	token, method, ok := splitPath(r.URL.Path)
	if !ok {
		writeAnswer(w, botError(404, "Not Found", nil))
		return
	}
	if err := r.ParseForm(); err != nil {
		writeAnswer(w, botError(400, "Bad Request: invalid form", nil))
		return
	}
	params := map[string]string{}
	for key, values := range r.Form {
		params[key] = values[len(values)-1]
	}

	b.mu.Lock()
	b.requests = append(b.requests, BotRequest{Method: method, Token: token, Params: params, Time: time.Now()})
	response := BotOK()
	if len(b.script) > 0 {
		response = b.script[0]
		b.script = b.script[1:]
	}
	b.mu.Unlock()

	switch {
	case response.hang:
		select {
		case <-r.Context().Done():
		case <-b.closing:
		}
	case response.validate:
		writeAnswer(w, b.answer(method, params))
	default:
		writeAnswer(w, response)
	}
}

// splitPath reads "/bot<token>/<method>".
func splitPath(path string) (token, method string, ok bool) {
	rest, found := strings.CutPrefix(path, "/bot")
	if !found {
		return "", "", false
	}
	token, method, found = strings.Cut(rest, "/")
	return token, method, found && token != "" && method != "" && !strings.Contains(method, "/")
}

// answer returns Telegram's response to a valid-looking request.
func (b *BotAPI) answer(method string, params map[string]string) BotResponse {
	switch method {
	case "getMe":
		return botResult(map[string]any{"id": 123456, "is_bot": true, "first_name": "Stand-in", "username": "standin_bot"})
	case "sendMessage":
	default:
		return botError(404, "Not Found: method not found", nil)
	}

	visible, problem := checkSendMessage(params)
	if problem != "" {
		return botError(400, "Bad Request: "+problem, nil)
	}
	b.mu.Lock()
	b.messageID++
	id := b.messageID
	b.mu.Unlock()
	chatID, _ := strconv.ParseInt(params["chat_id"], 10, 64)
	return botResult(map[string]any{
		"message_id": id,
		"date":       time.Now().Unix(),
		"chat":       map[string]any{"id": chatID, "type": "supergroup", "title": "SOC"},
		"text":       visible,
	})
}

// checkSendMessage returns the visible text, or the problem Telegram would
// report in its "Bad Request: ..." description.
func checkSendMessage(params map[string]string) (string, string) {
	text := params["text"]
	if params["chat_id"] == "" {
		return "", "chat_id is empty"
	}
	if params["message_thread_id"] == "1" {
		return "", "message thread not found"
	}
	if !utf8.ValidString(text) {
		return "", "strings must be encoded in UTF-8"
	}
	if len(text) > render.MaxTextBytes {
		return "", "text is too long"
	}

	visible := text
	switch strings.ToLower(params["parse_mode"]) {
	case "", "none", "markdown", "html":
	case "markdownv2":
		if err := render.CheckMarkdownV2(text); err != nil {
			return "", "can't parse entities: " + err.Error()
		}
		parsed, _ := render.ParseMarkdownV2(text)
		visible = parsed.Text
	default:
		return "", "unsupported parse_mode"
	}

	if strings.TrimSpace(visible) == "" {
		return "", "message text is empty"
	}
	if utf8.RuneCountInString(visible) > render.MaxTextRunes {
		return "", "message is too long"
	}
	return visible, ""
}

func botResult(result any) BotResponse {
	body, _ := json.Marshal(map[string]any{"ok": true, "result": result})
	return BotResponse{status: http.StatusOK, contentType: "application/json", body: string(body)}
}

func writeAnswer(w http.ResponseWriter, r BotResponse) {
	for key, values := range r.header {
		w.Header()[key] = values
	}
	w.Header().Set("Content-Type", r.contentType)
	w.WriteHeader(r.status)
	_, _ = w.Write([]byte(r.body))
}
