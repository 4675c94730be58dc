package render

import (
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/alert"
)

// Data is the input of a template. Every field is a string taken from the
// alert as written (numbers keep their JSON form), with invalid UTF-8
// repaired and control characters turned into spaces. A missing field is "".
// It is stored as JSON with messages waiting to be sent, so templates are
// rendered when the message goes out.
type Data struct {
	Alert  AlertInfo `json:"alert"`
	Rule   RuleInfo  `json:"rule"`
	Agent  Agent     `json:"agent"`
	MISP   MISP      `json:"misp"`
	Source Source    `json:"source"`

	// Suppressed is filled in when the message is sent, from the counters of
	// alerts that were not sent since the previous message.
	Suppressed Suppressed `json:"-"`
}

// AlertInfo identifies the MISP match alert itself.
type AlertInfo struct {
	ID       string `json:"id"`
	Time     string `json:"time"` // "timestamp" as Wazuh wrote it
	Location string `json:"location"`
	Manager  string `json:"manager"`
}

// RuleInfo is the rule that raised the MISP match alert (920100 and friends).
type RuleInfo struct {
	ID          string   `json:"id"`
	Level       string   `json:"level"`
	Description string   `json:"description"`
	Groups      []string `json:"groups"`
}

// Agent is a Wazuh agent.
type Agent struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	IP   string `json:"ip"`
}

// MISP is the match as custom-misp reported it under data.misp.
type MISP struct {
	EventID       string   `json:"event_id"`
	EventUUID     string   `json:"event_uuid"`
	EventInfo     string   `json:"event_info"`
	EventLink     string   `json:"event_link"` // http(s) URL of the event, or ""
	AttributeID   string   `json:"attribute_id"`
	AttributeUUID string   `json:"attribute_uuid"`
	Category      string   `json:"category"`
	Type          string   `json:"type"`
	Value         string   `json:"value"` // the indicator
	IoCKind       string   `json:"ioc_kind"`
	ToIDS         string   `json:"to_ids"`
	Comment       string   `json:"comment"`
	Tags          []string `json:"tags"`
	Delayed       bool     `json:"delayed"` // looked up late, from the spool
}

// Source is the alert in which custom-misp found the indicator.
type Source struct {
	AlertID         string `json:"alert_id"`
	AlertTime       string `json:"alert_time"`
	RuleID          string `json:"rule_id"`
	RuleLevel       string `json:"rule_level"`
	RuleDescription string `json:"rule_description"`
	Agent           Agent  `json:"agent"`
	Field           string `json:"field"` // the alert field that held the indicator
	Query           string `json:"query"`
}

// Suppressed counts the alerts not sent since the previous message went out.
type Suppressed struct {
	Count   int    // Deduped + Dropped
	Deduped int    // repeats of an alert sent within the dedupe window
	Dropped int    // alerts dropped by the rate limit or a full queue
	Since   string // "15:04", UTC, of the first one counted
	Date    string // "2006-01-02", UTC, of the first one counted
}

// NewSuppressed builds the template's view of the suppression counters.
func NewSuppressed(deduped, dropped int, since time.Time) Suppressed {
	s := Suppressed{Count: deduped + dropped, Deduped: deduped, Dropped: dropped}
	if s.Count > 0 && !since.IsZero() {
		s.Since = since.UTC().Format("15:04")
		s.Date = since.UTC().Format("2006-01-02")
	}
	return s
}

// NewData builds the template data from an alert. eventBase is the MISP
// base URL for event links (misp.event_url, else misp.url). The alert's own
// data.misp.event_url is used only when it points at eventBase's scheme and
// host.
func NewData(a *alert.Alert, eventBase string) *Data {
	get := func(path ...string) string {
		s, _ := a.String(path...)
		return clean(s)
	}
	misp := func(key ...string) string { return get(append([]string{"data", "misp"}, key...)...) }

	d := &Data{
		Alert: AlertInfo{
			ID:       get("id"),
			Time:     get("timestamp"),
			Location: get("location"),
			Manager:  get("manager", "name"),
		},
		Rule: RuleInfo{
			ID:          get("rule", "id"),
			Level:       get("rule", "level"),
			Description: get("rule", "description"),
			Groups:      cleanAll(a.Rule.Groups),
		},
		Agent: Agent{ID: get("agent", "id"), Name: get("agent", "name"), IP: get("agent", "ip")},
		MISP: MISP{
			EventID:       misp("event_id"),
			EventUUID:     misp("event_uuid"),
			EventInfo:     misp("event_info"),
			AttributeID:   misp("attribute_id"),
			AttributeUUID: misp("attribute_uuid"),
			Category:      misp("category"),
			Type:          misp("type"),
			Value:         misp("value"),
			IoCKind:       misp("ioc_kind"),
			ToIDS:         misp("to_ids"),
			Comment:       misp("comment"),
			Tags:          tags(a),
			Delayed:       misp("delayed") == "true",
		},
		Source: Source{
			AlertID:         misp("source", "alert_id"),
			AlertTime:       misp("source", "alert_timestamp"),
			RuleID:          misp("source", "rule_id"),
			RuleLevel:       misp("source", "rule_level"),
			RuleDescription: misp("source", "rule_description"),
			Agent: Agent{
				ID:   misp("source", "agent", "id"),
				Name: misp("source", "agent", "name"),
				IP:   misp("source", "agent", "ip"),
			},
			Field: misp("source", "field"),
			Query: misp("source", "query"),
		},
	}
	if d.MISP.Value == "" {
		d.MISP.Value = misp("attribute_value")
	}
	d.MISP.EventLink = eventLink(misp("event_url"), eventBase, d.MISP.EventID)
	return d
}

// maxLinkBytes bounds an event link. Links are never shortened, because a
// cut URL points elsewhere, so a longer one is left out.
const maxLinkBytes = 2048

// eventLink returns the alert's own event URL when it points at the
// configured MISP, else base + "/events/view/" + id, else "". An alert can
// be forged, so its URL must have the scheme and host of base and no user
// info, which could disguise another host. The id must be digits, as MISP
// event ids are.
func eventLink(fromAlert, base, id string) string {
	if base == "" || !IsWebURL(base) {
		return ""
	}
	if sameSite(fromAlert, base) && len(fromAlert) <= maxLinkBytes {
		return fromAlert
	}
	if id == "" || strings.ContainsFunc(id, func(r rune) bool { return r < '0' || r > '9' }) {
		return ""
	}
	return strings.TrimRight(base, "/") + "/events/view/" + id
}

// sameSite reports whether link is an http(s) URL without user info whose
// scheme and host, port included, equal those of base. Hosts are compared
// byte by byte after lowercasing ASCII letters only, so that no Unicode
// look-alike or case folding (the Kelvin sign folds to k) matches.
func sameSite(link, base string) bool {
	if !IsWebURL(link) {
		return false
	}
	l, err := url.Parse(link)
	if err != nil || l.User != nil {
		return false
	}
	b, err := url.Parse(base)
	if err != nil {
		return false
	}
	return l.Scheme == b.Scheme && asciiLower(l.Host) == asciiLower(b.Host)
}

func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

// tags reads data.misp.tags: an array of strings, or of objects with a
// "name" as MISP returns them.
func tags(a *alert.Alert) []string {
	v, ok := a.Value("data", "misp", "tags")
	if !ok {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil
	}
	var out []string
	for _, item := range list {
		switch t := item.(type) {
		case string:
			out = append(out, clean(t))
		case map[string]any:
			if name, ok := t["name"].(string); ok {
				out = append(out, clean(name))
			}
		}
	}
	return out
}

// clean repairs invalid UTF-8, replaces control characters (line breaks
// included) with spaces, so that a value stays on its template line, and
// removes format characters (Unicode category Cf). Those are invisible but
// reorder or hide text: "\u202eexe.txt" shows as "txt.exe". The one kept is
// a zero width joiner between two emoji, which draws them as one.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if !strings.ContainsFunc(s, needsCleaning) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	var prev rune
	for i, r := range s {
		switch {
		case isControl(r):
			r = ' '
		case r == zeroWidthJoiner:
			next, size := utf8.DecodeRuneInString(s[i+utf8.RuneLen(r):])
			if size == 0 || !joinsEmoji(prev) || !unicode.Is(unicode.So, next) {
				continue
			}
		case unicode.Is(unicode.Cf, r):
			continue
		}
		b.WriteRune(r)
		prev = r
	}
	return b.String()
}

const zeroWidthJoiner = '\u200d'

func needsCleaning(r rune) bool {
	return isControl(r) || unicode.Is(unicode.Cf, r)
}

func isControl(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
}

// joinsEmoji reports whether r can end the emoji before a joiner: a symbol,
// the emoji variation selector U+FE0F, or a skin tone modifier.
func joinsEmoji(r rune) bool {
	return unicode.Is(unicode.So, r) || r == '\ufe0f' || ('\U0001F3FB' <= r && r <= '\U0001F3FF')
}

func cleanAll(list []string) []string {
	if list == nil {
		return nil
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = clean(s)
	}
	return out
}

// fields returns a pointer to every string value in d, for shortening.
func (d *Data) fields() []*string {
	out := []*string{
		&d.Alert.ID, &d.Alert.Time, &d.Alert.Location, &d.Alert.Manager,
		&d.Rule.ID, &d.Rule.Level, &d.Rule.Description,
		&d.Agent.ID, &d.Agent.Name, &d.Agent.IP,
		&d.MISP.EventID, &d.MISP.EventUUID, &d.MISP.EventInfo, &d.MISP.AttributeID,
		&d.MISP.AttributeUUID, &d.MISP.Category, &d.MISP.Type, &d.MISP.Value,
		&d.MISP.IoCKind, &d.MISP.ToIDS, &d.MISP.Comment,
		&d.Source.AlertID, &d.Source.AlertTime, &d.Source.RuleID, &d.Source.RuleLevel,
		&d.Source.RuleDescription, &d.Source.Agent.ID, &d.Source.Agent.Name,
		&d.Source.Agent.IP, &d.Source.Field, &d.Source.Query,
	}
	for i := range d.Rule.Groups {
		out = append(out, &d.Rule.Groups[i])
	}
	for i := range d.MISP.Tags {
		out = append(out, &d.MISP.Tags[i])
	}
	return out
}

// lists returns a pointer to every list in d, for shortening.
func (d *Data) lists() []*[]string {
	return []*[]string{&d.Rule.Groups, &d.MISP.Tags}
}

// clone returns a deep copy of d.
func (d *Data) clone() *Data {
	c := *d
	c.Rule.Groups = append([]string(nil), d.Rule.Groups...)
	c.MISP.Tags = append([]string(nil), d.MISP.Tags...)
	return &c
}

// Sanitize applies the cleaning NewData does to every value, for data that
// did not come from NewData (decoded from a queued message, or built by a
// test).
func (d *Data) Sanitize() {
	for _, p := range d.fields() {
		*p = clean(*p)
	}
	if !IsWebURL(d.MISP.EventLink) || len(d.MISP.EventLink) > maxLinkBytes {
		d.MISP.EventLink = ""
	}
}
