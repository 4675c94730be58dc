package check

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestParseRuleIDs(t *testing.T) {
	tests := []struct {
		name  string
		value string

		ids     []int
		set     bool
		invalid []string // the items reported, in order
		lost    bool     // whether the last item reported loses ids
	}{
		{"list", "920100,920101", []int{920100, 920101}, true, nil, false},
		{"spaces and empty items", " 920100 ,, 920101,", []int{920100, 920101}, true, nil, false},
		{"line breaks around", "\n  920100,920101\n", []int{920100, 920101}, true, nil, false},
		{"empty", "", nil, false, nil, false},
		{"junk last", "920100,abc", []int{920100}, true, []string{"abc"}, false},
		{"junk first", "abc,920100", nil, false, []string{"abc"}, true},
		{"junk between", "920100,abc,920101", []int{920100}, true, []string{"abc"}, true},
		{"digits then junk", "920100x,920101", []int{920100, 920101}, true, []string{"920100x"}, false},
		{"two ids without comma", "920100 920101", []int{920100}, true, []string{"920100 920101"}, false},
		{"line break inside", "920100,\n920101", []int{920100}, true, []string{"\n920101"}, true},
		{"zero", "0", nil, true, nil, false},
		{"out of range", "99999999999,920100", []int{920100}, true, []string{"99999999999"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := parseRuleIDs(tc.value)

			if !slices.Equal(got.IDs, tc.ids) {
				t.Errorf("IDs = %v, want %v", got.IDs, tc.ids)
			}
			if got.Set != tc.set {
				t.Errorf("Set = %v, want %v", got.Set, tc.set)
			}
			var items []string
			for _, invalid := range got.Invalid {
				items = append(items, invalid.Item)
			}
			if !slices.Equal(items, tc.invalid) {
				t.Errorf("invalid items = %q, want %q", items, tc.invalid)
			}
			if len(got.Invalid) > 0 && got.Invalid[len(got.Invalid)-1].Lost != tc.lost {
				t.Errorf("Lost = %v, want %v", !tc.lost, tc.lost)
			}
		})
	}
}

func TestPasses(t *testing.T) {
	rule := Rule{ID: "920101", Level: 12, Groups: []string{"misp", "misp_alert"}}
	tests := []struct {
		name  string
		block Integration

		want bool
	}{
		{"no filter", Integration{}, true},
		{"rule id listed", Integration{RuleID: "920100,920101"}, true},
		{"rule id not listed", Integration{RuleID: "920100"}, false},
		{"group", Integration{Group: "misp_alert"}, true},
		{"group with space", Integration{Group: "sysmon_event1, misp_alert"}, false},
		{"group and rule id", Integration{Group: "misp_alert", RuleID: "920100"}, false},
		{"level equal", Integration{Level: "12"}, true},
		{"level above", Integration{Level: "13"}, false},
		{"rule id junk only", Integration{RuleID: "abc"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := passes(tc.block, parseRuleIDs(tc.block.RuleID), rule)

			if got != tc.want {
				t.Errorf("passes = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTelegramFilterInstalledRules(t *testing.T) {
	tr := newTree(t, ProgramTelegram)
	tr.writeFile("etc/rules/local_rules.xml", `<group name="local,">
  <rule id="100500" level="12">
    <if_sid>920100</if_sid>
    <field name="misp.category">^Payload delivery$</field>
    <group>misp_alert,</group>
  </rule>
</group>
`, 0o660)

	results := tr.run()

	expect(t, results, "integration filter", Warn,
		"lets only 920100, 920101, 920102, 920103 of the MISP match rules through, so custom-telegram never gets the matches of rule 100500",
		"<rule_id>100500,920100,920101,920102,920103</rule_id>")
}

func TestTelegramFilterFirstRuleOnly(t *testing.T) {
	tr := newTree(t, ProgramTelegram)
	tr.setBlock(ProgramTelegram, `
    <name>custom-telegram</name>
    <rule_id>920100</rule_id>
    <alert_format>json</alert_format>`)

	results := tr.run()

	expect(t, results, "integration filter", Warn, "never gets the matches of rule 920101, 920102, 920103")
}

func FuzzParseRuleIDs(f *testing.F) {
	// The list make install prints.
	f.Add("920100,920101,920102,920103")
	// Spaces, empty items and a trailing comma, which integratord skips.
	f.Add(" 920100 ,, 920101,")
	// An item that stops the parser, followed by ids it then ignores.
	f.Add("920100,abc,920101")
	// Digits followed by other text in one item.
	f.Add("920100x 5,7")
	// An id too large for an int.
	f.Add("99999999999999999999999")
	// Multi-byte characters.
	f.Add("920100,…,abc")

	f.Fuzz(func(t *testing.T, value string) {
		got := parseRuleIDs(value)

		if !got.Set && len(got.IDs) > 0 {
			t.Errorf("IDs %v without Set", got.IDs)
		}
		for _, id := range got.IDs {
			if id <= 0 {
				t.Errorf("id %d: want only positive ids", id)
			}
			if !strings.Contains(value, strconv.Itoa(id)) {
				t.Errorf("id %d does not occur in %q", id, value)
			}
		}
		for _, invalid := range got.Invalid {
			if invalid.Item == "" || !strings.Contains(value, invalid.Item) {
				t.Errorf("invalid item %q does not occur in %q", invalid.Item, value)
			}
		}
	})
}
