package wazuh

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLocation(t *testing.T) {
	tests := []struct {
		name                     string
		id, agentName, ip, integ string

		want string
	}{
		{"manager id 000", "000", "wazuh-manager", "", "misp", "misp"},
		{"empty agent id", "", "", "", "misp", "misp"},
		{"ipv4 agent", "033", "WIN-HOST01", "192.168.252.120", "misp", "[033] (WIN-HOST01) 192.168.252.120->misp"},
		{"agent without ip", "010", "ubuntu", "", "misp", "[010] (ubuntu) any->misp"},
		{"ipv6 agent", "034", "lab", "fe80::1", "misp", "[034] (lab) fe80|:|:1->misp"},
		{"colon in name", "035", "host:8080", "10.0.0.5", "misp", "[035] (host|:8080) 10.0.0.5->misp"},
		{"pipe in name", "036", "a|b", "10.0.0.6", "misp", "[036] (a||b) 10.0.0.6->misp"},
		{"pipe before colon", "037", "a|:b", "10.0.0.7", "misp", "[037] (a|||:b) 10.0.0.7->misp"},
		{"brackets in name", "038", "x[1] (y)", "10.0.0.8", "misp", "[038] (x[1] (y)) 10.0.0.8->misp"},
		{"line breaks in name", "039", "a\nb\r\x00c", "10.0.0.9", "misp", "[039] (a b  c) 10.0.0.9->misp"},
		{"newline in ip", "040", "n", "1.2.3.4\n1:forged", "misp", "[040] (n) 1.2.3.4 1|:forged->misp"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Location(tc.id, tc.agentName, tc.ip, tc.integ)

			if got != tc.want {
				t.Fatalf("Location(%q, %q, %q, %q)\n got %q\nwant %q", tc.id, tc.agentName, tc.ip, tc.integ, got, tc.want)
			}
		})
	}
}

func TestMessageFraming(t *testing.T) {
	got := string(Message("[034] (lab) fe80|:|:1->misp", []byte(`{"integration":"misp","a":"b:c"}`)))

	want := `1:[034] (lab) fe80|:|:1->misp:{"integration":"misp","a":"b:c"}`
	if got != want {
		t.Fatalf("Message\n got %q\nwant %q", got, want)
	}
}

func TestLocationSurvivesAnalysisd(t *testing.T) {
	payload := `{"integration":"misp","misp":{"value":"fe80::2"}}`
	loc := Location("034", "lab|:x", "fe80::1", "misp")

	gotLoc, gotPayload, ok := splitDatagram(Message(loc, []byte(payload)))

	if !ok {
		t.Fatal("analysisd model found no location separator")
	}
	if want := "[034] (lab|:x) fe80::1->misp"; gotLoc != want {
		t.Errorf("location\n got %q\nwant %q", gotLoc, want)
	}
	if gotPayload != payload {
		t.Errorf("payload\n got %q\nwant %q", gotPayload, payload)
	}
}

// FuzzLocation checks that analysisd's parsing of Message(Location(...))
// gives back the agent fields (clipped, with CR, LF and NUL as spaces) and
// the whole payload, and that the header is a single line.
func FuzzLocation(f *testing.F) {
	f.Add("033", "WIN-HOST01", "192.168.252.120") // plain IPv4 agent
	f.Add("034", "lab", "fe80::1")                // IPv6: colons must be escaped
	f.Add("035", "a|b", "")                       // pipe doubled, empty ip becomes any
	f.Add("036", "a|:b", "::")                    // pipe right before colon
	f.Add("037", "x|", ":")                       // trailing pipe next to the added ")"
	f.Add("000", "manager", "1.1.1.1")            // manager form
	f.Add("", "", "")                             // no agent at all
	f.Add("038", "a\nb\r\x00", "1.2.3.4")         // line breaks and NUL
	f.Add("0:0", "]", "|")                        // separators in the id

	f.Fuzz(func(t *testing.T, id, agentName, ip string) {
		loc := Location(id, agentName, ip, "misp")

		if strings.ContainsAny(loc, "\r\n\x00") {
			t.Fatalf("location %q contains a line break or NUL", loc)
		}
		payload := `{"integration":"misp"}`
		gotLoc, gotPayload, ok := splitDatagram(Message(loc, []byte(payload)))
		if !ok {
			t.Fatalf("analysisd model found no separator in %q", loc)
		}
		if gotPayload != payload {
			t.Fatalf("payload after parsing %q: got %q, want %q", loc, gotPayload, payload)
		}
		want := "misp"
		if id != "" && id != ManagerAgentID {
			if ip == "" {
				ip = "any"
			}
			want = lineBreaker.Replace("["+clip(id)+"] ("+clip(agentName)+") "+clip(ip)) + "->misp"
		}
		if gotLoc != want {
			t.Fatalf("location %q parses as %q, want %q", loc, gotLoc, want)
		}
	})
}

// splitDatagram models how analysisd reads a queue datagram: it skips the
// queue id and its ":", cuts at the first ":" that is not escaped by "|"
// (a "|" escapes the byte after it, whatever that is), then unescapes the
// location: "||" becomes "|", "|x" becomes "x", and a trailing "|" stays.
func splitDatagram(msg []byte) (location, payload string, ok bool) {
	if len(msg) < 4 {
		return "", "", false
	}
	rest := string(msg[2:])

	cut := -1
	escaped := false
	for i := 0; i < len(rest); i++ {
		if escaped {
			escaped = false
			continue
		}
		if rest[i] == ':' {
			cut = i
			break
		}
		if rest[i] == '|' {
			escaped = true
		}
	}
	if cut < 0 {
		return "", "", false
	}

	raw := rest[:cut]
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		if raw[i] != '|' {
			b.WriteByte(raw[i])
			continue
		}
		switch {
		case i+1 == len(raw):
			b.WriteByte('|')
		case raw[i+1] == '|':
			b.WriteByte('|')
			i++
		}
	}
	return b.String(), rest[cut+1:], true
}

func TestLocationClipsLongAgentFields(t *testing.T) {
	name := strings.Repeat("é", 40000)

	location := Location("104", name, "10.0.0.1", "misp")

	if len(location) > 3*maxHeaderField+20 {
		t.Errorf("location has %d bytes, want the agent fields clipped", len(location))
	}
	if !utf8.ValidString(location) {
		t.Error("clipping split a UTF-8 sequence")
	}
	if !strings.HasSuffix(location, ") 10.0.0.1->misp") {
		t.Errorf("location lost its structure: %.60q…", location[len(location)-40:])
	}
}
