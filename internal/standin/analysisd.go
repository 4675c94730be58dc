package standin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// AlertFromMessage turns a queue datagram ("1:<location>:<json>") into the
// alert that Wazuh 4.x would write for it with the shipped rules. It is close
// enough for the demo and tests to feed custom-telegram. Scalars become
// strings as in analysisd's JSON decoder, the agent comes from the location
// header, and the rule is the one rules/ would choose.
//
// NOTE: this is a stand-in, not analysisd. The ruleset test in rules/ checks
// the XML itself; keep the rule ids and descriptions here in step with it.
func AlertFromMessage(message []byte, id string, now time.Time) (map[string]any, error) {
	location, payload, err := SplitMessage(message)
	if err != nil {
		return nil, err
	}

	decoder := json.NewDecoder(bytes.NewReader(payload))
	decoder.UseNumber()
	var data map[string]any
	if err := decoder.Decode(&data); err != nil {
		return nil, fmt.Errorf("event payload is not a JSON object: %w", err)
	}
	stringified, _ := stringifyScalars(data).(map[string]any)

	agent := map[string]any{"id": "000", "name": "wazuh-manager"}
	integration := location
	if strings.HasPrefix(location, "[") {
		agentID, rest, _ := strings.Cut(location[1:], "] (")
		name, rest, _ := strings.Cut(rest, ") ")
		ip, target, _ := strings.Cut(rest, "->")
		agent = map[string]any{"id": agentID, "name": name}
		if ip != "any" {
			agent["ip"] = ip
		}
		integration = target
	}

	ruleID, level, description, groups := chooseRule(stringified)
	return map[string]any{
		"timestamp": now.UTC().Format("2006-01-02T15:04:05.000+0000"),
		"rule": map[string]any{
			"level":       level,
			"description": description,
			"id":          ruleID,
			"firedtimes":  1,
			"mail":        level >= 12,
			"groups":      groups,
		},
		"agent":    agent,
		"manager":  map[string]any{"name": "wazuh-manager"},
		"id":       id,
		"decoder":  map[string]any{"name": "json"},
		"data":     stringified,
		"location": integration,
	}, nil
}

// SplitMessage separates a queue datagram into its location (unescaped as
// analysisd does: "|:" is a literal colon, "||" a literal bar) and payload.
func SplitMessage(message []byte) (string, []byte, error) {
	if len(message) < 4 || message[0] != '1' || message[1] != ':' {
		return "", nil, errors.New(`queue message does not start with "1:"`)
	}
	var location strings.Builder
	rest := message[2:]
	for i := 0; i < len(rest); i++ {
		switch {
		case rest[i] == '|' && i+1 < len(rest) && (rest[i+1] == ':' || rest[i+1] == '|'):
			location.WriteByte(rest[i+1])
			i++
		case rest[i] == ':':
			return location.String(), rest[i+1:], nil
		default:
			location.WriteByte(rest[i])
		}
	}
	return "", nil, errors.New("queue message has no location separator")
}

func chooseRule(data map[string]any) (id string, level int, description string, groups []string) {
	misp, _ := data["misp"].(map[string]any)
	field := func(path ...string) string {
		var current any = misp
		for _, key := range path {
			object, ok := current.(map[string]any)
			if !ok {
				return ""
			}
			current = object[key]
		}
		text, _ := current.(string)
		return text
	}

	errorGroups := []string{"misp", "misp_error"}
	matchGroups := []string{"misp", "misp_alert"}
	match := fmt.Sprintf("%s [Category: %s]", field("value"), field("category"))
	switch {
	case field("error", "kind") == "breaker_open":
		return "920002", 5, fmt.Sprintf("MISP lookups paused after repeated %s failures: %s alerts skipped", field("error", "cause"), field("error", "skipped")), errorGroups
	case field("error", "kind") != "":
		return "920001", 5, fmt.Sprintf("MISP lookup failed (%s): %s", field("error", "kind"), field("error", "message")), errorGroups
	case field("event_id") == "" || field("category") == "" || field("value") == "":
		return "920000", 3, "MISP integration event", []string{"misp"}
	case field("delayed") == "true":
		return "920102", 12, "MISP IoC match detected late, after MISP was unreachable at alert time: " + match, matchGroups
	case field("source", "query") != "":
		return "920101", 12, fmt.Sprintf("MISP IoC match detected in the DNS query for %s: %s", field("source", "query"), match), matchGroups
	case field("ioc_kind") == "md5" || field("ioc_kind") == "sha1" || field("ioc_kind") == "sha256":
		return "920103", 12, "MISP IoC match detected: file hash " + match, matchGroups
	case true:
		return "920100", 12, "MISP IoC match detected: " + match, matchGroups
	default:
		return "920000", 3, "MISP integration event", []string{"misp"}
	}
}

// stringifyScalars mirrors analysisd's JSON decoder: numbers and booleans in
// objects become strings, null disappears, arrays keep their elements.
func stringifyScalars(value any) any {
	switch v := value.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for key, element := range v {
			if element == nil {
				continue
			}
			out[key] = stringifyScalars(element)
		}
		return out
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return strconv.FormatInt(i, 10)
		}
		f, _ := v.Float64()
		return strconv.FormatFloat(f, 'f', 6, 64)
	case bool:
		return strconv.FormatBool(v)
	default:
		return v
	}
}
