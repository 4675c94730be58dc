package event

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/misp"
)

// minCutBytes is the smallest cap trimming puts on a string. In the minimal
// event every cuttable string is at most this long, and the Encode
// functions fail only when even that event is over the limit.
const minCutBytes = 40

// ellipsis marks a string that trimming cut.
const ellipsis = "…"

// Match is one MISP attribute that matched one indicator of an alert.
type Match struct {
	Hit misp.Hit
	// Source is the alert. Its Field and Query, when Field is empty, are
	// taken from Hit.Indicator.
	Source Source
	// Delayed marks a lookup replayed from the spool after MISP was
	// unreachable, so the match is reported later than the alert.
	Delayed bool
	// EventURL is the MISP event's page (see EventURL), or "" for none.
	EventURL string
}

// Failure is a lookup that failed for the indicators of one alert.
type Failure struct {
	// Kind classifies the failure, such as "timeout" or "auth" (see
	// misp.Kind). An empty Kind is sent as "unknown".
	Kind, Message, Hint string
	HTTPStatus          int // 0 when no HTTP response came back
	Indicators          int // how many indicators the lookup covered
	Spooled             bool
	Source              Source
}

// BreakerOpen is an alert whose lookup was skipped because the circuit
// breaker is open after repeated MISP failures.
type BreakerOpen struct {
	// Cause is the failure kind that opened the breaker. An empty Cause is
	// sent as "unknown".
	Cause     string
	OpenUntil time.Time
	// Skipped counts the alerts skipped since the breaker opened.
	Skipped    int
	Indicators int
	Spooled    bool
	Source     Source
}

// EventURL returns the page of MISP event eventID under base, the MISP
// URL, without a trailing slash doubled: base + "/events/view/" + eventID.
// It returns "" when base or eventID is empty.
func EventURL(base, eventID string) string {
	base = strings.TrimRight(base, "/")
	if base == "" || eventID == "" {
		return ""
	}
	return base + "/events/view/" + url.PathEscape(eventID)
}

// EncodeMatch returns the match event for m, at most limit bytes long.
// Over the limit, the event loses the attribute comment, the tags, the event
// info, the rule description and the attribute value, in that order, until
// it fits. If it still does not fit, its longest strings are cut at a rune
// boundary and end in "…". A trimmed event is marked "truncated":true.
// EncodeMatch fails only when even the minimal event is over the limit.
func EncodeMatch(m Match, limit int) ([]byte, error) {
	attr := m.Hit.Attribute
	source := m.Source
	if source.Field == "" {
		source = source.For(m.Hit.Indicator)
	}

	ev := &matchEvent{
		Integration: Integration,
		MISP: matchBody{
			EventID:       firstNonEmpty(attr.EventID, attr.Event.ID),
			EventUUID:     firstNonEmpty(attr.EventUUID, attr.Event.UUID),
			EventInfo:     attr.Event.Info,
			AttributeID:   attr.ID,
			AttributeUUID: attr.UUID,
			Category:      attr.Category,
			Type:          attr.Type,
			Value:         m.Hit.Indicator.Value,
			IOCKind:       string(m.Hit.Indicator.Kind),
			ToIDS:         attr.ToIDS,
			Comment:       attr.Comment,
			Tags:          tagNames(attr.Tags),
			EventURL:      m.EventURL,
			Delayed:       m.Delayed,
			Source:        toWireSource(source),
		},
	}
	if attr.Value != m.Hit.Indicator.Value {
		ev.MISP.AttributeValue = attr.Value
	}

	body := &ev.MISP
	drops := []func(){
		func() { body.Comment = "" },
		func() { body.Tags = nil },
		func() { body.EventInfo = "" },
		func() { body.Source.RuleDescription = "" },
		func() { body.AttributeValue = "" },
	}
	return fit("match", ev, &body.Truncated, drops, ev.strings, limit)
}

// EncodeFailure returns the error event for f, at most limit bytes long.
// Over the limit it drops the rule description, then cuts the longest
// strings, as EncodeMatch does.
func EncodeFailure(f Failure, limit int) ([]byte, error) {
	source := f.Source
	source.Field, source.Query = "", ""

	ev := &failureEvent{
		Integration: Integration,
		MISP: failureBody{
			Error: failureError{
				Kind:       firstNonEmpty(f.Kind, "unknown"),
				Message:    f.Message,
				Hint:       f.Hint,
				HTTPStatus: f.HTTPStatus,
			},
			Indicators: f.Indicators,
			Spooled:    f.Spooled,
			Source:     toWireSource(source),
		},
	}

	body := &ev.MISP
	drops := []func(){
		func() { body.Source.RuleDescription = "" },
	}
	return fit("error", ev, &body.Truncated, drops, ev.strings, limit)
}

// EncodeBreakerOpen returns the error event of kind "breaker_open" for b, at
// most limit bytes long, trimmed as EncodeFailure trims.
func EncodeBreakerOpen(b BreakerOpen, limit int) ([]byte, error) {
	source := b.Source
	source.Field, source.Query = "", ""
	cause := firstNonEmpty(b.Cause, "unknown")

	var openUntil, until string
	if !b.OpenUntil.IsZero() {
		openUntil = b.OpenUntil.UTC().Format(time.RFC3339)
		until = " until " + openUntil
	}
	hint := "lookups resume by themselves after open_until"
	if b.Spooled {
		hint += ", spooled indicators included"
	}
	hint += ". Meanwhile check that MISP is reachable from this manager"

	ev := &breakerEvent{
		Integration: Integration,
		MISP: breakerBody{
			Error: breakerError{
				Kind:      "breaker_open",
				Cause:     cause,
				OpenUntil: openUntil,
				Skipped:   b.Skipped,
				Message:   fmt.Sprintf("MISP lookups are paused%s after repeated %s failures", until, cause),
				Hint:      hint,
			},
			Indicators: b.Indicators,
			Spooled:    b.Spooled,
			Source:     toWireSource(source),
		},
	}

	body := &ev.MISP
	drops := []func(){
		func() { body.Source.RuleDescription = "" },
	}
	return fit("breaker_open", ev, &body.Truncated, drops, ev.strings, limit)
}

// fit marshals ev and, while it is over limit, applies the drops in order,
// then cuts strings. It sets *truncated as soon as it changes anything.
// strs returns the cuttable strings of ev.
func fit(kind string, ev any, truncated *bool, drops []func(), strs func() []*string, limit int) ([]byte, error) {
	out, err := json.Marshal(ev)
	if err != nil || len(out) <= limit {
		return out, err
	}

	*truncated = true
	for _, drop := range drops {
		drop()
		if out, err = json.Marshal(ev); err != nil || len(out) <= limit {
			return out, err
		}
	}

	return cutToFit(kind, ev, strs(), limit)
}

// cutToFit finds the largest per-string byte cap, down to minCutBytes, at
// which ev fits in limit, by binary search: a smaller cap never makes the
// event longer, because a cut string's encoding is never longer than the
// original's.
func cutToFit(kind string, ev any, fields []*string, limit int) ([]byte, error) {
	originals := make([]string, len(fields))
	longest := 0
	for i, field := range fields {
		originals[i] = *field
		longest = max(longest, len(*field))
	}

	encodeAt := func(maxBytes int) ([]byte, error) {
		for i, field := range fields {
			*field = cutString(originals[i], maxBytes)
		}
		return json.Marshal(ev)
	}

	out, err := encodeAt(minCutBytes)
	if err != nil {
		return nil, err
	}
	if len(out) > limit {
		return nil, fmt.Errorf("%s event is %d bytes even with every string cut to %d bytes, over the %d-byte limit: "+
			"the location header leaves too little room in the datagram", kind, len(out), minCutBytes, limit)
	}

	// Invariant: the event fits at low and does not fit at high.
	low, high := minCutBytes, longest
	for high-low > 1 {
		mid := low + (high-low)/2
		encoded, err := encodeAt(mid)
		if err != nil {
			return nil, err
		}
		if len(encoded) <= limit {
			low = mid
		} else {
			high = mid
		}
	}
	return encodeAt(low)
}

// cutString returns s when it is at most maxBytes long, else its longest
// prefix that ends at a rune boundary and leaves room for the ellipsis, plus
// the ellipsis. maxBytes must be at least len(ellipsis).
func cutString(s string, maxBytes int) string {
	if len(s) <= maxBytes {
		return s
	}
	budget := maxBytes - len(ellipsis)
	end := 0
	for end < len(s) {
		_, size := utf8.DecodeRuneInString(s[end:])
		if end+size > budget {
			break
		}
		end += size
	}
	return s[:end] + ellipsis
}

// tagNames returns the names of tags in order, each once, or nil for none.
func tagNames(tags []misp.Tag) []string {
	var names []string
	seen := make(map[string]bool, len(tags))
	for _, tag := range tags {
		if tag.Name == "" || seen[tag.Name] {
			continue
		}
		seen[tag.Name] = true
		names = append(names, tag.Name)
	}
	return names
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
