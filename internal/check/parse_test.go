package check

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const sampleOssecConf = `<?xml version="1.0" encoding="UTF-8"?>
<!--
  Wazuh - Manager - Default configuration for ubuntu 22.04
  <integration><name>commented-out</name></integration>
-->
<ossec_config>
  <global>
    <jsonout_output>yes</jsonout_output>
    <email_from>wazuh@example.com</email_from>
  </global>
  <alerts>
    <log_alert_level>4</log_alert_level>
    <email_alert_level>12</email_alert_level>
  </alerts>
</ossec_config>

<ossec_config>
  <integration>
    <name>custom-misp</name>
    <group>sysmon_event1, sysmon_event3,</group>
    <api_key>never-kept</api_key>
    <alert_format>json</alert_format>
  </integration>
  <integration>
    <name> custom-telegram </name>
    <hook_url>https://example.org/?a=1&b=2</hook_url>
    <rule_id>920100, 920101</rule_id>
    <level>10</level>
  </integration>
</ossec_config>
`

func TestParseOssecConf(t *testing.T) {
	conf, err := ParseOssecConf([]byte(sampleOssecConf))
	if err != nil {
		t.Fatalf("ParseOssecConf: %v", err)
	}

	if got, want := conf.LogAlertLevel, 4; got != want {
		t.Errorf("LogAlertLevel = %d, want %d", got, want)
	}
	want := []Integration{
		{Name: "custom-misp", Group: "sysmon_event1, sysmon_event3,", AlertFormat: "json", HasAPIKey: true},
		{Name: "custom-telegram", RuleID: "920100, 920101", Level: "10", HasHookURL: true},
	}
	if !slices.Equal(conf.Integrations, want) {
		t.Errorf("Integrations =\n%+v\nwant\n%+v", conf.Integrations, want)
	}
}

func TestParseOssecConfErrors(t *testing.T) {
	tests := []struct {
		name string
		data string

		want string
	}{
		{"broken end tag", "<ossec_config><integration><name>x</name></integration", "invalid characters between </integration and >"},
		{"level not a number", "<ossec_config><alerts><log_alert_level>three</log_alert_level></alerts></ossec_config>", `<log_alert_level> "three" is not a number`},
		{"stray end tag", "<ossec_config>\n</integration></ossec_config>", "line 2: end tag </integration> does not match <ossec_config> opened on line 1"},
		{"truncated between tags", "<ossec_config>\n  <integration>\n    <name>custom-misp</name>\n", "line 2: element <integration> is not closed before the end of the file"},
		{"truncated inside a value", "<ossec_config>\n  <integration>\n    <name>custom-misp</name>\n    <alert_format>js", "line 4: element <alert_format> is not closed before the end of the file"},
		{"misspelt end tag", "<ossec_config>\n  <integration>\n    <name>custom-misp</nam>\n  </integration>\n</ossec_config>", "line 3: end tag </nam> does not match <name> opened on line 3"},
		{"declaration after blank lines", "\n\n<?xml version=\"1.0\"?>\n<ossec_config>\n</ossec_conf>", "line 5: end tag </ossec_conf> does not match <ossec_config> opened on line 4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseOssecConf([]byte(tc.data))

			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParseRulesTruncated(t *testing.T) {
	data := "<group name=\"local,\">\n  <rule id=\"100001\" level=\"5\">\n    <match>x</match>\n"

	_, err := ParseRules([]byte(data))

	if want := "line 2: element <rule> is not closed before the end of the file"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error = %v, want it to contain %q", err, want)
	}
}

func TestParseRules(t *testing.T) {
	data := `<!-- comment with <rule id="1"> inside -->
<group name="windows,sysmon,">
  <rule id="61603" level="0">
    <if_sid>61600</if_sid>
    <field name="win.system.eventID">^1$</field>
    <group>sysmon_event1,</group>
  </rule>
  <rule id="61605" level="3" overwrite="yes">
    <regex type="pcre2">a&amp;b|c&d</regex>
    <group>sysmon_event3,pci_dss_10.6.1</group>
  </rule>
</group>
<rule id="100001" level="5"><match>x</match></rule>
`
	rules, err := ParseRules([]byte(data))
	if err != nil {
		t.Fatalf("ParseRules: %v", err)
	}

	want := []Rule{
		{ID: "61603", Level: 0, Groups: []string{"windows", "sysmon", "sysmon_event1"}},
		{ID: "61605", Level: 3, Overwrite: true, Groups: []string{"windows", "sysmon", "sysmon_event3", "pci_dss_10.6.1"}},
		{ID: "100001", Level: 5},
	}
	if len(rules) != len(want) {
		t.Fatalf("got %d rules, want %d: %+v", len(rules), len(want), rules)
	}
	for i := range want {
		got := rules[i]
		if got.ID != want[i].ID || got.Level != want[i].Level || got.Overwrite != want[i].Overwrite || !slices.Equal(got.Groups, want[i].Groups) {
			t.Errorf("rule %d = %+v, want %+v", i, got, want[i])
		}
	}
}

// TestShippedRulesMatchConstants keeps the ids, group and level the checks
// look for in step with rules/misp_telegram_rules.xml.
func TestShippedRulesMatchConstants(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "rules", ourRulesFile))
	if err != nil {
		t.Fatal(err)
	}
	rules, err := ParseRules(data)
	if err != nil {
		t.Fatalf("ParseRules(%s): %v", ourRulesFile, err)
	}

	byID := map[string]Rule{}
	for _, rule := range rules {
		byID[rule.ID] = rule
	}
	for _, id := range matchRuleIDs {
		rule, found := byID[id]
		if !found {
			t.Errorf("%s has no rule %s", ourRulesFile, id)
			continue
		}
		if rule.Level != matchRuleLevel {
			t.Errorf("rule %s level = %d, want %d", id, rule.Level, matchRuleLevel)
		}
		if !slices.Contains(rule.Groups, matchGroup) {
			t.Errorf("rule %s groups = %v, want them to contain %s", id, rule.Groups, matchGroup)
		}
	}
}

// TestShippedSysmonRulesParse checks that the opt-in Sysmon rules raise
// every base rule the custom-misp filter may name to log_alert_level.
func TestShippedSysmonRulesParse(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "rules", "sysmon_lookup_rules.xml"))
	if err != nil {
		t.Fatal(err)
	}
	rules, err := ParseRules(data)
	if err != nil {
		t.Fatalf("ParseRules: %v", err)
	}

	for _, id := range []string{"61603", "61605", "61608", "61609", "61617", "61650"} {
		i := slices.IndexFunc(rules, func(r Rule) bool { return r.ID == id })
		if i < 0 {
			t.Errorf("no rule %s", id)
			continue
		}
		if !rules[i].Overwrite || rules[i].Level < defaultLogAlertLevel {
			t.Errorf("rule %s: overwrite %v, level %d; want overwrite and level >= %d", id, rules[i].Overwrite, rules[i].Level, defaultLogAlertLevel)
		}
	}
}

func FuzzParseOssecConf(f *testing.F) {
	f.Add([]byte(sampleOssecConf))
	// Two top-level elements and nothing else.
	f.Add([]byte("<ossec_config/><ossec_config/>"))
	// An XML declaration that is not at the start.
	f.Add([]byte("<a/>\n<?xml version=\"1.0\"?>"))
	// Invalid UTF-8 inside a value.
	f.Add([]byte("<ossec_config><integration><name>\xff\xfe</name></integration></ossec_config>"))
	// A bare ampersand and an HTML entity, which Wazuh's reader accepts.
	f.Add([]byte("<ossec_config><integration><name>a&b&nbsp;</name></integration></ossec_config>"))
	// An element that closes the wrapper early.
	f.Add([]byte("</check-root><integration><name>x</name></integration>"))
	// A file cut off inside a block, which must be an error.
	f.Add([]byte("<ossec_config><integration><name>custom-misp</name>"))

	f.Fuzz(func(t *testing.T, data []byte) {
		conf, err := ParseOssecConf(data)
		if err != nil {
			return
		}
		if nestingErr := checkNesting(data); nestingErr != nil {
			t.Errorf("parsed a file with unbalanced elements: %v", nestingErr)
		}
		for _, block := range conf.Integrations {
			if block.Name != strings.TrimSpace(block.Name) {
				t.Errorf("name %q is not trimmed", block.Name)
			}
			if block.AlertFormat != strings.TrimSpace(block.AlertFormat) {
				t.Errorf("alert_format %q is not trimmed", block.AlertFormat)
			}
		}
	})
}

func FuzzParseRules(f *testing.F) {
	stock, err := os.ReadFile(filepath.Join("testdata", "ruleset", stockSysmonRules))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(stock)
	// Nested group elements.
	f.Add([]byte(`<group name="a,"><group name="b"><rule id="1" level="3"><group>c</group></rule></group></group>`))
	// A rule inside a rule, and a rule outside any group.
	f.Add([]byte(`<rule id="1"><rule id="2"></rule></rule><rule id="3" level="x"/>`))
	// Empty group names and stray commas.
	f.Add([]byte(`<group name=",,"><rule id="1"><group>, ,</group></rule></group>`))

	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := ParseRules(data)
		if err != nil {
			return
		}
		for _, rule := range rules {
			for _, group := range rule.Groups {
				if group == "" || group != strings.TrimSpace(group) {
					t.Errorf("rule %q has group %q: want non-empty, trimmed names", rule.ID, group)
				}
			}
		}
	})
}
