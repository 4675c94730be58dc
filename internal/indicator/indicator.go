package indicator

// Kind is the sort of value an indicator is. Its string form appears in
// events, logs and cache keys, so existing values must not change.
type Kind string

// The kinds extracted from Wazuh alerts.
const (
	MD5    Kind = "md5"
	SHA1   Kind = "sha1"
	SHA256 Kind = "sha256"
	IP     Kind = "ip"
	Domain Kind = "domain"
)

// Indicator is one normalised value taken from an alert, ready to look up.
type Indicator struct {
	Kind  Kind   `json:"kind"`
	Value string `json:"value"`
	// Field is the dotted alert path the value came from, for example
	// "data.win.eventdata.queryResults".
	Field string `json:"field"`
	// Query is the DNS query name when the value came from a Sysmon 22
	// event (the name itself, or an address in its answers), else "".
	Query string `json:"query,omitempty"`
}

// Key returns the identity used for deduplication and caching: kind and
// value, since the same value from two fields needs one lookup.
func (i Indicator) Key() string { return string(i.Kind) + ":" + i.Value }
