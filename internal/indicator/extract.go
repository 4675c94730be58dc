package indicator

import (
	"strconv"
	"strings"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/alert"
)

// MaxIndicators bounds the indicators taken from one alert, so a crafted
// alert (a DNS answer with thousands of addresses) cannot turn into
// thousands of MISP lookups within one integratord run. Extract keeps the
// first MaxIndicators in order of discovery.
const MaxIndicators = 64

// Extract returns the indicators in a, deduplicated by Key and in the order
// they were found, at most MaxIndicators. It reads:
//
//   - Windows Sysmon events, recognised by data.win.system.eventID together
//     with a Sysmon channel or provider name or the rule group "sysmon".
//     Events 1, 6, 7 and 15 give hashes, event 3 its global addresses, and
//     event 22 the query name, CNAME targets and global addresses;
//   - Sysmon for Linux event 3 in the SOCFortress decoder layout
//     (data.system, data.eventdata) and the XML-to-JSON layout
//     (data.Event.System, data.Event.EventData.Data), with keys matched
//     case-insensitively;
//   - syscheck file events "added" and "modified": the md5, sha1 and
//     sha256 after the change.
//
// Which of these apply is decided by the fields of the event and by group
// membership, never by a group's position in rule.groups. An alert with
// none of them, such as an integration's output, gives an empty slice.
// Hashes of empty input are dropped, because every empty file has them.
func Extract(a *alert.Alert) []Indicator {
	c := collector{}
	if a != nil {
		extractWindowsSysmon(a, &c)
		extractLinuxSysmon(a, &c)
		extractSyscheck(a, &c)
	}
	if c.list == nil {
		return []Indicator{}
	}
	return c.list
}

// collector gathers indicators in order, dropping repeats and everything
// past MaxIndicators.
type collector struct {
	list []Indicator
	seen map[string]bool
}

func (c *collector) full() bool { return len(c.list) >= MaxIndicators }

func (c *collector) add(ind Indicator) {
	// Every normaliser already guarantees a safe value, so this check
	// only keeps a future normaliser from sending MISP an operator.
	if c.full() || !isSafeSearchValue(ind.Value) {
		return
	}
	key := ind.Key()
	if c.seen[key] {
		return
	}
	if c.seen == nil {
		c.seen = make(map[string]bool)
	}
	c.seen[key] = true
	c.list = append(c.list, ind)
}

// addHash adds s as a hash of kind when it normalises and is not the hash
// of empty input.
func (c *collector) addHash(kind Kind, s, field string) {
	value, ok := NormalizeHash(kind, s)
	if !ok || emptyInputHashes[value] {
		return
	}
	c.add(Indicator{Kind: kind, Value: value, Field: field})
}

// addIP adds s when it is a global address.
func (c *collector) addIP(s, field, query string) {
	if value, ok := NormalizeIP(s); ok {
		c.add(Indicator{Kind: IP, Value: value, Field: field, Query: query})
	}
}

// isSafeSearchValue reports whether MISP's restSearch takes v as a literal
// value: it must not start with '!' (negation), start or end with '%'
// (LIKE search), or contain "&&" or "||" (which split it into a list).
func isSafeSearchValue(v string) bool {
	return v != "" &&
		!strings.HasPrefix(v, "!") &&
		!strings.HasPrefix(v, "%") && !strings.HasSuffix(v, "%") &&
		!strings.Contains(v, "&&") && !strings.Contains(v, "||")
}

// parseEventID reads an event ID written as a string or a number. It
// returns 0 for anything else.
func parseEventID(s string, ok bool) int {
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// joinPath returns the dotted field name of a path.
func joinPath(path []string) string { return strings.Join(path, ".") }
