package storm

import (
	"encoding/json"
	"slices"
	"time"
)

// Chat is the storm state of one chat. Methods take the current time, so
// tests move the clock instead of sleeping.
type Chat struct {
	// Tokens and RefilledAt are the token bucket. A zero RefilledAt means a
	// new chat, whose bucket starts full.
	Tokens     float64   `json:"tokens"`
	RefilledAt time.Time `json:"refilled_at,omitzero"`
	// BlockedUntil is when Telegram's last 429 retry_after ends. No request
	// is made before then.
	BlockedUntil time.Time `json:"blocked_until,omitzero"`
	// MigratedTo is the supergroup id Telegram named in a
	// migrate_to_chat_id response, used until the config is changed.
	MigratedTo string `json:"migrated_to,omitempty"`
	// Recent maps dedupe keys to when an alert with that key was accepted.
	Recent map[string]time.Time `json:"recent,omitempty"`
	// Pending are the messages waiting to be sent, oldest first.
	Pending []Pending `json:"pending,omitempty"`
	// Suppressed counts alerts not sent since the last message went out.
	Suppressed Suppressed `json:"suppressed,omitzero"`
	// NextID numbers pending messages.
	NextID uint64 `json:"next_id,omitempty"`
}

// Pending is a message waiting to be sent. Payload is the template data,
// rendered when the message goes out.
type Pending struct {
	ID       uint64          `json:"id"`
	QueuedAt time.Time       `json:"queued_at"`
	AlertID  string          `json:"alert_id,omitempty"`
	RuleID   string          `json:"rule_id,omitempty"`
	Payload  json.RawMessage `json:"payload"`
	// Plain is set once Telegram rejected the message's markup, so that it
	// is sent as plain text from then on.
	Plain bool `json:"plain,omitempty"`
}

// Suppressed counts the alerts that were not sent: repeats within the
// dedupe window, and messages dropped by the rate limit or a full queue.
type Suppressed struct {
	Deduped int       `json:"deduped,omitempty"`
	Dropped int       `json:"dropped,omitempty"`
	Since   time.Time `json:"since,omitzero"` // when the first was counted
}

// Total returns Deduped + Dropped.
func (s Suppressed) Total() int { return s.Deduped + s.Dropped }

// TakeToken refills the bucket for the time since the last refill and takes
// one token. It returns false, taking nothing, when less than one token is
// left. A clock that went backwards refills nothing.
func (c *Chat) TakeToken(now time.Time, l Limits) bool {
	c.refill(now, l)
	if c.Tokens < 1 {
		return false
	}
	c.Tokens--
	return true
}

// Available returns the tokens in the bucket at now, after refilling.
func (c *Chat) Available(now time.Time, l Limits) float64 {
	c.refill(now, l)
	return c.Tokens
}

func (c *Chat) refill(now time.Time, l Limits) {
	burst := float64(max(l.Burst, 1))
	if c.RefilledAt.IsZero() {
		c.Tokens, c.RefilledAt = burst, now
		return
	}
	if elapsed := now.Sub(c.RefilledAt); elapsed > 0 {
		c.Tokens += elapsed.Minutes() * float64(l.RatePerMinute)
	}
	c.Tokens = min(c.Tokens, burst)
	c.RefilledAt = now
}

// MaxBlock caps a 429 block. Telegram documents no maximum for
// retry_after, and its flood waits are usually seconds to minutes. A longer
// block holds every alert in the queue, where telegram.max_pending drops the
// oldest, so a longer wait costs alerts. A request after MaxBlock while the
// limit is still active only gets a new 429.
const MaxBlock = time.Hour

// Blocked reports whether a 429 response forbids requests at now.
func (c *Chat) Blocked(now time.Time) bool { return now.Before(c.BlockedUntil) }

// BlockUntil records a 429 block's end, keeping the later of two.
func (c *Chat) BlockUntil(until time.Time) {
	if until.After(c.BlockedUntil) {
		c.BlockedUntil = until
	}
}

// LimitBlock cuts a block that ends more than MaxBlock after now to end
// MaxBlock after now, and reports whether it did. A stored blocked_until
// can be that far ahead after a clock change or a hand-edited file.
func (c *Chat) LimitBlock(now time.Time) bool {
	limit := now.Add(MaxBlock)
	if !c.BlockedUntil.After(limit) {
		return false
	}
	c.BlockedUntil = limit
	return true
}

// Duplicate reports whether an alert with key was accepted less than window
// before now. An empty key or a zero window never matches.
func (c *Chat) Duplicate(key string, now time.Time, window time.Duration) bool {
	if key == "" || window <= 0 {
		return false
	}
	seen, ok := c.Recent[key]
	return ok && now.Sub(seen) < window && !seen.After(now.Add(window))
}

// Remember records that an alert with key was accepted at now.
func (c *Chat) Remember(key string, now time.Time) {
	if key == "" {
		return
	}
	if c.Recent == nil {
		c.Recent = map[string]time.Time{}
	}
	c.Recent[key] = now
}

// Prune deletes dedupe keys older than window, and the oldest keys beyond
// maxRecent.
func (c *Chat) Prune(now time.Time, window time.Duration) {
	for key, seen := range c.Recent {
		if now.Sub(seen) >= window || seen.After(now.Add(window)) {
			delete(c.Recent, key)
		}
	}
	if len(c.Recent) <= maxRecent {
		return
	}
	type entry struct {
		key  string
		seen time.Time
	}
	entries := make([]entry, 0, len(c.Recent))
	for key, seen := range c.Recent {
		entries = append(entries, entry{key, seen})
	}
	slices.SortFunc(entries, func(a, b entry) int { return a.seen.Compare(b.seen) })
	for _, e := range entries[:len(entries)-maxRecent] {
		delete(c.Recent, e.key)
	}
}

// Enqueue appends a message and returns its id.
func (c *Chat) Enqueue(now time.Time, alertID, ruleID string, payload json.RawMessage) uint64 {
	c.NextID++
	c.Pending = append(c.Pending, Pending{ID: c.NextID, QueuedAt: now, AlertID: alertID, RuleID: ruleID, Payload: payload})
	return c.NextID
}

// Remove deletes the pending message id, if present.
func (c *Chat) Remove(id uint64) {
	c.Pending = slices.DeleteFunc(c.Pending, func(p Pending) bool { return p.ID == id })
}

// Queued reports whether message id is still pending.
func (c *Chat) Queued(id uint64) bool {
	return slices.ContainsFunc(c.Pending, func(p Pending) bool { return p.ID == id })
}

// Trim drops the oldest pending messages beyond limit and returns them.
func (c *Chat) Trim(limit int) []Pending {
	limit = max(limit, 0)
	if len(c.Pending) <= limit {
		return nil
	}
	n := len(c.Pending) - limit
	dropped := slices.Clone(c.Pending[:n])
	c.Pending = slices.Delete(c.Pending, 0, n)
	return dropped
}

// CountDeduped counts one repeat suppressed at now.
func (c *Chat) CountDeduped(now time.Time) {
	c.startCount(now)
	c.Suppressed.Deduped++
}

// CountDropped counts n messages dropped at now.
func (c *Chat) CountDropped(now time.Time, n int) {
	if n <= 0 {
		return
	}
	c.startCount(now)
	c.Suppressed.Dropped += n
}

func (c *Chat) startCount(now time.Time) {
	if c.Suppressed.Total() == 0 {
		c.Suppressed.Since = now
	}
}

// ClearSuppressed resets the counts, once a message reporting them was
// sent.
func (c *Chat) ClearSuppressed() { c.Suppressed = Suppressed{} }
