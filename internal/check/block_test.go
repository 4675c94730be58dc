package check

import (
	"testing"
)

func TestCheckBlock(t *testing.T) {
	json := Integration{AlertFormat: "json"}
	with := func(b Integration, change func(*Integration)) Integration {
		change(&b)
		return b
	}
	tests := []struct {
		name    string
		program string
		block   Integration

		result string
		status Status
		want   string
	}{
		{"json", ProgramMISP, with(json, func(b *Integration) { b.Group = "sysmon_event1" }), "integration", OK, "<alert_format>json</alert_format>"},
		{"json with suffix", ProgramMISP, with(json, func(b *Integration) { b.AlertFormat = "json_full"; b.Level = "5" }), "integration", OK, "json_full"},
		{"xml format", ProgramMISP, with(json, func(b *Integration) { b.AlertFormat = "xml" }), "integration", Fail, "has <alert_format>xml</alert_format>"},
		{"space before token", ProgramMISP, with(json, func(b *Integration) { b.Group = "a,\tb" }), "integration group", Warn, `token "\tb"`},
		{"trailing comma", ProgramMISP, with(json, func(b *Integration) { b.Group = "a,b," }), "integration filter", OK, "<group>a,b,</group>"},
		{"misp without filter", ProgramMISP, json, "integration filter", Warn, "runs custom-misp for every alert"},
		{"misp selects own group", ProgramMISP, with(json, func(b *Integration) { b.Group = "sysmon_event1,misp_alert" }), "integration filter", Warn, "selects misp_alert"},
		{"misp selects own rule", ProgramMISP, with(json, func(b *Integration) { b.RuleID = "61603,920001" }), "integration filter", Warn, "selects 920001"},
		{"telegram by rule", ProgramTelegram, with(json, func(b *Integration) { b.RuleID = "920100, 920101" }), "integration filter", OK, "<rule_id>920100, 920101</rule_id>"},
		{"telegram by group", ProgramTelegram, with(json, func(b *Integration) { b.Group = "misp_alert" }), "integration filter", OK, "<group>misp_alert</group>"},
		{"telegram without filter", ProgramTelegram, json, "integration filter", Warn, "neither <rule_id> nor <group> selects the MISP match rules"},
		{"telegram other rules", ProgramTelegram, with(json, func(b *Integration) { b.RuleID = "100200"; b.Group = "misp_alert" }), "integration filter", Warn, "lists none of the MISP match rules"},
		{"telegram level too high", ProgramTelegram, with(json, func(b *Integration) { b.Group = "misp_alert"; b.Level = "13" }), "integration filter", Warn, "<level>13</level> is above"},
		{"api key", ProgramMISP, with(json, func(b *Integration) { b.Group = "x"; b.HasAPIKey = true }), "integration secrets", Warn, "/proc"},
		{"hook url", ProgramTelegram, with(json, func(b *Integration) { b.RuleID = "920100"; b.HasHookURL = true }), "integration secrets", Warn, "ossec.log"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.block.Name = tc.program
			e := &env{Options: Options{Program: tc.program}}

			results := checkBlock(e, "integration", tc.block)

			expect(t, results, tc.result, tc.status, tc.want)
		})
	}
}
