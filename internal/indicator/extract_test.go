package indicator

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/alert"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/testfixture"
)

// fixturePath returns the path of a shared fixture.
func fixturePath(t testing.TB, parts ...string) string {
	t.Helper()
	return testfixture.Path(t, parts...)
}

// readFixture returns a shared alert fixture.
func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	return testfixture.Read(t, "alerts", name)
}

// windowsAlert wraps the data object of an eventchannel event into an
// alert with the Sysmon base rule's groups.
func windowsAlert(data, group string) []byte {
	return []byte(`{"id":"1.1","timestamp":"2021-09-01T21:03:33.318+0000",` +
		`"rule":{"id":"61603","level":3,"groups":["windows","sysmon","` + group + `"]},` +
		`"agent":{"id":"001","name":"WIN-HOST","ip":"10.0.0.5"},` +
		`"decoder":{"name":"windows_eventchannel"},"data":` + data + `,"location":"EventChannel"}`)
}

// sysmonLinuxEvent is the part of a raw Sysmon for Linux event that the
// tests read.
type sysmonLinuxEvent struct {
	EventID string `xml:"System>EventID"`
	Data    []struct {
		Name  string `xml:"Name,attr"`
		Value string `xml:",chardata"`
	} `xml:"EventData>Data"`
}

func readLinuxEvent(t testing.TB) (eventID string, data map[string]string) {
	t.Helper()
	var ev sysmonLinuxEvent
	if err := xml.Unmarshal(readFixture(t, "linux_sysmon3_raw_event.xml"), &ev); err != nil {
		t.Fatal(err)
	}
	data = make(map[string]string)
	for _, d := range ev.Data {
		data[d.Name] = d.Value
	}
	if ev.EventID == "" || data["DestinationIp"] == "" {
		t.Fatalf("raw event has EventID %q and DestinationIp %q, want both", ev.EventID, data["DestinationIp"])
	}
	return ev.EventID, data
}

// socFortressAlert builds the alert that the SOCFortress decoder makes of
// the raw Linux event: data.system.<eventIDKey>, "DestinationIp" with a
// capital D and the other event data keys in lower camel case.
func socFortressAlert(t testing.TB, eventIDKey string) []byte {
	t.Helper()
	eventID, data := readLinuxEvent(t)
	eventData := make(map[string]string)
	for name, value := range data {
		key := strings.ToLower(name[:1]) + name[1:]
		if name == "DestinationIp" {
			key = name
		}
		eventData[key] = value
	}
	return mustJSON(t, map[string]any{
		"id":       "1640731176.1",
		"rule":     map[string]any{"id": "200152", "level": 3, "groups": []string{"linux", "sysmon", "sysmon_event3"}},
		"agent":    map[string]any{"id": "017", "name": "linux-host01", "ip": "192.168.252.191"},
		"decoder":  map[string]any{"name": "sysmon-linux"},
		"data":     map[string]any{"system": map[string]any{eventIDKey: eventID}, "eventdata": eventData},
		"location": "syslog",
	})
}

// xmlToJSONAlert builds the alert that a script converting the raw event
// to JSON produces: data.Event.System and data.Event.EventData.Data with
// the Sysmon names.
func xmlToJSONAlert(t testing.TB) []byte {
	t.Helper()
	eventID, data := readLinuxEvent(t)
	return mustJSON(t, map[string]any{
		"id":   "1640731176.2",
		"rule": map[string]any{"id": "200152", "level": 3, "groups": []string{"linux", "sysmon", "sysmon_event3"}},
		"data": map[string]any{"Event": map[string]any{
			"System":    map[string]any{"ProviderName": "Linux-Sysmon", "EventID": eventID},
			"EventData": map[string]any{"Data": data},
		}},
		"location": "/var/ossec/logs/active-responses.log",
	})
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func decode(t testing.TB, data []byte) *alert.Alert {
	t.Helper()
	a, err := alert.Decode(data)
	if err != nil {
		t.Fatalf("alert.Decode: %v", err)
	}
	return a
}

func hashes(field, sha1, md5, sha256 string) []Indicator {
	return []Indicator{
		{Kind: SHA1, Value: sha1, Field: field},
		{Kind: MD5, Value: md5, Field: field},
		{Kind: SHA256, Value: sha256, Field: field},
	}
}

func checkIndicators(t *testing.T, got, want []Indicator) {
	t.Helper()
	if got == nil {
		t.Error("Extract returned nil, want a non-nil slice")
	}
	if !slices.Equal(got, want) {
		t.Errorf("Extract got %d indicators:\n%s\nwant %d:\n%s", len(got), format(got), len(want), format(want))
	}
}

func format(list []Indicator) string {
	var b strings.Builder
	for _, ind := range list {
		fmt.Fprintf(&b, "\t%+v\n", ind)
	}
	return b.String()
}

// TestExtractFixtures runs every file in the alert fixtures directory, so
// a new fixture fails here until its expected indicators are written down.
func TestExtractFixtures(t *testing.T) {
	asIs := func(t testing.TB, data []byte) []byte { return data }
	eventData := func(group string) func(testing.TB, []byte) []byte {
		return func(t testing.TB, data []byte) []byte { return windowsAlert(string(data), group) }
	}
	archive := func(t testing.TB, data []byte) []byte {
		var v struct{ Data json.RawMessage }
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
		return windowsAlert(string(v.Data), "sysmon_event3")
	}
	socFortress := func(t testing.TB, _ []byte) []byte { return socFortressAlert(t, "eventID") }

	const (
		dnsQuery   = "img-s-msn-com.akamaized.net"
		dnsResults = "data.win.eventdata.queryResults"
	)
	tests := map[string]struct {
		build func(testing.TB, []byte) []byte
		want  []Indicator
	}{
		"win_sysmon1_alert_agent033.json": {asIs, hashes("data.win.eventdata.hashes",
			"ed96eead6232e2a1591ecd5b0b3544f98f5e3de1",
			"4b9e87d1547a4fc9e47d6a6d8dc5e381",
			"0479327e7136fa14f69d231d1b38cf654421073c8a0166bf6690a3d2c0b14ffa")},
		"win_sysmon1_event_data.json": {eventData("sysmon_event1"), hashes("data.win.eventdata.hashes",
			"3ea7cc066317ac45f963c2227c4c7c50aa16eb7c",
			"60ff40cfd7fb8fe41ee4fe9ae5fe1c51",
			"2198a7b58bccb758036b969ddae6cc2ece07565e2659a7c541a313a0492231a3")},
		"win_sysmon6_event_data.json": {eventData("sysmon_event6"), hashes("data.win.eventdata.hashes",
			"a33768c126545b2a5a1db905d9f5e8ecc44074e1",
			"52ca9687ffd4f6c5aa9c92a98ba3b319",
			"98535d8a486b339759cc73cf2e002e54ec887b0533add7064063b32a81c46f34")},
		"win_sysmon7_event_data.json": {eventData("sysmon_event7"), hashes("data.win.eventdata.hashes",
			"c509ba56fbc9ced227b85c2120cc3168ec06266b",
			"02ae3ea0e5f0c12724802768d3970e8a",
			"1287470ab7a43a3a01fcfce8ef5a4ef62adace1388e6e2172e0d9698c364c9b3")},
		// The all-zero IMPHASH is skipped with the other IMPHASH values.
		"win_sysmon15_event_data.json": {eventData("sysmon_event_15"), hashes("data.win.eventdata.hash",
			"66b6c5eba4baef803c9344763711ddef70b5cccd",
			"9876dc6d155d58377d83ff94ec83fba4",
			"07c83f0bf8f8a855cfd77b7e8f2014b8d808d14354b8ce540c2a9b0df11ae367")},
		"win_sysmon22_event_data.json": {eventData("sysmon_event_22"), []Indicator{
			{Kind: Domain, Value: dnsQuery, Field: "data.win.eventdata.queryName", Query: dnsQuery},
			{Kind: Domain, Value: "a1834.dspg2.akamai.net", Field: dnsResults, Query: dnsQuery},
			{Kind: IP, Value: "181.30.131.40", Field: dnsResults, Query: dnsQuery},
			{Kind: IP, Value: "181.30.131.42", Field: dnsResults, Query: dnsQuery},
		}},
		// Event ID 255 is not 22, whatever its task and message show.
		"win_sysmon_eid255_dnsquery_ipv4mapped_event_data.json": {eventData("sysmon_event_255"), nil},
		// Both sides are private.
		"win_sysmon3_private_ipv4_event_data.json": {eventData("sysmon_event3"), nil},
		// Both sides are 0:0:0:0:0:0:0:1.
		"win_sysmon3_ipv6_loopback_event_data.json": {eventData("sysmon_event3"), nil},
		// The message names 185.199.108.133, but only eventdata counts.
		"win_sysmon3_public_ipv4_archive_data.json": {archive, []Indicator{
			{Kind: IP, Value: "1.1.123.23", Field: "data.win.eventdata.destinationIp"},
		}},
		// The file is empty, and the hashes of empty input are dropped.
		"syscheck_added_agent010_alert.json": {asIs, nil},
		"syscheck_modified_agent000_alert.json": {asIs, []Indicator{
			{Kind: MD5, Value: "5192496b8adc2f0d705ca01bf3b4adba", Field: "syscheck.md5_after"},
			{Kind: SHA1, Value: "dc090d4e165df77333ccf6adaf0d4f96541fb22b", Field: "syscheck.sha1_after"},
			{Kind: SHA256, Value: "5583bbc9f63d24e44bbe34298d2f8421da25cdaada00e6c9ac765a16ded4204b", Field: "syscheck.sha256_after"},
		}},
		"linux_sysmon3_raw_event.xml": {socFortress, []Indicator{
			{Kind: IP, Value: "91.189.91.157", Field: "data.eventdata.DestinationIp"},
		}},
		// Event 11 (file create) has no indicators.
		"linux_sysmon11_ar_json_alert.json": {asIs, nil},
		// Output of integrations, including hashes under data.virustotal.
		"integration_output_virustotal_malicious_agent010_alert.json": {asIs, nil},
		"integration_output_dnsstat_alert.json":                       {asIs, nil},
		"misp_result_from_win_sysmon22_alert.json":                    {asIs, nil},
		"misp_result_from_linux_sysmon3_alert.json":                   {asIs, nil},
	}

	entries, err := os.ReadDir(fixturePath(t, "alerts"))
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, e := range entries {
		name := e.Name()
		if name == "SOURCES.md" {
			continue
		}
		seen++
		t.Run(name, func(t *testing.T) {
			tc, ok := tests[name]
			if !ok {
				t.Fatalf("fixture %s has no test case: add its expected indicators", name)
			}
			a := decode(t, tc.build(t, readFixture(t, name)))
			checkIndicators(t, Extract(a), tc.want)
		})
	}
	if seen != len(tests) {
		t.Errorf("found %d fixtures, want the %d in the table", seen, len(tests))
	}
}

func TestExtractLinuxLayouts(t *testing.T) {
	want := func(field string) []Indicator {
		return []Indicator{{Kind: IP, Value: "91.189.91.157", Field: field}}
	}
	tests := []struct {
		name string
		data []byte

		want []Indicator
	}{
		{name: "socfortress eventID", data: socFortressAlert(t, "eventID"), want: want("data.eventdata.DestinationIp")},
		{name: "socfortress eventId", data: socFortressAlert(t, "eventId"), want: want("data.eventdata.DestinationIp")},
		{name: "xml to json", data: xmlToJSONAlert(t), want: want("data.Event.EventData.Data.DestinationIp")},
		{name: "lower camel destination",
			data: []byte(`{"data":{"system":{"eventID":"3"},"eventdata":{"destinationIp":"8.8.8.8","sourceIp":"-"}}}`),
			want: []Indicator{{Kind: IP, Value: "8.8.8.8", Field: "data.eventdata.destinationIp"}}},
		{name: "global source",
			data: []byte(`{"data":{"system":{"eventId":3},"eventdata":{"DestinationIp":"192.168.1.5","sourceIp":"9.9.9.9"}}}`),
			want: []Indicator{{Kind: IP, Value: "9.9.9.9", Field: "data.eventdata.sourceIp"}}},
		{name: "upper case keys",
			data: []byte(`{"data":{"EVENT":{"SYSTEM":{"EVENTID":"3"},"EVENTDATA":{"DATA":{"DESTINATIONIP":"0:0:0:0:0:ffff:808:808"}}}}}`),
			want: []Indicator{{Kind: IP, Value: "8.8.8.8", Field: "data.EVENT.EVENTDATA.DATA.DESTINATIONIP"}}},
		{name: "dash values",
			data: []byte(`{"data":{"system":{"eventID":"3"},"eventdata":{"DestinationIp":"-","sourceIp":"-"}}}`)},
		{name: "other event",
			data: []byte(`{"data":{"system":{"eventID":"1"},"eventdata":{"DestinationIp":"8.8.8.8"}}}`)},
		{name: "number address",
			data: []byte(`{"data":{"system":{"eventID":"3"},"eventdata":{"DestinationIp":134744072}}}`)},
		{name: "null data",
			data: []byte(`{"data":{"system":{"eventID":"3"},"eventdata":null}}`)},
		{name: "array data",
			data: []byte(`{"data":{"Event":{"System":{"EventID":"3"},"EventData":{"Data":["8.8.8.8"]}}}}`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkIndicators(t, Extract(decode(t, tc.data)), tc.want)
		})
	}
}

// sysmonEvent builds an alert of a Windows Sysmon event from its
// eventdata, with the Sysmon channel and provider.
func sysmonEvent(eventID, eventData string) []byte {
	data := `{"win":{"system":{"eventID":` + eventID + `,"channel":"Microsoft-Windows-Sysmon/Operational",` +
		`"providerName":"Microsoft-Windows-Sysmon"},"eventdata":` + eventData + `}}`
	return windowsAlert(data, "sysmon_event")
}

func TestExtractWindowsSysmon(t *testing.T) {
	const (
		md5    = "4b9e87d1547a4fc9e47d6a6d8dc5e381"
		sha1   = "ed96eead6232e2a1591ecd5b0b3544f98f5e3de1"
		sha256 = "0479327e7136fa14f69d231d1b38cf654421073c8a0166bf6690a3d2c0b14ffa"
		field  = "data.win.eventdata.hashes"
		dst    = "data.win.eventdata.destinationIp"
		src    = "data.win.eventdata.sourceIp"
	)
	upper := strings.ToUpper
	tests := []struct {
		name string
		data []byte

		want []Indicator
	}{
		{name: "hashes reordered",
			data: sysmonEvent(`"7"`, `{"hashes":"IMPHASH=72491100E121C09085313F2BAF04AD3A,SHA256=`+upper(sha256)+`,MD5=`+upper(md5)+`"}`),
			want: []Indicator{{Kind: SHA256, Value: sha256, Field: field}, {Kind: MD5, Value: md5, Field: field}}},
		{name: "hashes subset",
			data: sysmonEvent(`"6"`, `{"hashes":"SHA256=`+sha256+`"}`),
			want: []Indicator{{Kind: SHA256, Value: sha256, Field: field}}},
		{name: "hashes malformed parts",
			data: sysmonEvent(`"1"`, `{"hashes":"SHA1=zz,garbage,=,SHA256,MD5=`+md5+`,SHA1=`+sha1[:39]+`"}`),
			want: []Indicator{{Kind: MD5, Value: md5, Field: field}}},
		{name: "hashes spaced lower",
			data: sysmonEvent(`"1"`, `{"hashes":" md5 = `+md5+` , sha1= `+sha1+`"}`),
			want: []Indicator{{Kind: MD5, Value: md5, Field: field}, {Kind: SHA1, Value: sha1, Field: field}}},
		{name: "hashes all zeros",
			data: sysmonEvent(`"1"`, `{"hashes":"MD5=00000000000000000000000000000000,IMPHASH=00000000000000000000000000000000"}`)},
		{name: "hashes repeated",
			data: sysmonEvent(`"1"`, `{"hashes":"MD5=`+md5+`,MD5=`+upper(md5)+`"}`),
			want: []Indicator{{Kind: MD5, Value: md5, Field: field}}},
		{name: "hashes of empty file",
			data: sysmonEvent(`"1"`, `{"hashes":"MD5=D41D8CD98F00B204E9800998ECF8427E,SHA1=`+sha1+`"}`),
			want: []Indicator{{Kind: SHA1, Value: sha1, Field: field}}},
		{name: "hashes unknown algorithm",
			data: sysmonEvent(`"1"`, `{"hashes":"SHA384=`+sha256+`,MD5X=`+md5+`"}`)},
		{name: "hashes dash", data: sysmonEvent(`"1"`, `{"hashes":"-"}`)},
		{name: "hashes not a string", data: sysmonEvent(`"1"`, `{"hashes":{"MD5":"`+md5+`"}}`)},
		{name: "event 1 ignores hash", data: sysmonEvent(`"1"`, `{"hash":"MD5=`+md5+`"}`)},
		{name: "event 15 ignores hashes", data: sysmonEvent(`"15"`, `{"hashes":"MD5=`+md5+`"}`)},
		{name: "event id number",
			data: sysmonEvent(`1`, `{"hashes":"MD5=`+md5+`"}`),
			want: []Indicator{{Kind: MD5, Value: md5, Field: field}}},
		{name: "event id other", data: sysmonEvent(`"23"`, `{"hashes":"MD5=`+md5+`"}`)},
		{name: "event id text", data: sysmonEvent(`"one"`, `{"hashes":"MD5=`+md5+`"}`)},
		{name: "event id null", data: sysmonEvent(`null`, `{"hashes":"MD5=`+md5+`"}`)},

		{name: "destination global",
			data: sysmonEvent(`"3"`, `{"destinationIp":"8.8.8.8","sourceIp":"192.168.0.121","destinationIsIpv6":"false"}`),
			want: []Indicator{{Kind: IP, Value: "8.8.8.8", Field: dst}}},
		{name: "source global",
			data: sysmonEvent(`"3"`, `{"destinationIp":"10.0.0.4","sourceIp":"185.199.108.133"}`),
			want: []Indicator{{Kind: IP, Value: "185.199.108.133", Field: src}}},
		{name: "both global",
			data: sysmonEvent(`"3"`, `{"destinationIp":"8.8.8.8","sourceIp":"9.9.9.9"}`),
			want: []Indicator{{Kind: IP, Value: "8.8.8.8", Field: dst}, {Kind: IP, Value: "9.9.9.9", Field: src}}},
		{name: "same address twice",
			data: sysmonEvent(`"3"`, `{"destinationIp":"8.8.8.8","sourceIp":"::ffff:8.8.8.8"}`),
			want: []Indicator{{Kind: IP, Value: "8.8.8.8", Field: dst}}},
		{name: "ipv6 uncompressed",
			data: sysmonEvent(`"3"`, `{"destinationIp":"2606:4700:4700:0:0:0:0:1111","destinationIsIpv6":true}`),
			want: []Indicator{{Kind: IP, Value: "2606:4700:4700::1111", Field: dst}}},
		{name: "wrong ipv6 hint",
			data: sysmonEvent(`"3"`, `{"destinationIp":"8.8.8.8","destinationIsIpv6":"true"}`),
			want: []Indicator{{Kind: IP, Value: "8.8.8.8", Field: dst}}},
		{name: "loopback", data: sysmonEvent(`"3"`, `{"destinationIp":"0:0:0:0:0:0:0:1","sourceIp":"0:0:0:0:0:0:0:1"}`)},
		{name: "zone", data: sysmonEvent(`"3"`, `{"destinationIp":"fe80::1%12"}`)},
		{name: "dash address", data: sysmonEvent(`"3"`, `{"destinationIp":"-","sourceIp":"-"}`)},
		{name: "number address", data: sysmonEvent(`"3"`, `{"destinationIp":134744072}`)},
		{name: "null eventdata", data: sysmonEvent(`"3"`, `null`)},
		{name: "array eventdata", data: sysmonEvent(`"3"`, `["8.8.8.8"]`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkIndicators(t, Extract(decode(t, tc.data)), tc.want)
		})
	}
}

func TestExtractSysmonRecognition(t *testing.T) {
	const md5 = "4b9e87d1547a4fc9e47d6a6d8dc5e381"
	eventData := `"eventdata":{"hashes":"MD5=` + md5 + `"}`
	want := []Indicator{{Kind: MD5, Value: md5, Field: "data.win.eventdata.hashes"}}
	tests := []struct {
		name string
		data string

		want []Indicator
	}{
		{name: "group only",
			data: `{"rule":{"groups":["sysmon","sysmon_eid1_detections","windows"]},"data":{"win":{"system":{"eventID":"1"},` + eventData + `}}}`,
			want: want},
		{name: "group last",
			data: `{"rule":{"groups":["windows","custom","sysmon"]},"data":{"win":{"system":{"eventID":"1"},` + eventData + `}}}`,
			want: want},
		{name: "channel only",
			data: `{"data":{"win":{"system":{"eventID":"1","channel":"Microsoft-Windows-Sysmon/Operational"},` + eventData + `}}}`,
			want: want},
		{name: "provider only",
			data: `{"rule":{"groups":"sysmon"},"data":{"win":{"system":{"eventID":"1","providerName":"Microsoft-Windows-Sysmon"},` + eventData + `}}}`,
			want: want},
		{name: "security channel",
			data: `{"rule":{"groups":["windows","windows_security"]},"data":{"win":{"system":{"eventID":"1","channel":"Security","providerName":"Microsoft-Windows-Security-Auditing"},` + eventData + `}}}`},
		{name: "group prefix only",
			data: `{"rule":{"groups":["windows","sysmon_event1"]},"data":{"win":{"system":{"eventID":"1"},` + eventData + `}}}`},
		{name: "group wrong case",
			data: `{"rule":{"groups":["Sysmon"]},"data":{"win":{"system":{"eventID":"1"},` + eventData + `}}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkIndicators(t, Extract(decode(t, []byte(tc.data))), tc.want)
		})
	}
}

func dnsEvent(queryName, queryResults string) []byte {
	// Marshalling a map of strings cannot fail.
	eventData, _ := json.Marshal(map[string]string{"queryName": queryName, "queryResults": queryResults})
	return sysmonEvent(`"22"`, string(eventData))
}

func TestExtractDNSQuery(t *testing.T) {
	const (
		nameField    = "data.win.eventdata.queryName"
		resultsField = "data.win.eventdata.queryResults"
	)
	mapped := func(t *testing.T) string {
		var v struct {
			Win struct {
				EventData struct {
					QueryResults string `json:"queryResults"`
				} `json:"eventdata"`
			} `json:"win"`
		}
		if err := json.Unmarshal(readFixture(t, "win_sysmon_eid255_dnsquery_ipv4mapped_event_data.json"), &v); err != nil {
			t.Fatal(err)
		}
		return v.Win.EventData.QueryResults
	}(t)

	tests := []struct {
		name    string
		query   string
		results string

		want []Indicator
	}{
		{name: "ipv4 mapped answer", query: "ssm.us-east-1.amazonaws.com", results: mapped, want: []Indicator{
			{Kind: Domain, Value: "ssm.us-east-1.amazonaws.com", Field: nameField, Query: "ssm.us-east-1.amazonaws.com"},
			{Kind: IP, Value: "52.119.198.91", Field: resultsField, Query: "ssm.us-east-1.amazonaws.com"},
		}},
		{name: "idn upper trailing dot", query: "WWW.Bücher.Example.", results: "2a00:1450:4001:082b:0000:0000:0000:200e;", want: []Indicator{
			{Kind: Domain, Value: "www.xn--bcher-kva.example", Field: nameField, Query: "www.xn--bcher-kva.example"},
			{Kind: IP, Value: "2a00:1450:4001:82b::200e", Field: resultsField, Query: "www.xn--bcher-kva.example"},
		}},
		{name: "single label query", query: "wpad", results: "8.8.8.8;", want: []Indicator{
			{Kind: IP, Value: "8.8.8.8", Field: resultsField, Query: "wpad"},
		}},
		{name: "local query", query: "printer.local", results: "192.168.1.20;fe80::1;"},
		{name: "negation query", query: "!evil.com", results: "8.8.8.8;", want: []Indicator{
			{Kind: IP, Value: "8.8.8.8", Field: resultsField},
		}},
		{name: "wildcard query", query: "%evil%", results: "type:  5 %evil%;"},
		{name: "operator query", query: "a&&b.com", results: "type:  5 a||b.com;"},
		{name: "private answers", query: "intranet.example.com", results: "10.1.2.3;192.168.0.4;::ffff:172.16.0.1;fd00::1;", want: []Indicator{
			{Kind: Domain, Value: "intranet.example.com", Field: nameField, Query: "intranet.example.com"},
		}},
		{name: "cname chain", query: "www.example.com", results: "type:  5 www.example.com.cdn.net;type:  5 E1.CDN.NET.;type:  12 ptr.example.org;93.184.216.34;", want: []Indicator{
			{Kind: Domain, Value: "www.example.com", Field: nameField, Query: "www.example.com"},
			{Kind: Domain, Value: "www.example.com.cdn.net", Field: resultsField, Query: "www.example.com"},
			{Kind: Domain, Value: "e1.cdn.net", Field: resultsField, Query: "www.example.com"},
			{Kind: Domain, Value: "ptr.example.org", Field: resultsField, Query: "www.example.com"},
			{Kind: IP, Value: "93.184.216.34", Field: resultsField, Query: "www.example.com"},
		}},
		{name: "cname to query name", query: "www.example.com", results: "type:  5 WWW.EXAMPLE.COM;", want: []Indicator{
			{Kind: Domain, Value: "www.example.com", Field: nameField, Query: "www.example.com"},
		}},
		{name: "malformed records", query: "x.example.com", results: "type:;type: 5;type:  x evil.com;type:  5 ;;  ;-;", want: []Indicator{
			{Kind: Domain, Value: "x.example.com", Field: nameField, Query: "x.example.com"},
		}},
		{name: "unterminated answer", query: "x.example.com", results: "8.8.8.8;9.9.9.9", want: []Indicator{
			{Kind: Domain, Value: "x.example.com", Field: nameField, Query: "x.example.com"},
			{Kind: IP, Value: "8.8.8.8", Field: resultsField, Query: "x.example.com"},
		}},
		{name: "no results", query: "x.example.com", results: "", want: []Indicator{
			{Kind: Domain, Value: "x.example.com", Field: nameField, Query: "x.example.com"},
		}},
		{name: "ip literal query", query: "8.8.8.8", results: "8.8.8.8;", want: []Indicator{
			{Kind: IP, Value: "8.8.8.8", Field: resultsField, Query: "8.8.8.8"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkIndicators(t, Extract(decode(t, dnsEvent(tc.query, tc.results))), tc.want)
		})
	}
}

func TestExtractSyscheck(t *testing.T) {
	const (
		md5    = "5192496b8adc2f0d705ca01bf3b4adba"
		sha1   = "dc090d4e165df77333ccf6adaf0d4f96541fb22b"
		sha256 = "5583bbc9f63d24e44bbe34298d2f8421da25cdaada00e6c9ac765a16ded4204b"
	)
	all := `"md5_after":"` + md5 + `","sha1_after":"` + sha1 + `","sha256_after":"` + sha256 + `"`
	fileGroups := `{"groups":["ossec","syscheck","syscheck_entry_added","syscheck_file"]}`
	tests := []struct {
		name     string
		rule     string
		syscheck string

		want []Indicator
	}{
		{name: "added", rule: fileGroups, syscheck: `{"event":"added",` + all + `}`, want: []Indicator{
			{Kind: MD5, Value: md5, Field: "syscheck.md5_after"},
			{Kind: SHA1, Value: sha1, Field: "syscheck.sha1_after"},
			{Kind: SHA256, Value: sha256, Field: "syscheck.sha256_after"},
		}},
		{name: "sha256 disabled", rule: fileGroups, syscheck: `{"event":"modified","md5_after":"` + md5 + `","sha1_after":"` + sha1 + `"}`,
			want: []Indicator{
				{Kind: MD5, Value: md5, Field: "syscheck.md5_after"},
				{Kind: SHA1, Value: sha1, Field: "syscheck.sha1_after"},
			}},
		{name: "only sha256", rule: `{}`, syscheck: `{"event":"added","sha256_after":"` + strings.ToUpper(sha256) + `"}`,
			want: []Indicator{{Kind: SHA256, Value: sha256, Field: "syscheck.sha256_after"}}},
		{name: "before ignored", rule: fileGroups, syscheck: `{"event":"modified","md5_before":"` + md5 + `"}`},
		{name: "deleted", rule: fileGroups, syscheck: `{"event":"deleted",` + all + `}`},
		{name: "event upper case", rule: fileGroups, syscheck: `{"event":"ADDED",` + all + `}`},
		{name: "event missing", rule: fileGroups, syscheck: `{` + all + `}`},
		{name: "registry group", rule: `{"groups":["ossec","syscheck","syscheck_entry_added","syscheck_registry"]}`,
			syscheck: `{"event":"added",` + all + `}`},
		{name: "registry value", rule: fileGroups, syscheck: `{"event":"added","value_name":"Run",` + all + `}`},
		{name: "registry arch", rule: fileGroups, syscheck: `{"event":"modified","arch":"[x64]",` + all + `}`},
		{name: "null value name", rule: fileGroups, syscheck: `{"event":"added","value_name":null,` + all + `}`},
		{name: "wrong types", rule: fileGroups, syscheck: `{"event":"added","md5_after":5192496,"sha1_after":["` + sha1 + `"],"sha256_after":null}`},
		{name: "not an object", rule: fileGroups, syscheck: `"added"`},
		{name: "empty file", rule: fileGroups,
			syscheck: `{"event":"added","md5_after":"d41d8cd98f00b204e9800998ecf8427e","sha1_after":"da39a3ee5e6b4b0d3255bfef95601890afd80709"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(`{"id":"1.1","rule":` + tc.rule + `,"syscheck":` + tc.syscheck + `,"location":"syscheck"}`)
			checkIndicators(t, Extract(decode(t, data)), tc.want)
		})
	}
}

func TestExtractHostileAlerts(t *testing.T) {
	tests := []struct {
		name string
		data string
	}{
		{name: "empty object", data: `{}`},
		{name: "data null", data: `{"data":null}`},
		{name: "data string", data: `{"data":"win"}`},
		{name: "win null", data: `{"rule":{"groups":["sysmon"]},"data":{"win":null}}`},
		{name: "system null", data: `{"rule":{"groups":["sysmon"]},"data":{"win":{"system":null,"eventdata":{"hashes":"MD5=4b9e87d1547a4fc9e47d6a6d8dc5e381"}}}}`},
		{name: "eventdata number", data: `{"rule":{"groups":["sysmon"]},"data":{"win":{"system":{"eventID":"1"},"eventdata":42}}}`},
		{name: "syscheck array", data: `{"syscheck":[{"event":"added"}]}`},
		{name: "groups object", data: `{"rule":{"groups":{"sysmon":true}},"data":{"win":{"system":{"eventID":"3"},"eventdata":{"destinationIp":"8.8.8.8"}}}}`},
		{name: "misp output", data: `{"rule":{"groups":["misp","misp_alert"]},"data":{"misp":{"value":"95.154.195.159","type":"ip-dst"}},"location":"misp"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkIndicators(t, Extract(decode(t, []byte(tc.data))), nil)
		})
	}

	if got := Extract(nil); got == nil || len(got) != 0 {
		t.Errorf("Extract(nil) = %#v, want an empty non-nil slice", got)
	}
	if got := Extract(&alert.Alert{}); got == nil || len(got) != 0 {
		t.Errorf("Extract(zero alert) = %#v, want an empty non-nil slice", got)
	}
}

func TestExtractCap(t *testing.T) {
	var results strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&results, "8.8.%d.%d;", i/256, i%256)
	}
	got := Extract(decode(t, dnsEvent("many.example.com", results.String())))

	if len(got) != MaxIndicators {
		t.Fatalf("Extract got %d indicators, want MaxIndicators = %d", len(got), MaxIndicators)
	}
	if got[0].Kind != Domain || got[0].Value != "many.example.com" {
		t.Errorf("first indicator = %+v, want the query name", got[0])
	}
	last := got[MaxIndicators-1]
	if want := "8.8.0." + strconv.Itoa(MaxIndicators-2); last.Value != want {
		t.Errorf("last indicator = %q, want %q (the first answers are kept)", last.Value, want)
	}
}

func TestExtractHugeStrings(t *testing.T) {
	huge := strings.Repeat("A", 4<<20)
	tests := []struct {
		name string
		data []byte
	}{
		{name: "hashes", data: sysmonEvent(`"1"`, `{"hashes":"MD5=`+huge+`,`+strings.Repeat("SHA1=x,", 1<<18)+`"}`)},
		{name: "address", data: sysmonEvent(`"3"`, `{"destinationIp":"`+huge+`"}`)},
		{name: "query name", data: dnsEvent(huge+".com", "type:  5 "+huge+".net;"+strings.Repeat(";", 1<<20))},
		{name: "channel", data: []byte(`{"data":{"win":{"system":{"eventID":"1","channel":"` + huge + `"},"eventdata":{}}}}`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkIndicators(t, Extract(decode(t, tc.data)), nil)
		})
	}
}

// checkExtracted checks the properties every Extract result has.
func checkExtracted(t *testing.T, got []Indicator) {
	t.Helper()
	if got == nil {
		t.Fatal("Extract returned nil")
	}
	if len(got) > MaxIndicators {
		t.Fatalf("Extract got %d indicators, want at most %d", len(got), MaxIndicators)
	}
	keys := make(map[string]bool)
	for _, ind := range got {
		if keys[ind.Key()] {
			t.Errorf("indicator %q appears twice", ind.Key())
		}
		keys[ind.Key()] = true

		if !isSafeSearchValue(ind.Value) {
			t.Errorf("indicator %+v has a value MISP reads as an operator", ind)
		}
		if ind.Field == "" {
			t.Errorf("indicator %+v has no field", ind)
		}

		var again string
		var ok bool
		switch ind.Kind {
		case MD5, SHA1, SHA256:
			again, ok = NormalizeHash(ind.Kind, ind.Value)
		case IP:
			again, ok = NormalizeIP(ind.Value)
		case Domain:
			again, ok = NormalizeDomain(ind.Value)
		default:
			t.Errorf("indicator %+v has an unknown kind", ind)
			continue
		}
		if !ok || again != ind.Value {
			t.Errorf("indicator %+v normalises to %q, %v, want itself", ind, again, ok)
		}
		if ind.Query != "" {
			if q, ok := canonicalName(ind.Query); !ok || q != ind.Query {
				t.Errorf("indicator %+v has a query that is not a canonical name", ind)
			}
		}
	}
}

func FuzzExtract(f *testing.F) {
	// A real Sysmon event 1 alert.
	f.Add(readFixture(f, "win_sysmon1_alert_agent033.json"))
	// A real syscheck alert.
	f.Add(readFixture(f, "syscheck_modified_agent000_alert.json"))
	// A DNS event with a CNAME and IPv4-mapped answers.
	f.Add(dnsEvent("img-s-msn-com.akamaized.net", "type:  5 a1834.dspg2.akamai.net;181.30.131.40;::ffff:52.119.198.91;"))
	// A network event with both sides global and a zone.
	f.Add(sysmonEvent(`"3"`, `{"destinationIp":"2606:4700:4700:0:0:0:0:1111","sourceIp":"fe80::1%eth0"}`))
	// Both Linux layouts.
	f.Add(socFortressAlert(f, "eventId"))
	f.Add(xmlToJSONAlert(f))
	// MISP operators in every field that is read.
	f.Add(dnsEvent("!evil.com", "type:  5 %evil%;type:  5 a&&b.com;||8.8.8.8;"))
	// Wrong types along the paths.
	f.Add([]byte(`{"rule":{"groups":["sysmon"]},"data":{"win":{"system":{"eventID":22},"eventdata":{"queryName":1,"queryResults":[]}}},"syscheck":{"event":"added","md5_after":{}}}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := alert.Decode(data)
		if err != nil {
			return
		}
		checkExtracted(t, Extract(a))
	})
}

func BenchmarkDecodeExtract(b *testing.B) {
	data := readFixture(b, "win_sysmon1_alert_agent033.json")
	b.ReportAllocs()
	for b.Loop() {
		a, err := alert.Decode(data)
		if err != nil {
			b.Fatal(err)
		}
		if got := Extract(a); len(got) != 3 {
			b.Fatalf("Extract got %d indicators, want 3", len(got))
		}
	}
}
