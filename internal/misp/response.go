package misp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Attribute is one attribute of a restSearch response. MISP 2.4 sends ids
// and timestamps as strings, and MISP 2.5 sends them as JSON numbers unless
// PDO::ATTR_STRINGIFY_FETCHES is set. Ids are kept as strings and
// timestamps as Unix seconds.
type Attribute struct {
	ID       string `json:"id"`
	EventID  string `json:"event_id"`
	ObjectID string `json:"object_id"` // "0" outside objects
	// ObjectRelation is the attribute's role in its object, such as "ip",
	// or "" outside objects.
	ObjectRelation string `json:"object_relation,omitempty"`
	Category       string `json:"category"`
	Type           string `json:"type"`
	UUID           string `json:"uuid"`
	Comment        string `json:"comment,omitempty"`
	// Value is the whole value; composite types join their halves with "|".
	Value string `json:"value"`
	// EventUUID is event_uuid, or Event.UUID when MISP did not send it.
	EventUUID string `json:"event_uuid"`
	ToIDS     bool   `json:"to_ids"`
	Timestamp int64  `json:"timestamp"` // last edit, Unix seconds
	// FirstSeen and LastSeen are ISO 8601 with microseconds, as MISP sends
	// them, or "" when unset.
	FirstSeen string    `json:"first_seen,omitempty"`
	LastSeen  string    `json:"last_seen,omitempty"`
	Event     EventInfo `json:"event"`
	// Tags are the attribute's tags, then its event's tags (Inherited) when
	// the request set includeEventTags.
	Tags []Tag `json:"tags,omitempty"`
	// DecayScore is the score of the first decaying model, present only when
	// the search asked for decay scores and a model applies.
	DecayScore *float64 `json:"decay_score,omitempty"`
}

// EventInfo is the short Event block MISP attaches to each attribute.
type EventInfo struct {
	ID     string `json:"id"`
	UUID   string `json:"uuid"`
	Info   string `json:"info"`
	OrgID  string `json:"org_id"`
	OrgcID string `json:"orgc_id"` // the creator org
	// PublishTimestamp is Unix seconds, or 0 from MISP before 2.4.196,
	// which does not send it.
	PublishTimestamp int64 `json:"publish_timestamp,omitempty"`
}

// Tag is a tag on an attribute, or on its event when Inherited is set.
type Tag struct {
	Name      string `json:"name"`
	Inherited bool   `json:"inherited,omitempty"`
}

// DecodeSearchResponse decodes the body of a successful restSearch. It
// accepts MISP's {"response":{"Attribute":[...]}} and the empty
// {"response":[]} that some mocks send, ignores unknown keys, and returns
// an empty slice when nothing matched. Any other shape is an error.
func DecodeSearchResponse(body []byte) ([]Attribute, error) {
	var envelope struct {
		Response json.RawMessage `json:"response"`
	}
	if err := json.Unmarshal(body, &envelope); err != nil {
		return nil, fmt.Errorf("decode restSearch response: %w", err)
	}

	response := bytes.TrimSpace(envelope.Response)
	switch {
	case len(response) == 0 || string(response) == "null":
		return nil, errors.New(`decode restSearch response: no "response" key`)
	case response[0] == '[':
		var events []json.RawMessage
		if err := json.Unmarshal(response, &events); err != nil {
			return nil, fmt.Errorf("decode restSearch response: %w", err)
		}
		if len(events) > 0 {
			return nil, errors.New(`decode restSearch response: "response" is a list of events, not {"Attribute":[...]}; check that the request went to /attributes/restSearch`)
		}
		return []Attribute{}, nil
	case response[0] != '{':
		return nil, errors.New(`decode restSearch response: "response" is neither an object nor a list`)
	}

	var list struct {
		Attribute []wireAttribute `json:"Attribute"`
	}
	if err := json.Unmarshal(response, &list); err != nil {
		return nil, locateError(response, err)
	}
	attrs := make([]Attribute, 0, len(list.Attribute))
	for i := range list.Attribute {
		attrs = append(attrs, list.Attribute[i].attribute())
	}
	return attrs, nil
}

// locateError decodes the attributes one at a time to name the one that
// failed, which encoding/json does not do for errors of UnmarshalJSON.
// It runs only after a failure, so the fast path decodes in one pass.
func locateError(response []byte, err error) error {
	var list struct {
		Attribute []json.RawMessage `json:"Attribute"`
	}
	if listErr := json.Unmarshal(response, &list); listErr != nil {
		return fmt.Errorf(`decode restSearch response: "response.Attribute": %w`, listErr)
	}
	for i, item := range list.Attribute {
		var w wireAttribute
		if itemErr := json.Unmarshal(item, &w); itemErr != nil {
			return fmt.Errorf("decode restSearch response: attribute %d: %w", i, itemErr)
		}
	}
	return fmt.Errorf("decode restSearch response: %w", err)
}

// wireAttribute mirrors the JSON of one attribute with lenient field types.
type wireAttribute struct {
	ID             flexString    `json:"id"`
	EventID        flexString    `json:"event_id"`
	ObjectID       flexString    `json:"object_id"`
	ObjectRelation flexString    `json:"object_relation"`
	Category       flexString    `json:"category"`
	Type           flexString    `json:"type"`
	UUID           flexString    `json:"uuid"`
	Comment        flexString    `json:"comment"`
	Value          flexString    `json:"value"`
	EventUUID      flexString    `json:"event_uuid"`
	ToIDS          flexBool      `json:"to_ids"`
	Timestamp      flexInt       `json:"timestamp"`
	FirstSeen      flexString    `json:"first_seen"`
	LastSeen       flexString    `json:"last_seen"`
	Event          wireEvent     `json:"Event"`
	Tag            []wireTag     `json:"Tag"`
	DecayScore     []wireDecayed `json:"decay_score"`
}

type wireEvent struct {
	ID               flexString `json:"id"`
	UUID             flexString `json:"uuid"`
	Info             flexString `json:"info"`
	OrgID            flexString `json:"org_id"`
	OrgcID           flexString `json:"orgc_id"`
	PublishTimestamp flexInt    `json:"publish_timestamp"`
}

type wireTag struct {
	Name      flexString `json:"name"`
	Inherited flexBool   `json:"inherited"`
}

type wireDecayed struct {
	Score *flexFloat `json:"score"`
}

func (w *wireAttribute) attribute() Attribute {
	a := Attribute{
		ID:             string(w.ID),
		EventID:        string(w.EventID),
		ObjectID:       string(w.ObjectID),
		ObjectRelation: string(w.ObjectRelation),
		Category:       string(w.Category),
		Type:           string(w.Type),
		UUID:           string(w.UUID),
		Comment:        string(w.Comment),
		Value:          string(w.Value),
		EventUUID:      string(w.EventUUID),
		ToIDS:          bool(w.ToIDS),
		Timestamp:      int64(w.Timestamp),
		FirstSeen:      string(w.FirstSeen),
		LastSeen:       string(w.LastSeen),
		Event: EventInfo{
			ID:               string(w.Event.ID),
			UUID:             string(w.Event.UUID),
			Info:             string(w.Event.Info),
			OrgID:            string(w.Event.OrgID),
			OrgcID:           string(w.Event.OrgcID),
			PublishTimestamp: int64(w.Event.PublishTimestamp),
		},
	}
	if a.EventUUID == "" {
		a.EventUUID = a.Event.UUID
	}
	for _, t := range w.Tag {
		a.Tags = append(a.Tags, Tag{Name: string(t.Name), Inherited: bool(t.Inherited)})
	}
	if len(w.DecayScore) > 0 && w.DecayScore[0].Score != nil {
		score := float64(*w.DecayScore[0].Score)
		a.DecayScore = &score
	}
	return a
}

// UnmarshalJSON accepts PHP's empty array [] for an absent Event block.
func (e *wireEvent) UnmarshalJSON(b []byte) error {
	if string(b) == "[]" || string(b) == "null" {
		*e = wireEvent{}
		return nil
	}
	type plain wireEvent
	return json.Unmarshal(b, (*plain)(e))
}

// flexString is a JSON string, number (kept as its literal text) or null
// (kept as "").
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		*s = ""
	case b[0] == '"':
		v, err := unquote(b)
		if err != nil {
			return err
		}
		*s = flexString(v)
	case b[0] == '-' || b[0] >= '0' && b[0] <= '9':
		*s = flexString(b)
	default:
		return fmt.Errorf("expected a string or number, got %s", jsonKind(b))
	}
	return nil
}

// flexInt is an integer sent as a JSON number or a string of digits; null
// and "" are 0.
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	text := string(b)
	switch {
	case text == "null":
		*n = 0
		return nil
	case b[0] == '"':
		unquoted, err := unquote(b)
		if err != nil {
			return err
		}
		text = strings.TrimSpace(unquoted)
		if text == "" {
			*n = 0
			return nil
		}
	case b[0] != '-' && (b[0] < '0' || b[0] > '9'):
		return fmt.Errorf("expected an integer, got %s", jsonKind(b))
	}
	v, err := parseInteger(text)
	if err != nil {
		return err
	}
	*n = flexInt(v)
	return nil
}

// parseInteger reads a decimal integer, also in a float form that holds a
// whole number ("1617056037.0", "1.6e9").
func parseInteger(text string) (int64, error) {
	if v, err := strconv.ParseInt(text, 10, 64); err == nil {
		return v, nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, fmt.Errorf("expected an integer, got %q", truncate(text, 32))
	}
	return int64(f), nil
}

// flexBool is a flag sent as true/false, 0/1, "0"/"1" or "true"/"false";
// null and "" are false.
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	text := string(b)
	if b[0] == '"' {
		unquoted, err := unquote(b)
		if err != nil {
			return err
		}
		text = strings.TrimSpace(unquoted)
	}
	switch text {
	case "true", "1":
		*f = true
	case "false", "0", "null", "":
		*f = false
	default:
		return fmt.Errorf("expected a flag (true, false, 0 or 1), got %s", truncate(string(b), 32))
	}
	return nil
}

// flexFloat is a number sent as a JSON number or a numeric string.
type flexFloat float64

func (f *flexFloat) UnmarshalJSON(b []byte) error {
	text := string(b)
	if b[0] == '"' {
		unquoted, err := unquote(b)
		if err != nil {
			return err
		}
		text = unquoted
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return fmt.Errorf("expected a number, got %s", truncate(string(b), 32))
	}
	*f = flexFloat(v)
	return nil
}

// unquote decodes a JSON string literal that the decoder has already
// checked. Literals without escapes, the common case, are sliced directly;
// the rest go through encoding/json, which also replaces invalid UTF-8.
func unquote(b []byte) (string, error) {
	inner := b[1 : len(b)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), nil
	}
	var v string
	err := json.Unmarshal(b, &v)
	return v, err
}

// jsonKind names the JSON type of a raw value for an error message.
func jsonKind(b []byte) string {
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case 't', 'f':
		return "a boolean"
	default:
		return "an invalid value"
	}
}
