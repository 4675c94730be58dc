package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/state"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/storm"
)

// Retry timing. A retry after a temporary failure needs at least
// minRetryBudget left in the run, and waits retryPause first.
const (
	minRetryBudget = 500 * time.Millisecond
	retryPause     = 250 * time.Millisecond
	// maxAttempts bounds the requests for one message: a 429 wait, a
	// migration, a plain-text resend and a temporary retry can combine.
	maxAttempts = 5
)

// Sender sends one message and returns an *Error on failure. *Client is
// the production Sender.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Target is the destination chat and the notification settings.
type Target struct {
	ChatID              string
	ThreadID            int64
	DisableNotification bool
	DisableLinkPreview  bool
}

// Content is a rendered message.
type Content struct {
	// Markdown is the MarkdownV2 text, or "" when only Plain may be sent.
	Markdown string
	Plain    string
}

// RenderFunc renders a queued payload when its message goes out. note holds
// the alerts suppressed since the last message, which this message reports.
type RenderFunc func(payload json.RawMessage, note storm.Suppressed) (Content, error)

// Item is this run's alert.
type Item struct {
	AlertID   string
	RuleID    string
	DedupeKey string          // storm.Key of rule id, indicator and agent id
	Payload   json.RawMessage // the data RenderFunc renders
}

// Outcome is the fate of this run's alert.
type Outcome string

// Outcomes, as logged in the run summary.
const (
	OutcomeSent         Outcome = "sent"
	OutcomeDeduplicated Outcome = "deduplicated" // a repeat within the dedupe window, counted
	OutcomeQueued       Outcome = "queued"       // kept for a later run
	OutcomeDropped      Outcome = "dropped"      // neither sent nor kept, counted
)

// Result reports one Deliver call.
type Result struct {
	Outcome Outcome
	Sent    int // messages sent, queued ones included
	Pending int // messages left for later runs
}

// Deliverer applies the delivery policy. Unless Telegram's 429 block is in
// force, each run sends the queued messages oldest first and then this
// run's, one token each, while tokens and the context's deadline allow. The
// rest stay queued, up to Limits.MaxPending.
type Deliverer struct {
	Sender Sender
	Store  *storm.Store // required
	Limits storm.Limits
	Target Target
	Render RenderFunc
	Log    *slog.Logger
	// Now and Sleep default to the real clock.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// ErrNotKept marks a Deliver error for this run's message when it was not
// sent and could not be kept, because the state file is unusable or could
// not be saved.
var ErrNotKept = errors.New("message dropped: not sent, and the telegram state file cannot keep it")

// Deliver handles this run's alert. It returns an *Error when a message
// failed for good. With KindPermanent the config needs fixing and the
// message stays queued. With KindRejected this run's message was dropped.
// Messages queued for later runs are not an error. When the state file
// cannot be used, it sends this run's message without rate limit, dedupe
// or queue, because sending beats silence. If that message is not sent
// then, or is queued in a state that cannot be saved, the error wraps
// ErrNotKept.
func (d *Deliverer) Deliver(ctx context.Context, item Item) (Result, error) {
	var res Result
	var sendErr error
	err := d.Store.Update(ctx, func(st *storm.State) error {
		res, sendErr = d.process(ctx, st.Chat(d.Target.ChatID), item, true)
		return nil
	})
	if errors.Is(err, storm.ErrUnavailable) {
		d.logUnusable(err)
		res, sendErr = d.process(ctx, &storm.Chat{}, item, false)
		if res.Pending > 0 {
			res.Outcome, res.Pending = OutcomeDropped, 0
			return res, notKept(sendErr, err)
		}
		return res, sendErr
	}
	if err != nil {
		d.Log.Warn("telegram state file not saved: rate limit, dedupe and queue changes of this run are lost; make its directory writable by the wazuh user", "path", d.Store.Path, "error", err)
		if res.Outcome == OutcomeQueued {
			res.Outcome = OutcomeDropped
			return res, notKept(sendErr, err)
		}
	}
	return res, sendErr
}

// logUnusable logs why Deliver goes on without the state file.
func (d *Deliverer) logUnusable(err error) {
	if errors.Is(err, state.ErrLockTimeout) {
		d.Log.Warn("telegram state file locked by another run for too long: sending this run's message without rate limit, dedupe or queue", "path", d.Store.Path, "lock_timeout", d.Store.LockTimeout.String(), "error", err)
		return
	}
	d.Log.Error("telegram state file unusable: sending this run's message without rate limit, dedupe or queue; remove or fix the file, and make its directory writable by the wazuh user", "path", d.Store.Path, "error", err)
}

// notKept returns the error for this run's message when it was neither
// sent nor kept. It wraps sendErr when there is one, so that a permanent
// failure keeps its hint.
func notKept(sendErr, stateErr error) error {
	if sendErr != nil {
		return fmt.Errorf("%w: %w", ErrNotKept, sendErr)
	}
	return fmt.Errorf("%w: %w", ErrNotKept, stateErr)
}

// process applies the policy to chat. durable is false when chat is not
// saved, so that log lines never say a message is kept.
func (d *Deliverer) process(ctx context.Context, chat *storm.Chat, item Item, durable bool) (Result, error) {
	now := d.now()
	chat.Prune(now, d.Limits.DedupeWindow)
	if chat.LimitBlock(now) {
		d.Log.Warn("stored blocked_until is more than max_block ahead: cut to max_block", "blocked_until", chat.BlockedUntil, "max_block", storm.MaxBlock.String())
	}
	if chat.MigratedTo != "" {
		d.Log.Error("telegram.chat_id is outdated: the group became a supergroup, so set telegram.chat_id to the new id", "chat_id", d.Target.ChatID, "new_chat_id", chat.MigratedTo)
	}

	// A repeat is only counted, but queued messages still go out.
	var id uint64
	duplicate := chat.Duplicate(item.DedupeKey, now, d.Limits.DedupeWindow)
	if duplicate {
		chat.CountDeduped(now)
		d.Log.Debug("alert repeats one accepted within the dedupe window: counted, not sent", "dedupe_window", d.Limits.DedupeWindow.String())
	} else {
		chat.Remember(item.DedupeKey, now)
		id = chat.Enqueue(now, item.AlertID, item.RuleID, item.Payload)
	}

	sent, sendErr := d.flush(ctx, chat, id, durable)

	res := Result{Outcome: OutcomeQueued, Sent: len(sent)}
	switch {
	case duplicate:
		res.Outcome = OutcomeDeduplicated
	case sent[id]:
		res.Outcome = OutcomeSent
	case !chat.Queued(id):
		res.Outcome = OutcomeDropped
	}
	if dropped := chat.Trim(d.Limits.MaxPending); len(dropped) > 0 {
		chat.CountDropped(now, len(dropped))
		msg := "message queue full: dropped the oldest messages, counted as suppressed"
		if d.Limits.MaxPending == 0 {
			msg = "telegram.max_pending is 0: dropped the message that could not be sent now, counted as suppressed"
		}
		d.Log.Warn(msg, "dropped", len(dropped), "max_pending", d.Limits.MaxPending, "oldest_alert_id", dropped[0].AlertID, "oldest_queued_at", dropped[0].QueuedAt)
		if !chat.Queued(id) && res.Outcome == OutcomeQueued {
			res.Outcome = OutcomeDropped
		}
	}
	res.Pending = len(chat.Pending)
	return res, sendErr
}

// sendStatus is the result of sending one queued message.
type sendStatus int

const (
	statusSent     sendStatus = iota
	statusKept                // stays queued for a later run
	statusRejected            // dropped for good
	statusStop                // stays queued, and nothing more is sent this run
)

// flush sends queued messages oldest first while the 429 block, the tokens
// and ctx allow. It returns the ids sent, and an *Error for a permanent
// failure or for the rejection of message current.
func (d *Deliverer) flush(ctx context.Context, chat *storm.Chat, current uint64, durable bool) (map[uint64]bool, error) {
	sent := map[uint64]bool{}
	var failure error
	for len(chat.Pending) > 0 {
		now := d.now()
		if chat.Blocked(now) {
			remaining := chat.BlockedUntil.Sub(now).Round(time.Second)
			d.Log.Warn("Telegram asked to wait (429): messages stay queued", "blocked_until", chat.BlockedUntil, "remaining", remaining.String(), "pending", len(chat.Pending))
			break
		}
		if ctx.Err() != nil {
			d.Log.Warn(keptOr(durable, "run budget used up: messages stay queued", "run budget used up: message not sent"), "pending", len(chat.Pending))
			break
		}
		if !chat.TakeToken(now, d.Limits) {
			d.Log.Info("rate limit reached: messages stay queued", "rate_per_minute", d.Limits.RatePerMinute, "pending", len(chat.Pending))
			break
		}

		p := chat.Pending[0]
		status, err := d.send(ctx, chat, p, durable)
		if status == statusSent {
			sent[p.ID] = true
		}
		if status == statusSent || status == statusRejected {
			chat.Remove(p.ID)
		}
		if status == statusRejected && p.ID == current {
			failure = err
		}
		if status == statusStop {
			failure = err
		}
		if status == statusKept || status == statusStop {
			break
		}
	}
	return sent, failure
}

// send sends one queued message, applying the policy for each kind of
// failure.
func (d *Deliverer) send(ctx context.Context, chat *storm.Chat, p storm.Pending, durable bool) (sendStatus, error) {
	log := d.Log.With("alert_id", p.AlertID, "rule_id", p.RuleID)
	note := chat.Suppressed
	content, err := d.Render(p.Payload, note)
	if err != nil {
		log.Error("queued message cannot be rendered: dropped", "error", err)
		chat.CountDropped(d.now(), 1)
		return statusRejected, nil
	}

	msg := Message{
		ChatID:              d.Target.ChatID,
		ThreadID:            d.Target.ThreadID,
		Text:                content.Markdown,
		ParseMode:           ParseModeMarkdownV2,
		DisableNotification: d.Target.DisableNotification,
		DisableLinkPreview:  d.Target.DisableLinkPreview,
	}
	if chat.MigratedTo != "" {
		msg.ChatID = chat.MigratedTo
	}
	if p.Plain || content.Markdown == "" {
		msg.Text, msg.ParseMode = content.Plain, ""
	}

	waited, retried, migrated := false, false, false
	for range maxAttempts {
		log.Debug("sending message", "text_len", len(msg.Text), "parse_mode", msg.ParseMode, "queued_at", p.QueuedAt)
		err := d.Sender.Send(ctx, msg)
		if err == nil {
			if note.Total() > 0 {
				chat.ClearSuppressed()
			}
			return statusSent, nil
		}

		var tgErr *Error
		if !errors.As(err, &tgErr) {
			tgErr = &Error{Kind: KindTemporary, Description: err.Error(), Err: err}
		}
		switch tgErr.Kind {
		case KindRateLimited:
			wait := tgErr.RetryAfter
			if wait > storm.MaxBlock {
				log.Error("Telegram asked to wait longer than max_block (429): waiting max_block only", "retry_after_s", wait.Seconds(), "max_block", storm.MaxBlock.String())
				wait = storm.MaxBlock
			}
			if !waited && d.fits(ctx, wait) {
				waited = true
				log.Info("Telegram rate limit (429): waiting, then retrying once", "retry_after_s", wait.Seconds())
				if d.sleep(ctx, wait) == nil {
					continue
				}
			}
			chat.BlockUntil(d.now().Add(wait))
			log.Warn(keptOr(durable, "Telegram rate limit (429): message kept for a run after blocked_until", "Telegram rate limit (429): message not sent"), "retry_after_s", wait.Seconds(), "blocked_until", chat.BlockedUntil)
			return statusStop, nil

		case KindMigrated:
			newID := strconv.FormatInt(tgErr.NewChatID, 10)
			if migrated || newID == msg.ChatID {
				log.Error(keptOr(durable, "Telegram named a new chat id again after a migration: message kept", "Telegram named a new chat id again after a migration: message not sent"), "chat_id", msg.ChatID, "new_chat_id", newID)
				return statusStop, tgErr
			}
			migrated = true
			chat.MigratedTo = newID
			log.Error("the group became a supergroup: resending to its new id; set telegram.chat_id to it", "chat_id", d.Target.ChatID, "new_chat_id", newID)
			msg.ChatID = newID

		case KindParse:
			if msg.ParseMode == "" {
				log.Error("Telegram rejected a plain text message as markup: dropped", "description", tgErr.Description)
				chat.CountDropped(d.now(), 1)
				return statusRejected, tgErr
			}
			log.Warn("Telegram rejected the MarkdownV2 text: resending as plain text", "description", tgErr.Description)
			markPlain(chat, p.ID)
			msg.Text, msg.ParseMode = content.Plain, ""

		case KindPermanent:
			log.Error(keptOr(durable, "Telegram rejected the request: fix the config, messages stay queued", "Telegram rejected the request: fix the config"), "status", tgErr.Code, "description", tgErr.Description, "fix", tgErr.Hint)
			return statusStop, tgErr

		case KindRejected:
			log.Error("Telegram rejected the message for good: dropped", "status", tgErr.Code, "description", tgErr.Description)
			chat.CountDropped(d.now(), 1)
			return statusRejected, tgErr

		default:
			if !retried && d.remaining(ctx) >= minRetryBudget+retryPause {
				retried = true
				log.Warn("Bot API request failed: retrying once", "error", tgErr)
				if d.sleep(ctx, retryPause) == nil {
					continue
				}
			}
			log.Warn(keptOr(durable, "Bot API request failed: message kept for the next run", "Bot API request failed: message not sent"), "error", tgErr)
			return statusKept, nil
		}
	}
	log.Warn(keptOr(durable, "message not sent after the maximum number of attempts: kept for the next run", "message not sent after the maximum number of attempts"), "attempts", maxAttempts)
	return statusKept, nil
}

// keptOr returns kept when the state is saved, else notKept: without a
// saved state nothing is kept, and Deliver reports the drop once.
func keptOr(durable bool, kept, notKept string) string {
	if durable {
		return kept
	}
	return notKept
}

// markPlain makes queued message id go out as plain text from now on.
func markPlain(chat *storm.Chat, id uint64) {
	for i := range chat.Pending {
		if chat.Pending[i].ID == id {
			chat.Pending[i].Plain = true
		}
	}
}

// fits reports whether waiting d still leaves minRetryBudget for the retry.
func (d *Deliverer) fits(ctx context.Context, wait time.Duration) bool {
	return d.remaining(ctx) >= wait+minRetryBudget
}

// remaining returns the time left before ctx's deadline, or an hour when it
// has none.
func (d *Deliverer) remaining(ctx context.Context) time.Duration {
	if ctx.Err() != nil {
		return 0
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		return time.Hour
	}
	return time.Until(deadline)
}

func (d *Deliverer) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Deliverer) sleep(ctx context.Context, wait time.Duration) error {
	if d.Sleep != nil {
		return d.Sleep(ctx, wait)
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
