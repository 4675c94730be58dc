package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// GetMe calls the Bot API's getMe and returns the username of the bot the
// token belongs to. The set-up check calls it; deliveries never do. It uses
// the client's HTTP client directly. A failure is an *Error whose fields
// (Code, Description, Kind) describe it; its Error text names sendMessage, so
// callers that print it should build their own message from the fields.
func (c *Client) GetMe(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, fmt.Sprintf(c.endpoint, c.token, "getMe"), nil)
	if err != nil {
		return "", classify(err, 0, c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", classify(err, 0, c.token)
	}
	defer resp.Body.Close()

	var answer struct {
		OK          bool   `json:"ok"`
		ErrorCode   int    `json:"error_code"`
		Description string `json:"description"`
		Parameters  struct {
			RetryAfter      int   `json:"retry_after"`
			MigrateToChatID int64 `json:"migrate_to_chat_id"`
		} `json:"parameters"`
		Result struct {
			Username string `json:"username"`
		} `json:"result"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBytes)).Decode(&answer); err != nil {
		return "", classify(err, resp.StatusCode, c.token)
	}
	if !answer.OK {
		err := responseError(answer.ErrorCode, answer.Description, answer.Parameters.RetryAfter, answer.Parameters.MigrateToChatID)
		return "", classify(err, resp.StatusCode, c.token)
	}
	return answer.Result.Username, nil
}
