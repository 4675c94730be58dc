package lookup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/alert"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/breaker"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/cache"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/event"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/indicator"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/misp"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/spool"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/state"
)

// Searcher looks indicators up in MISP. *misp.Client implements it, and
// errors it returns should be *misp.Error so that they can be classified.
type Searcher interface {
	Search(ctx context.Context, inds []indicator.Indicator) ([]misp.Attribute, error)
}

// Engine holds what one run needs. Cache, Breaker and Spool are optional:
// nil turns that feature off.
type Engine struct {
	Searcher Searcher
	Cache    *cache.Cache
	Breaker  *breaker.Breaker
	Spool    *spool.Spool
	Log      *slog.Logger

	// Filters are the search filters, used here only to log the request
	// body in debug mode (the Searcher builds the real one).
	Filters misp.Filters
	// EventURLBase is the MISP web address used to build event links.
	EventURLBase string
	// RequestTimeout bounds each MISP request; the context bounds the run.
	RequestTimeout time.Duration
	// Retries is how many times a retryable failure (timeout, connection
	// refused, 5xx other than 501, 429) is tried again inside the budget.
	Retries int
	// EventLimit returns the maximum payload size in bytes of one event
	// about agent (the queue header's length depends on the agent).
	EventLimit func(agent event.Agent) int
	Now        func() time.Time
}

// MaxMatchEvents bounds the match events of one run. MISP returns at most
// misp.limit attributes per request, but a run may also replay the spool,
// and the queue socket holds only a few datagrams at a time.
const MaxMatchEvents = 100

// Event is one payload to send, with the agent it concerns (for the queue
// location header).
type Event struct {
	Agent   event.Agent
	Payload []byte
}

// Result summarises a run for the log line and the exit status.
type Result struct {
	Indicators int
	CacheHits  int
	Matches    int
	Failure    string // error kind of the lookup, "" when MISP responded or was not needed
	Spooled    int    // indicators put into the spool
	Replayed   int    // spool records completed
	Events     []Event
}

// Process looks up the indicators of one alert and returns the events to
// send. MISP failures become error events. A broken cache or spool is
// logged and skipped, so Process itself cannot fail.
func (e *Engine) Process(ctx context.Context, a *alert.Alert) Result {
	return e.ProcessIndicators(ctx, a, indicator.Extract(a))
}

// ProcessIndicators is Process for a caller that has already extracted the
// indicators of a (to leave early when there are none).
func (e *Engine) ProcessIndicators(ctx context.Context, a *alert.Alert, inds []indicator.Indicator) Result {
	var result Result
	result.Indicators = len(inds)
	if len(inds) == 0 {
		return result
	}
	for _, ind := range inds {
		e.Log.Debug("indicator extracted", "kind", string(ind.Kind), "value", ind.Value, "field", ind.Field)
	}

	source := event.SourceOf(a)
	outcome := e.lookup(ctx, inds)
	result.CacheHits = outcome.cacheHits
	e.addMatches(&result, source, outcome.hits, false)

	if outcome.err != nil {
		e.addFailure(&result, source, inds, outcome)
		return result
	}

	if e.Spool != nil && ctx.Err() == nil {
		result.Replayed = e.replay(ctx, &result)
	}
	return result
}

// lookupOutcome is the result of looking up one set of indicators.
type lookupOutcome struct {
	hits      []misp.Hit
	cacheHits int
	// pending lists the indicators that were not looked up.
	pending []indicator.Indicator
	err     error
	report  breaker.Report
}

// lookup looks inds up in the cache, then in MISP (through the breaker)
// for the rest, and caches what MISP returned.
func (e *Engine) lookup(ctx context.Context, inds []indicator.Indicator) lookupOutcome {
	var outcome lookupOutcome
	remaining := make([]indicator.Indicator, 0, len(inds))
	for _, ind := range inds {
		hits, ok := e.cached(ind)
		if !ok {
			remaining = append(remaining, ind)
			continue
		}
		outcome.cacheHits++
		outcome.hits = append(outcome.hits, hits...)
	}
	if len(remaining) == 0 {
		return outcome
	}

	if e.Log.Enabled(ctx, slog.LevelDebug) {
		body, err := misp.BuildSearchRequest(remaining, e.Filters)
		e.Log.Debug("MISP request", "body", string(body), "error", err)
	}

	var attributes []misp.Attribute
	search := func() error {
		var err error
		attributes, err = e.searchWithRetries(ctx, remaining)
		var mispErr *misp.Error
		if e.Breaker != nil && errors.As(err, &mispErr) {
			e.Breaker.SetCause(string(mispErr.Kind))
		}
		return err
	}
	if e.Breaker != nil {
		outcome.report, outcome.err = e.Breaker.Execute(search, countsAgainstBreaker)
		if errors.Is(outcome.err, state.ErrLockTimeout) {
			// Another process holds the breaker state for too long. Asking
			// MISP without the breaker beats spooling a lookup that may work.
			e.Log.Warn("circuit breaker state is locked by another process, asking MISP without it", "error", outcome.err)
			outcome.report, outcome.err = breaker.Report{}, search()
		}
		e.logBreaker(outcome.report)
	} else {
		outcome.err = search()
	}
	if outcome.err != nil {
		outcome.pending = remaining
		return outcome
	}

	hits := misp.Match(attributes, remaining)
	e.store(remaining, hits)
	outcome.hits = append(outcome.hits, hits...)
	return outcome
}

// countsAgainstBreaker reports whether err means MISP is unavailable
// (timeouts, refused connections, 5xx, 429, redirects to a login page).
// Credentials and configuration mistakes do not open the breaker: they
// fail fast by themselves and need a person, not a pause.
func countsAgainstBreaker(err error) bool {
	var mispErr *misp.Error
	if errors.As(err, &mispErr) {
		return mispErr.Unavailable()
	}
	return errors.Is(err, context.DeadlineExceeded)
}

func (e *Engine) searchWithRetries(ctx context.Context, inds []indicator.Indicator) ([]misp.Attribute, error) {
	backoff := 100 * time.Millisecond
	for attempt := 0; ; attempt++ {
		attributes, err := e.searchOnce(ctx, inds)
		if err == nil {
			return attributes, nil
		}

		var mispErr *misp.Error
		if attempt >= e.Retries || !errors.As(err, &mispErr) || !mispErr.Retryable() {
			return nil, err
		}
		wait := backoff
		if mispErr.RetryAfter > 0 {
			wait = mispErr.RetryAfter
		}
		deadline, hasDeadline := ctx.Deadline()
		if hasDeadline && time.Until(deadline) < wait+e.RequestTimeout/2 {
			e.Log.Debug("no retry: the time budget would run out", "error_kind", string(mispErr.Kind), "attempt", attempt+1)
			return nil, err
		}
		e.Log.Warn("MISP request failed, retrying", "error_kind", string(mispErr.Kind), "attempt", attempt+1, "wait_ms", wait.Milliseconds())
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(wait):
		}
		backoff *= 2
	}
}

func (e *Engine) searchOnce(ctx context.Context, inds []indicator.Indicator) ([]misp.Attribute, error) {
	requestCtx := ctx
	if e.RequestTimeout > 0 {
		var cancel context.CancelFunc
		requestCtx, cancel = context.WithTimeout(ctx, e.RequestTimeout)
		defer cancel()
	}
	return e.Searcher.Search(requestCtx, inds)
}

// cached returns the cached hits for ind. ok is false when the cache has no
// valid entry, so MISP must be asked.
func (e *Engine) cached(ind indicator.Indicator) (hits []misp.Hit, ok bool) {
	if e.Cache == nil {
		return nil, false
	}
	data, found, ok := e.Cache.Get(ind.Key())
	if !ok {
		return nil, false
	}
	if !found {
		e.Log.Debug("cache hit: no match", "kind", string(ind.Kind), "value", ind.Value)
		return nil, true
	}
	var attributes []misp.Attribute
	if err := json.Unmarshal(data, &attributes); err != nil {
		e.Log.Warn("cache entry unreadable, asking MISP", "kind", string(ind.Kind), "error", err)
		return nil, false
	}
	e.Log.Debug("cache hit: match", "kind", string(ind.Kind), "value", ind.Value, "attributes", len(attributes))
	for _, attribute := range attributes {
		hits = append(hits, misp.Hit{Indicator: ind, Attribute: attribute})
	}
	return hits, true
}

// store caches the result for every indicator sent to MISP: its matched
// attributes, or a miss.
func (e *Engine) store(asked []indicator.Indicator, hits []misp.Hit) {
	if e.Cache == nil {
		return
	}
	byKey := make(map[string][]misp.Attribute, len(hits))
	for _, hit := range hits {
		byKey[hit.Indicator.Key()] = append(byKey[hit.Indicator.Key()], hit.Attribute)
	}
	for _, ind := range asked {
		attributes := byKey[ind.Key()]
		var data json.RawMessage
		if len(attributes) > 0 {
			encoded, err := json.Marshal(attributes)
			if err != nil {
				e.Log.Warn("cannot encode attributes for the cache", "error", err)
				continue
			}
			data = encoded
		}
		if err := e.Cache.Put(ind.Key(), len(attributes) > 0, data); err != nil {
			e.Log.Warn("cache write failed", "error", err)
		}
	}
}

func (e *Engine) logBreaker(report breaker.Report) {
	switch {
	case report.Opened:
		e.Log.Warn("MISP circuit breaker opened: lookups pause until it half-opens", "cause", report.Cause, "open_until", report.OpenUntil.UTC().Format(time.RFC3339))
	case report.Recovered:
		e.Log.Info("MISP responds again: circuit breaker closed")
	case report.Skipped:
		e.Log.Debug("MISP circuit breaker open: lookup skipped", "open_until", report.OpenUntil.UTC().Format(time.RFC3339), "skipped", report.SkippedCount)
	}
}

func (e *Engine) addMatches(result *Result, source event.Source, hits []misp.Hit, delayed bool) {
	if room := MaxMatchEvents - result.Matches; len(hits) > room {
		e.Log.Warn("too many matches for one run: the rest are not sent (debug logging lists them)",
			"matches", len(hits), "sent", max(room, 0), "source_alert_id", source.AlertID)
		for _, hit := range hits[max(room, 0):] {
			e.Log.Debug("MISP match not sent", "kind", string(hit.Indicator.Kind), "value", hit.Indicator.Value,
				"event_id", hit.Attribute.EventID, "type", hit.Attribute.Type, "source_alert_id", source.AlertID)
		}
		hits = hits[:max(room, 0)]
	}
	for _, hit := range hits {
		match := event.Match{
			Hit:      hit,
			Source:   source.For(hit.Indicator),
			Delayed:  delayed,
			EventURL: event.EventURL(e.EventURLBase, hit.Attribute.EventID),
		}
		payload, err := event.EncodeMatch(match, e.limit(source.Agent))
		if err != nil {
			e.Log.Error("match event cannot be encoded", "event_id", hit.Attribute.EventID, "error", err)
			continue
		}
		result.Matches++
		result.Events = append(result.Events, Event{Agent: source.Agent, Payload: payload})
		e.Log.Info("MISP match", "kind", string(hit.Indicator.Kind), "value", hit.Indicator.Value, "field", hit.Indicator.Field,
			"event_id", hit.Attribute.EventID, "type", hit.Attribute.Type, "category", hit.Attribute.Category, "delayed", delayed)
	}
}

// addFailure spools the indicators that were not looked up and adds the
// error event (and the breaker-open event when one is due).
func (e *Engine) addFailure(result *Result, source event.Source, inds []indicator.Indicator, outcome lookupOutcome) {
	spooled := e.spoolPending(source, outcome.pending)
	if spooled {
		result.Spooled = len(outcome.pending)
	}

	skipped := errors.Is(outcome.err, breaker.ErrOpen)
	if skipped {
		result.Failure = "breaker_open"
	} else {
		kind, message, hint, status := describe(outcome.err)
		result.Failure = kind
		e.Log.Error("MISP lookup failed", "error_kind", kind, "http_status", status, "error", message, "indicators", len(outcome.pending), "spooled", spooled)
		payload, err := event.EncodeFailure(event.Failure{
			Kind: kind, Message: message, Hint: hint, HTTPStatus: status,
			Indicators: len(outcome.pending), Spooled: spooled, Source: source,
		}, e.limit(source.Agent))
		if err == nil {
			result.Events = append(result.Events, Event{Agent: source.Agent, Payload: payload})
		}
	}

	if outcome.report.Notify {
		payload, err := event.EncodeBreakerOpen(event.BreakerOpen{
			Cause: outcome.report.Cause, OpenUntil: outcome.report.OpenUntil, Skipped: outcome.report.SkippedCount,
			Indicators: len(outcome.pending), Spooled: spooled, Source: source,
		}, e.limit(source.Agent))
		if err == nil {
			result.Events = append(result.Events, Event{Agent: source.Agent, Payload: payload})
		}
	}
}

// describe turns a lookup error into the event's kind, message, hint and
// HTTP status.
func describe(err error) (kind, message, hint string, status int) {
	var mispErr *misp.Error
	if errors.As(err, &mispErr) {
		return string(mispErr.Kind), mispErr.Message, mispErr.Hint, mispErr.Status
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return string(misp.KindTimeout), "the run's time budget ran out before MISP answered", "raise misp.budget or the integration's <timeout>, or check why MISP is slow", 0
	}
	if errors.Is(err, breaker.ErrOpen) {
		return "breaker_open", err.Error(), "", 0
	}
	return "internal", err.Error(), "see integrations.log for details", 0
}

func (e *Engine) spoolPending(source event.Source, pending []indicator.Indicator) bool {
	if e.Spool == nil || len(pending) == 0 {
		return false
	}
	encoded, err := json.Marshal(source)
	if err != nil {
		e.Log.Error("cannot encode the alert source for the spool", "error", err)
		return false
	}
	record := spool.Record{Created: e.Now(), Indicators: pending, Source: encoded}
	if err := e.Spool.Add(record); err != nil {
		e.Log.Error("spool write failed: these indicators will not be looked up again", "error", err, "indicators", len(pending))
		return false
	}
	return true
}

// replay works through the spool while MISP responds and the context allows.
// Matches found late carry the original alert's source and delayed:true.
func (e *Engine) replay(ctx context.Context, result *Result) int {
	if e.Spool.Len() == 0 {
		return 0
	}
	completed, err := e.Spool.Replay(ctx, func(record spool.Record) error {
		var source event.Source
		if err := json.Unmarshal(record.Source, &source); err != nil {
			e.Log.Warn("spool record has an unreadable source, replaying without it", "error", err)
		}
		outcome := e.lookup(ctx, record.Indicators)
		if outcome.err != nil {
			return fmt.Errorf("replay stopped: %w", outcome.err)
		}
		e.addMatches(result, source, outcome.hits, true)
		return nil
	})
	if err != nil {
		kind, _, _, _ := describe(err)
		e.Log.Info("spool replay paused, the rest waits for a later run", "error_kind", kind, "completed", completed)
	} else if completed > 0 {
		e.Log.Info("spool replayed", "completed", completed)
	}
	return completed
}

func (e *Engine) limit(agent event.Agent) int {
	if e.EventLimit == nil {
		return 65535 - 128
	}
	return e.EventLimit(agent)
}
