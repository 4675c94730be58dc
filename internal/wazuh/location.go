package wazuh

import (
	"strings"
	"unicode/utf8"
)

// ManagerAgentID is the agent id Wazuh gives to the manager itself. Events
// about the manager carry only the integration name as their location.
const ManagerAgentID = "000"

// headerEscaper applies analysisd's escaping for the location: a "|" is
// doubled and a ":" gets a "|" in front. analysisd splits the header at the
// first ":" that does not follow an unescaped "|", then removes the escapes,
// so an IPv6 agent address such as "fe80::1" survives. strings.Replacer
// scans once, so the "|" added before a ":" is never doubled again.
var headerEscaper = strings.NewReplacer("|", "||", ":", "|:")

// lineBreaker replaces the bytes that would end the datagram's first line or
// the C string analysisd reads.
var lineBreaker = strings.NewReplacer("\r", " ", "\n", " ", "\x00", " ")

// Location builds the location part of a queue message for an event about
// the given agent. For the manager (agent id "" or "000") it is the
// integration name. For any other agent it is
// "[<id>] (<name>) <ip>-><integration>" with an empty ip written as "any",
// which makes analysisd attribute the event to that agent. The agent part is
// escaped for analysisd, and CR, LF and NUL become spaces. integration is a
// constant of the caller's and is used as it is.
func Location(agentID, agentName, agentIP, integration string) string {
	if agentID == "" || agentID == ManagerAgentID {
		return integration
	}
	if agentIP == "" {
		agentIP = "any"
	}
	agentID, agentName, agentIP = clip(agentID), clip(agentName), clip(agentIP)
	agent := "[" + agentID + "] (" + agentName + ") " + agentIP
	agent = lineBreaker.Replace(agent)
	return headerEscaper.Replace(agent) + "->" + integration
}

// maxHeaderField bounds each agent field in the location. Wazuh limits agent
// names to 128 characters, so only a forged alert reaches it, and clipping
// keeps such a header from leaving no room for the event.
const maxHeaderField = 256

// clip cuts s to maxHeaderField bytes at a UTF-8 boundary.
func clip(s string) string {
	if len(s) <= maxHeaderField {
		return s
	}
	cut := maxHeaderField
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// Message frames payload as a datagram for the queue socket:
// "1:<location>:<payload>". The leading "1" routes it to analysisd's generic
// event queue, where the json decoder picks up payloads that start with `{"`.
func Message(location string, payload []byte) []byte {
	msg := make([]byte, 0, 3+len(location)+len(payload))
	msg = append(msg, "1:"...)
	msg = append(msg, location...)
	msg = append(msg, ':')
	return append(msg, payload...)
}
