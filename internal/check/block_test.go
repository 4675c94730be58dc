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
		want   []string
	}{
		{"json", ProgramMISP, with(json, func(b *Integration) { b.Group = "sysmon_event1" }), "integration", OK, []string{"<alert_format>json</alert_format>"}},
		{"json with suffix", ProgramMISP, with(json, func(b *Integration) { b.AlertFormat = "json_full"; b.Level = "5" }), "integration", OK, []string{"json_full"}},
		{"xml format", ProgramMISP, with(json, func(b *Integration) { b.AlertFormat = "xml" }), "integration", Fail, []string{"has <alert_format>xml</alert_format>"}},
		{"space before token", ProgramMISP, with(json, func(b *Integration) { b.Group = "a,\tb" }), "integration group", Warn, []string{`token "\tb"`}},
		{"trailing comma", ProgramMISP, with(json, func(b *Integration) { b.Group = "a,b," }), "integration filter", OK, []string{"<group>a,b,</group>"}},
		{"misp without filter", ProgramMISP, json, "integration filter", Warn, []string{"runs custom-misp for every alert"}},
		{"misp selects own group", ProgramMISP, with(json, func(b *Integration) { b.Group = "sysmon_event1,misp_alert" }), "integration filter", Warn, []string{"selects misp_alert"}},
		{"misp selects own rule", ProgramMISP, with(json, func(b *Integration) { b.RuleID = "61603,920001" }), "integration filter", Warn, []string{"selects 920001"}},
		{"telegram every rule", ProgramTelegram, with(json, func(b *Integration) { b.RuleID = "920100,920101,920102,920103" }), "integration filter", OK, []string{"<rule_id>920100,920101,920102,920103</rule_id>"}},
		{"telegram rules spaced", ProgramTelegram, with(json, func(b *Integration) { b.RuleID = " 920103, 920102 ,920101,,920100" }), "integration filter", OK, []string{"<rule_id>"}},
		{"telegram first rule only", ProgramTelegram, with(json, func(b *Integration) { b.RuleID = "920100" }), "integration filter", Warn, []string{"lets only 920100 of the MISP match rules through, so custom-telegram never gets the matches of rule 920101, 920102, 920103", "<rule_id>920100,920101,920102,920103</rule_id>"}},
		{"telegram two rules", ProgramTelegram, with(json, func(b *Integration) { b.RuleID = "920100, 920101" }), "integration filter", Warn, []string{"never gets the matches of rule 920102, 920103"}},
		{"telegram group and one rule", ProgramTelegram, with(json, func(b *Integration) { b.Group = "misp_alert"; b.RuleID = "920101" }), "integration filter", Warn, []string{"lets only 920101 of", "never gets the matches of rule 920100, 920102, 920103"}},
		{"rule id junk last", ProgramTelegram, with(json, func(b *Integration) { b.RuleID = "920100,920101,920102,920103,abc" }), "integration rule_id", Warn, []string{`<rule_id> item "abc" is not a rule id: integratord stops reading <rule_id> there`}},
		{"rule id junk first", ProgramTelegram, with(json, func(b *Integration) { b.RuleID = "abc,920100,920101,920102,920103" }), "integration rule_id", Fail, []string{`item "abc" is not a rule id`, "before reading any id, so the block does not filter on rule ids at all"}},
		{"rule id junk between", ProgramTelegram, with(json, func(b *Integration) { b.RuleID = "920100, 920101,…,abc" }), "integration rule_id", Fail, []string{`item "…" is not a rule id`, "so it ignores abc"}},
		{"rule id junk hides rules", ProgramTelegram, with(json, func(b *Integration) { b.RuleID = "920100,x,920101,920102,920103" }), "integration filter", Warn, []string{"never gets the matches of rule 920101, 920102, 920103"}},
		{"rule id suffix", ProgramMISP, with(json, func(b *Integration) { b.RuleID = "554x,550" }), "integration rule_id", Warn, []string{`item "554x" is not a rule id: integratord reads it as 554 and ignores the rest`}},
		{"rule id out of range", ProgramMISP, with(json, func(b *Integration) { b.RuleID = "554,99999999999" }), "integration rule_id", Warn, []string{`item "99999999999" is not a rule id: it is out of range`}},
		{"rule id negative", ProgramMISP, with(json, func(b *Integration) { b.RuleID = "554,-550" }), "integration rule_id", Fail, []string{`item "-550" is not a rule id: integratord stops reading <rule_id> there`}},
		{"telegram by group", ProgramTelegram, with(json, func(b *Integration) { b.Group = "misp_alert" }), "integration filter", OK, []string{"<group>misp_alert</group>"}},
		{"telegram without filter", ProgramTelegram, json, "integration filter", Warn, []string{"neither <rule_id> nor <group> selects the MISP match rules"}},
		{"telegram other rules", ProgramTelegram, with(json, func(b *Integration) { b.RuleID = "100200"; b.Group = "misp_alert" }), "integration filter", Warn, []string{"lets none of the MISP match rules (920100, 920101, 920102, 920103) through"}},
		{"telegram level too high", ProgramTelegram, with(json, func(b *Integration) { b.Group = "misp_alert"; b.Level = "13" }), "integration filter", Warn, []string{"<level>13</level> is above"}},
		{"api key", ProgramMISP, with(json, func(b *Integration) { b.Group = "x"; b.HasAPIKey = true }), "integration secrets", Warn, []string{"/proc"}},
		{"hook url", ProgramTelegram, with(json, func(b *Integration) { b.RuleID = "920100"; b.HasHookURL = true }), "integration secrets", Warn, []string{"ossec.log"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.block.Name = tc.program
			e := &env{Options: Options{Program: tc.program}}

			results := checkBlock(e, "integration", tc.block)

			expect(t, results, tc.result, tc.status, tc.want...)
		})
	}
}
