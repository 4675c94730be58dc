package alert

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// ErrNotObject is returned by Decode for valid JSON that is not an object,
// such as an array or a string.
var ErrNotObject = errors.New("alert is not a JSON object: set <alert_format>json</alert_format> in the integration block")

// Alert is one alert object. Decode copies the typed fields from Raw, and a
// field that is missing or of another type stays at its zero value.
type Alert struct {
	ID        string // top-level "id", such as "1634973338.510123480"
	Timestamp string // "timestamp", as written by Wazuh
	Rule      Rule
	Agent     Agent
	Manager   string // "manager.name", the node that wrote the alert
	Location  string // "location"

	// Raw is the whole object, decoded with json.Decoder.UseNumber, so
	// numbers are json.Number values that keep their written form.
	Raw map[string]any
}

// Rule is the "rule" object of an alert.
type Rule struct {
	// ID is "rule.id". Alerts carry it as a string, and a number is kept
	// as written.
	ID string
	// Level is "rule.level", written as a number or, in alerts made from
	// an integration's output, as a string. It is 0 when absent or not an
	// integer.
	Level       int
	Description string
	// Groups holds the string elements of "rule.groups" in their order.
	// Use HasGroup for membership: positions differ between rules.
	Groups []string
	// Raw is the "rule" object, or nil when it is missing or not an object.
	Raw map[string]any
}

// Agent is the "agent" object of an alert. The manager's own alerts have
// agent ID "000" and often no IP.
type Agent struct {
	ID, Name, IP string
}

// Decode parses one alert. The data may end with a newline or other
// whitespace, but anything else after the object is an error. Decode
// returns ErrNotObject for valid JSON of another type.
func Decode(data []byte) (*Alert, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()

	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("alert is empty: expected one JSON object")
		}
		return nil, fmt.Errorf("alert is not valid JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("alert has data after the JSON object: expected exactly one object")
	}

	raw, ok := v.(map[string]any)
	if !ok {
		return nil, ErrNotObject
	}
	return fromRaw(raw), nil
}

// fromRaw fills the typed fields from an already decoded object.
func fromRaw(raw map[string]any) *Alert {
	a := &Alert{Raw: raw}
	a.ID, _ = a.String("id")
	a.Timestamp, _ = a.String("timestamp")
	a.Manager, _ = a.String("manager", "name")
	a.Location, _ = a.String("location")

	a.Rule.ID, _ = a.String("rule", "id")
	a.Rule.Description, _ = a.String("rule", "description")
	if s, ok := a.String("rule", "level"); ok {
		a.Rule.Level = parseLevel(s)
	}
	if groups, ok := a.Value("rule", "groups"); ok {
		list, _ := groups.([]any)
		for _, g := range list {
			if s, ok := g.(string); ok {
				a.Rule.Groups = append(a.Rule.Groups, s)
			}
		}
	}
	if r, ok := a.Value("rule"); ok {
		a.Rule.Raw, _ = r.(map[string]any)
	}

	a.Agent.ID, _ = a.String("agent", "id")
	a.Agent.Name, _ = a.String("agent", "name")
	a.Agent.IP, _ = a.String("agent", "ip")
	return a
}

// parseLevel reads a rule level such as "12", 12 or, from a non-integer
// number sent through an integration, "12.000000". Anything else is 0.
func parseLevel(s string) int {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	f, err := strconv.ParseFloat(s, 64)
	// 2^53 bounds the floats that convert to int without loss.
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0
	}
	return int(f)
}

// Value returns the value at path, following object keys exactly. With no
// path it returns Raw. A key that is present with a JSON null gives
// (nil, true). A missing key or a step through a non-object gives false.
func (a *Alert) Value(path ...string) (any, bool) {
	if a == nil || a.Raw == nil {
		return nil, false
	}
	var cur any = a.Raw
	for _, key := range path {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = obj[key]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

// ValueFold is Value with keys matched case-insensitively, as Wazuh rules
// match field names. At each step an exact key wins. Among several keys
// that differ only in case, the one that sorts first wins, so the result
// does not depend on map order. ValueFold also returns the keys as spelled
// in the alert, for reporting the path that matched.
func (a *Alert) ValueFold(path ...string) (value any, keys []string, ok bool) {
	if a == nil || a.Raw == nil {
		return nil, nil, false
	}
	var cur any = a.Raw
	keys = make([]string, 0, len(path))
	for _, want := range path {
		obj, isObj := cur.(map[string]any)
		if !isObj {
			return nil, nil, false
		}
		key, found := foldKey(obj, want)
		if !found {
			return nil, nil, false
		}
		cur = obj[key]
		keys = append(keys, key)
	}
	return cur, keys, true
}

// foldKey finds the key of obj that matches want: the exact key if present,
// else the smallest key equal to want under Unicode case folding.
func foldKey(obj map[string]any, want string) (string, bool) {
	if _, ok := obj[want]; ok {
		return want, true
	}
	var match string
	found := false
	for k := range obj {
		if strings.EqualFold(k, want) && (!found || k < match) {
			match, found = k, true
		}
	}
	return match, found
}

// String returns the scalar at path as text: a string as is, a number as
// written, a bool as "true" or "false". It returns false for a missing
// value, null, an object or an array.
func (a *Alert) String(path ...string) (string, bool) {
	v, ok := a.Value(path...)
	if !ok {
		return "", false
	}
	return scalarString(v)
}

// StringFold is String with keys matched as ValueFold matches them.
func (a *Alert) StringFold(path ...string) (string, bool) {
	v, _, ok := a.ValueFold(path...)
	if !ok {
		return "", false
	}
	return scalarString(v)
}

// HasGroup reports whether name is one of the rule's groups, compared
// exactly.
func (a *Alert) HasGroup(name string) bool {
	if a == nil {
		return false
	}
	return slices.Contains(a.Rule.Groups, name)
}

// scalarString converts a decoded JSON scalar to text. The float and int
// cases serve alerts whose Raw was built without UseNumber.
func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	default:
		return "", false
	}
}
