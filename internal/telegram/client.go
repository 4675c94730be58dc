package telegram

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/secret"
)

// ParseModeMarkdownV2 is the parse_mode of rendered messages.
const ParseModeMarkdownV2 = tgbotapi.ModeMarkdownV2

// maxResponseBytes bounds what is read of a Bot API response. sendMessage
// responses are a few kilobytes.
const maxResponseBytes = 1 << 20

// Message is one sendMessage request.
type Message struct {
	ChatID   string // numeric id or "@channelname"
	ThreadID int64  // forum topic; 0 and 1 (General) send none
	Text     string
	// ParseMode is ParseModeMarkdownV2, or "" for plain text.
	ParseMode           string
	DisableNotification bool
	DisableLinkPreview  bool
}

// Params returns the form parameters of the request. message_thread_id is
// not in the library's structs (it implements Bot API 5.5, and topics came in 6.3),
// which is why requests go through MakeRequest with these parameters.
// Telegram rejects message_thread_id=1, the General topic, so it is left
// out.
func (m Message) Params() map[string]string {
	p := map[string]string{"chat_id": m.ChatID, "text": m.Text}
	if m.ParseMode != "" {
		p["parse_mode"] = m.ParseMode
	}
	if m.DisableNotification {
		p["disable_notification"] = "true"
	}
	if m.DisableLinkPreview {
		p["disable_web_page_preview"] = "true"
	}
	if m.ThreadID != 0 && m.ThreadID != 1 {
		p["message_thread_id"] = strconv.FormatInt(m.ThreadID, 10)
	}
	return p
}

// Options configure a Client.
type Options struct {
	Token secret.String
	// APIURL is the Bot API base URL, such as https://api.telegram.org or a
	// self-hosted server.
	APIURL string
	// ProxyURL is an http, https or socks5 proxy. Empty means the
	// HTTP(S)_PROXY and NO_PROXY environment variables.
	ProxyURL string
	// Timeout bounds each request, including reading the response.
	Timeout time.Duration
}

// Client sends messages through the Bot API. It makes no request when
// built (the library's constructors call getMe), and every error it returns
// has the token removed.
type Client struct {
	token    string
	endpoint string
	http     *http.Client
}

var silenceLibrary sync.Once

// NewClient returns a client for opts. It fails only for an invalid proxy
// URL.
func NewClient(opts Options) (*Client, error) {
	silenceLibrary.Do(func() {
		// The library logs through this logger only in Debug mode, which
		// would print every parameter, the message text included. Debug
		// stays off, and the logger discards in case that ever changes.
		_ = tgbotapi.SetLogger(discardLogger{})
	})

	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = http.ProxyFromEnvironment
	if opts.ProxyURL != "" {
		proxy, err := url.Parse(opts.ProxyURL)
		if err != nil || proxy.Host == "" {
			return nil, fmt.Errorf("invalid telegram.proxy_url %q: use for example \"http://proxy.example:3128\"", opts.ProxyURL)
		}
		transport.Proxy = http.ProxyURL(proxy)
	}

	base := strings.TrimRight(opts.APIURL, "/")
	return &Client{
		token: opts.Token.Reveal(),
		// The library builds request URLs with Sprintf(endpoint, token,
		// method), so a "%" in the base URL must be doubled.
		endpoint: strings.ReplaceAll(base, "%", "%%") + "/bot%s/%s",
		http:     &http.Client{Timeout: opts.Timeout, Transport: transport},
	}, nil
}

// Send makes one sendMessage request, cancelled when ctx ends. The error is
// an *Error that classifies the failure.
func (c *Client) Send(ctx context.Context, m Message) error {
	doer := &contextDoer{ctx: ctx, client: c.http}
	bot := &tgbotapi.BotAPI{Token: c.token, Client: doer}
	bot.SetAPIEndpoint(c.endpoint)

	_, err := bot.MakeRequest("sendMessage", m.Params())
	if err == nil {
		return nil
	}
	return classify(err, doer.status, c.token)
}

// contextDoer adds the run's context to the library's requests, which it
// builds without one, and records the HTTP status for responses that are not
// Bot API JSON.
type contextDoer struct {
	ctx    context.Context
	client *http.Client
	status int
}

func (d *contextDoer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.client.Do(req.WithContext(d.ctx))
	if err != nil {
		return nil, err
	}
	d.status = resp.StatusCode
	resp.Body = limitedBody{Reader: io.LimitReader(resp.Body, maxResponseBytes), Closer: resp.Body}
	return resp, nil
}

type limitedBody struct {
	io.Reader
	io.Closer
}

type discardLogger struct{}

func (discardLogger) Println(...any)        {}
func (discardLogger) Printf(string, ...any) {}
