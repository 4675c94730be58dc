package indicator

import (
	"slices"
	"strings"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/alert"
)

// Sysmon event IDs with indicators.
const (
	sysmonProcessCreate    = 1
	sysmonNetworkConnect   = 3
	sysmonDriverLoad       = 6
	sysmonImageLoad        = 7
	sysmonFileCreateStream = 15
	sysmonDNSQuery         = 22
)

// extractWindowsSysmon reads a Sysmon event as the Wazuh eventchannel
// decoder writes it, under data.win with lower-camel keys.
func extractWindowsSysmon(a *alert.Alert, c *collector) {
	eventID := parseEventID(a.String("data", "win", "system", "eventID"))
	if eventID == 0 || !isWindowsSysmon(a) {
		return
	}

	switch eventID {
	case sysmonProcessCreate, sysmonDriverLoad, sysmonImageLoad:
		hashes, _ := a.String("data", "win", "eventdata", "hashes")
		c.addHashList(hashes, "data.win.eventdata.hashes")
	case sysmonFileCreateStream:
		// Event 15 names the field "hash", in the same format.
		hashes, _ := a.String("data", "win", "eventdata", "hash")
		c.addHashList(hashes, "data.win.eventdata.hash")
	case sysmonNetworkConnect:
		// destinationIsIpv6 is not needed because the address text shows
		// its family. NormalizeIP drops a private side.
		for _, key := range []string{"destinationIp", "sourceIp"} {
			s, _ := a.String("data", "win", "eventdata", key)
			c.addIP(s, "data.win.eventdata."+key, "")
		}
	case sysmonDNSQuery:
		extractDNSQuery(a, c)
	}
}

// isWindowsSysmon reports whether the eventchannel event comes from Sysmon.
// Other channels reuse the same event IDs.
func isWindowsSysmon(a *alert.Alert) bool {
	if a.HasGroup("sysmon") {
		return true
	}
	for _, key := range []string{"channel", "providerName"} {
		s, _ := a.String("data", "win", "system", key)
		if strings.Contains(strings.ToLower(s), "sysmon") {
			return true
		}
	}
	return false
}

// addHashList adds the hashes in a Sysmon hashes value such as
// "SHA1=…,MD5=…,SHA256=…,IMPHASH=…". Which algorithms appear, and in what
// order, follows the Sysmon configuration. IMPHASH (a hash of the import
// table, not of the file) and malformed parts are skipped.
func (c *collector) addHashList(list, field string) {
	for part := range strings.SplitSeq(list, ",") {
		if c.full() {
			return
		}
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		name = strings.TrimSpace(name)
		switch {
		case strings.EqualFold(name, "MD5"):
			c.addHash(MD5, value, field)
		case strings.EqualFold(name, "SHA1"):
			c.addHash(SHA1, value, field)
		case strings.EqualFold(name, "SHA256"):
			c.addHash(SHA256, value, field)
		}
	}
}

// extractDNSQuery reads a Sysmon event 22. The query name is a Domain
// indicator. Every indicator found in queryResults carries the normalised
// query name as its Query, even a query name that is not itself looked up
// (a single label such as "wpad", or a .local name).
func extractDNSQuery(a *alert.Alert, c *collector) {
	raw, _ := a.String("data", "win", "eventdata", "queryName")
	query, ok := canonicalName(raw)
	if ok && isPublicName(query) {
		c.add(Indicator{Kind: Domain, Value: query, Field: "data.win.eventdata.queryName", Query: query})
	}

	results, _ := a.String("data", "win", "eventdata", "queryResults")
	c.addDNSResults(results, "data.win.eventdata.queryResults", query)
}

// addDNSResults adds what a Sysmon queryResults value lists, such as
// "type:  5 a1834.dspg2.akamai.net;181.30.131.40;::ffff:52.119.198.91;".
// Each entry ends with ';'. An entry "type:  N name" is a record other than
// A or AAAA (N = 5 is a CNAME), whose name is added as a Domain. Any other
// entry is an address, added when it is global.
func (c *collector) addDNSResults(results, field, query string) {
	rest := results
	for !c.full() {
		entry, after, found := strings.Cut(rest, ";")
		if !found {
			// Sysmon ends every entry with ';', so text after the last
			// one is a cut-off entry: "1.2.3.4" may be the start of
			// "1.2.3.45".
			return
		}
		rest = after
		entry = strings.TrimSpace(entry)

		if record, ok := strings.CutPrefix(entry, "type:"); ok {
			recordType, target, ok := strings.Cut(strings.TrimSpace(record), " ")
			if !ok || !isAllDigits(recordType) {
				continue
			}
			if name, ok := NormalizeDomain(target); ok {
				c.add(Indicator{Kind: Domain, Value: name, Field: field, Query: query})
			}
			continue
		}
		c.addIP(entry, field, query)
	}
}

// linuxLayout is the pair of paths at which one decoding of Sysmon for
// Linux puts the event ID and the event data.
type linuxLayout struct {
	eventID   []string
	eventData []string
}

// linuxLayouts are the two decodings seen in the field. The Wazuh 4.x
// ruleset has no Sysmon for Linux decoder, so the keys depend on the
// third-party one in use.
var linuxLayouts = []linuxLayout{
	// SOCFortress decoder: data.system.eventID (eventId before mid-2023),
	// data.eventdata.DestinationIp but data.eventdata.sourceIp.
	{eventID: []string{"data", "system", "eventID"}, eventData: []string{"data", "eventdata"}},
	// Sysmon XML converted to JSON and decoded by Wazuh's json decoder.
	{eventID: []string{"data", "Event", "System", "EventID"}, eventData: []string{"data", "Event", "EventData", "Data"}},
}

// extractLinuxSysmon reads Sysmon for Linux event 3. Keys are matched
// case-insensitively because the decoders disagree on case, and Field
// keeps the case found in the alert. A value of "-" (Sysmon's empty
// value) fails to parse as an address and is skipped.
func extractLinuxSysmon(a *alert.Alert, c *collector) {
	for _, layout := range linuxLayouts {
		if parseEventID(a.StringFold(layout.eventID...)) != sysmonNetworkConnect {
			continue
		}
		for _, key := range []string{"DestinationIp", "SourceIp"} {
			v, keys, ok := a.ValueFold(append(slices.Clip(layout.eventData), key)...)
			s, isString := v.(string)
			if ok && isString {
				c.addIP(s, joinPath(keys), "")
			}
		}
	}
}
