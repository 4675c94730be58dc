// Package rules holds the Wazuh rules for the events custom-misp sends
// (misp_telegram_rules.xml) and the opt-in rules that let Sysmon events reach
// it (sysmon_lookup_rules.xml). It has no Go code: its test parses the XML
// and routes sample events through a model of analysisd's rule matching.
package rules
