package event

// The structs below are the wire format. Field order is the JSON key order,
// and fields without omitempty are present in every event of their kind,
// because the rules and the Telegram template rely on them.

// Integration is the value of the top-level "integration" key of every
// event, which the base rule matches.
const Integration = "misp"

type wireAgent struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	IP   string `json:"ip,omitempty"`
}

type wireSource struct {
	AlertID         string    `json:"alert_id"`
	AlertTimestamp  string    `json:"alert_timestamp"`
	RuleID          string    `json:"rule_id"`
	RuleLevel       int       `json:"rule_level"`
	RuleDescription string    `json:"rule_description,omitempty"`
	Agent           wireAgent `json:"agent"`
	Field           string    `json:"field,omitempty"`
	Query           string    `json:"query,omitempty"`
}

type matchEvent struct {
	Integration string    `json:"integration"`
	MISP        matchBody `json:"misp"`
}

type matchBody struct {
	EventID        string     `json:"event_id"`
	EventUUID      string     `json:"event_uuid"`
	EventInfo      string     `json:"event_info,omitempty"`
	AttributeID    string     `json:"attribute_id"`
	AttributeUUID  string     `json:"attribute_uuid"`
	Category       string     `json:"category"`
	Type           string     `json:"type"`
	Value          string     `json:"value"`
	AttributeValue string     `json:"attribute_value,omitempty"`
	IOCKind        string     `json:"ioc_kind"`
	ToIDS          bool       `json:"to_ids"`
	Comment        string     `json:"comment,omitempty"`
	Tags           []string   `json:"tags,omitempty"`
	EventURL       string     `json:"event_url,omitempty"`
	Delayed        bool       `json:"delayed,omitempty"`
	Truncated      bool       `json:"truncated,omitempty"`
	Source         wireSource `json:"source"`
}

type failureEvent struct {
	Integration string      `json:"integration"`
	MISP        failureBody `json:"misp"`
}

type failureBody struct {
	Error      failureError `json:"error"`
	Indicators int          `json:"indicators"`
	Spooled    bool         `json:"spooled,omitempty"`
	Truncated  bool         `json:"truncated,omitempty"`
	Source     wireSource   `json:"source"`
}

type failureError struct {
	Kind       string `json:"kind"`
	Message    string `json:"message"`
	Hint       string `json:"hint,omitempty"`
	HTTPStatus int    `json:"http_status,omitempty"`
}

type breakerEvent struct {
	Integration string      `json:"integration"`
	MISP        breakerBody `json:"misp"`
}

type breakerBody struct {
	Error      breakerError `json:"error"`
	Indicators int          `json:"indicators"`
	Spooled    bool         `json:"spooled,omitempty"`
	Truncated  bool         `json:"truncated,omitempty"`
	Source     wireSource   `json:"source"`
}

type breakerError struct {
	Kind      string `json:"kind"`
	Cause     string `json:"cause"`
	OpenUntil string `json:"open_until,omitempty"`
	Skipped   int    `json:"skipped"`
	Message   string `json:"message"`
	Hint      string `json:"hint"`
}

func toWireSource(s Source) wireSource {
	return wireSource{
		AlertID:         s.AlertID,
		AlertTimestamp:  s.AlertTimestamp,
		RuleID:          s.RuleID,
		RuleLevel:       s.RuleLevel,
		RuleDescription: s.RuleDescription,
		Agent:           wireAgent{ID: s.Agent.ID, Name: s.Agent.Name, IP: s.Agent.IP},
		Field:           s.Field,
		Query:           s.Query,
	}
}

// The strings methods return pointers to the strings that trimming may cut.
// They leave out the kinds, which come from this program and which rules
// match whole, and open_until, a fixed-length timestamp.
func (s *wireSource) strings() []*string {
	return []*string{&s.AlertID, &s.AlertTimestamp, &s.RuleID, &s.RuleDescription,
		&s.Agent.ID, &s.Agent.Name, &s.Agent.IP, &s.Field, &s.Query}
}

func (m *matchEvent) strings() []*string {
	b := &m.MISP
	own := []*string{&b.EventID, &b.EventUUID, &b.EventInfo, &b.AttributeID, &b.AttributeUUID,
		&b.Category, &b.Type, &b.Value, &b.AttributeValue, &b.Comment, &b.EventURL}
	for i := range b.Tags {
		own = append(own, &b.Tags[i])
	}
	return append(own, b.Source.strings()...)
}

func (f *failureEvent) strings() []*string {
	e := &f.MISP.Error
	return append([]*string{&e.Message, &e.Hint}, f.MISP.Source.strings()...)
}

func (b *breakerEvent) strings() []*string {
	e := &b.MISP.Error
	return append([]*string{&e.Cause, &e.Message, &e.Hint}, b.MISP.Source.strings()...)
}
