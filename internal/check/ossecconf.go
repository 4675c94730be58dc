package check

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/integratord"
)

// defaultLogAlertLevel is analysisd's <log_alert_level> when ossec.conf
// sets none (Wazuh 4.x etc/ossec-server.conf). Lower alerts are not written
// to alerts.json, which is the only input integratord reads.
const defaultLogAlertLevel = 3

// The rules in rules/misp_telegram_rules.xml that mark a MISP match, their
// group and their level. custom-telegram's block should select them.
var matchRuleIDs = []string{"920100", "920101", "920102", "920103"}

const (
	matchGroup     = "misp_alert"
	matchRuleLevel = 12
)

// OssecConf contains the settings of ossec.conf that the checks use.
type OssecConf struct {
	Integrations []Integration
	// LogAlertLevel is the last <alerts><log_alert_level>, or 0 when unset.
	LogAlertLevel int
}

// Integration is one <integration> block. Values are as written, except
// Name and AlertFormat, which are trimmed. The <api_key> and <hook_url>
// values are not kept, only whether they are present.
type Integration struct {
	Name          string
	Level         string
	RuleID        string
	Group         string
	EventLocation string
	AlertFormat   string
	HasAPIKey     bool
	HasHookURL    bool
}

// integrationXML is the decoding shape of an <integration> block.
type integrationXML struct {
	Name          string  `xml:"name"`
	Level         string  `xml:"level"`
	RuleID        string  `xml:"rule_id"`
	Group         string  `xml:"group"`
	EventLocation string  `xml:"event_location"`
	AlertFormat   string  `xml:"alert_format"`
	APIKey        *string `xml:"api_key"`
	HookURL       *string `xml:"hook_url"`
}

// ParseOssecConf reads the <integration> blocks and <log_alert_level> of
// ossec.conf. The file has several top-level <ossec_config> elements and is
// not a well-formed XML document, so it is parsed inside a wrapper element
// with the decoder's lenient mode.
func ParseOssecConf(data []byte) (*OssecConf, error) {
	if err := checkNesting(data); err != nil {
		return nil, err
	}
	conf := &OssecConf{}
	decoder := lenientDecoder(data)
	var stack []string
	for {
		token, err := decoder.Token()
		if errors.Is(err, io.EOF) {
			return conf, nil
		}
		if err != nil {
			return nil, err
		}

		switch t := token.(type) {
		case xml.StartElement:
			switch {
			case t.Name.Local == "integration":
				var raw integrationXML
				if err := decoder.DecodeElement(&raw, &t); err != nil {
					return nil, fmt.Errorf("<integration>: %w", err)
				}
				conf.Integrations = append(conf.Integrations, raw.integration())
				continue
			case t.Name.Local == "log_alert_level" && len(stack) > 0 && stack[len(stack)-1] == "alerts":
				var value string
				if err := decoder.DecodeElement(&value, &t); err != nil {
					return nil, fmt.Errorf("<log_alert_level>: %w", err)
				}
				level, err := strconv.Atoi(strings.TrimSpace(value))
				if err != nil {
					return nil, fmt.Errorf("<log_alert_level> %q is not a number", strings.TrimSpace(value))
				}
				conf.LogAlertLevel = level
				continue
			}
			stack = append(stack, t.Name.Local)
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
}

func (raw integrationXML) integration() Integration {
	return Integration{
		Name:          strings.TrimSpace(raw.Name),
		Level:         raw.Level,
		RuleID:        raw.RuleID,
		Group:         raw.Group,
		EventLocation: raw.EventLocation,
		AlertFormat:   strings.TrimSpace(raw.AlertFormat),
		HasAPIKey:     raw.APIKey != nil,
		HasHookURL:    raw.HookURL != nil,
	}
}

// lenientDecoder returns a decoder over data wrapped in one root element,
// with any XML declaration blanked (it may only come first) and invalid
// UTF-8 replaced. HTML entities and bare ampersands are tolerated, as
// Wazuh's own XML reader tolerates them. Line numbers in its errors are
// those of data.
func lenientDecoder(data []byte) *xml.Decoder {
	data = bytes.ToValidUTF8(data, []byte("\uFFFD"))
	if start := len(data) - len(bytes.TrimLeft(data, " \t\r\n")); bytes.HasPrefix(data[start:], []byte("<?xml")) {
		if end := bytes.Index(data[start:], []byte("?>")); end >= 0 {
			blank(data[start : start+end+2])
		}
	}
	wrapped := make([]byte, 0, len(data)+32)
	wrapped = append(wrapped, wrapperStart...)
	wrapped = append(wrapped, data...)
	wrapped = append(wrapped, "\n"+wrapperEnd...)

	decoder := xml.NewDecoder(bytes.NewReader(wrapped))
	decoder.Strict = false
	decoder.Entity = xml.HTMLEntity
	return decoder
}

// The root element lenientDecoder wraps a file in.
const (
	wrapperName  = "check-root"
	wrapperStart = "<" + wrapperName + ">"
	wrapperEnd   = "</" + wrapperName + ">"
)

// blank replaces every byte of b but line feeds with a space, which keeps
// the line numbers of what follows.
func blank(b []byte) {
	for i := range b {
		if b[i] != '\n' {
			b[i] = ' '
		}
	}
}

// checkNesting returns an *xml.SyntaxError for the first end tag that does
// not match the open element, or for an element the file leaves open.
// Wazuh's XML reader rejects both, but the lenient decoder closes such
// elements itself, so a truncated <integration> block would otherwise look
// complete and merely lack its last options.
func checkNesting(data []byte) error {
	type open struct {
		name xml.Name
		line int
	}
	decoder := lenientDecoder(data)
	var stack []open
	for {
		line, _ := decoder.InputPos()
		token, err := decoder.RawToken()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}

		switch t := token.(type) {
		case xml.StartElement:
			stack = append(stack, open{name: t.Name, line: line})
		case xml.EndElement:
			endLine, _ := decoder.InputPos()
			if len(stack) == 0 {
				return &xml.SyntaxError{Line: endLine, Msg: fmt.Sprintf("end tag </%s> has no start tag", qualified(t.Name))}
			}
			top := stack[len(stack)-1]
			if t.Name == top.name {
				stack = stack[:len(stack)-1]
				continue
			}
			if t.Name.Space == "" && t.Name.Local == wrapperName {
				return &xml.SyntaxError{Line: top.line, Msg: fmt.Sprintf("element <%s> is not closed before the end of the file", qualified(top.name))}
			}
			return &xml.SyntaxError{Line: endLine, Msg: fmt.Sprintf("end tag </%s> does not match <%s> opened on line %d", qualified(t.Name), qualified(top.name), top.line)}
		}
	}
}

// qualified formats an element name as it is written, with its prefix.
func qualified(name xml.Name) string {
	if name.Space == "" {
		return name.Local
	}
	return name.Space + ":" + name.Local
}

// checkOssecConf finds this program's <integration> blocks and checks their
// options. name is the binary's file name, which <name> must equal.
func checkOssecConf(e *env, name string) []Result {
	path := filepath.Join(e.Home, "etc", "ossec.conf")
	data, err := readRegular(path)
	var skipped *skippedError
	if errors.As(err, &skipped) {
		return []Result{warn("ossec.conf", skipped.Error()+", so the <integration> blocks were not checked",
			"make etc/ossec.conf the manager's configuration file, or pass -home with the Wazuh installation directory")}
	}
	if errors.Is(err, fs.ErrPermission) {
		// wazuh-integratord reads ossec.conf as root, before it drops to
		// the wazuh user, so this says nothing about the programs.
		return []Result{warn("ossec.conf",
			fmt.Sprintf("%s cannot read %s (permission denied), so the <integration> blocks were not checked", e.user(), path),
			"run check as root")}
	}
	if problem := linkProblem(path, err); problem != "" {
		return []Result{fail("ossec.conf", path+" "+problem,
			"point etc/ossec.conf at the manager's configuration file, or pass -home with the Wazuh installation directory")}
	}
	if err != nil {
		return []Result{fail("ossec.conf", oneLine(err.Error()),
			"pass -home with the Wazuh installation directory (the one holding etc/ossec.conf), and run check as root")}
	}
	conf, err := ParseOssecConf(data)
	if err != nil {
		return []Result{fail("ossec.conf", fmt.Sprintf("%s: %s", path, oneLine(err.Error())),
			"fix the XML at the line named; wazuh-integratord -t tests the file")}
	}
	if conf.LogAlertLevel > 0 {
		e.alertGate = conf.LogAlertLevel
	}
	if name == "" {
		name = e.Program
	}

	for _, block := range conf.Integrations {
		if block.Name == name {
			e.blocks = append(e.blocks, block)
		}
	}
	if len(e.blocks) == 0 {
		return []Result{fail("integration",
			fmt.Sprintf("ossec.conf has no <integration> with <name>%s</name>%s, so integratord never runs %s", name, similarNames(conf, name), name),
			"add the block that make install printed, then restart wazuh-manager")}
	}

	var results []Result
	for i, block := range e.blocks {
		label := "integration"
		if len(e.blocks) > 1 {
			label = fmt.Sprintf("integration %d", i+1)
		}
		results = append(results, checkBlock(e, label, block)...)
	}
	return results
}

// similarNames mentions blocks whose name looks meant for this program.
func similarNames(conf *OssecConf, name string) string {
	stem := strings.TrimPrefix(name, integrationPrefix)
	var similar []string
	for _, block := range conf.Integrations {
		if strings.Contains(block.Name, stem) {
			similar = append(similar, "<name>"+block.Name+"</name>")
		}
	}
	if len(similar) == 0 {
		return ""
	}
	return " (found " + strings.Join(similar, ", ") + ": integratord runs integrations/<name> with exactly that name)"
}

// checkBlock checks one <integration> block of this program.
func checkBlock(e *env, label string, block Integration) []Result {
	var results []Result

	if strings.HasPrefix(block.AlertFormat, "json") {
		results = append(results, ok(label, "<name>%s</name> with <alert_format>%s</alert_format>", block.Name, block.AlertFormat))
	} else {
		got := "no <alert_format>"
		if block.AlertFormat != "" {
			got = fmt.Sprintf("<alert_format>%s</alert_format>", block.AlertFormat)
		}
		results = append(results, fail(label,
			fmt.Sprintf("%s has %s: integratord then writes the legacy key='value' alert file, which %s rejects with exit status %d", block.Name, got, e.Program, integratord.ExitAlert),
			"add <alert_format>json</alert_format> to the block and restart wazuh-manager"))
	}

	for _, token := range strings.Split(block.Group, ",") {
		if token != "" && token != strings.TrimSpace(token) {
			results = append(results, warn(label+" group",
				fmt.Sprintf("<group> token %q contains white space: integratord compares groups exactly, so it never matches", token),
				"remove the spaces around the commas, as in <group>sysmon_event1,sysmon_event3</group>"))
		}
	}

	for _, invalid := range parseRuleIDs(block.RuleID).Invalid {
		detail := fmt.Sprintf("<rule_id> item %q is not a rule id: %s", invalid.Item, invalid.Effect)
		fix := "write decimal rule ids separated by commas, as in <rule_id>920100,920101</rule_id>"
		if invalid.Lost {
			results = append(results, fail(label+" rule_id", detail, fix))
		} else {
			results = append(results, warn(label+" rule_id", detail, fix))
		}
	}

	switch e.Program {
	case ProgramMISP:
		results = append(results, mispFilter(label, block)...)
	case ProgramTelegram:
		results = append(results, telegramFilter(label, block, matchRules(e.rules))...)
	}

	if block.HasAPIKey || block.HasHookURL {
		results = append(results, warn(label+" secrets",
			"<api_key> or <hook_url> is set: integratord passes both on the command line, readable by every local user in /proc, and logs them in ossec.log when a run exits with status 127",
			"keep credentials in the config file (misp.api_key_file, telegram.bot_token_file) and remove <api_key> and <hook_url>"))
	}
	return results
}

// mispFilter warns when custom-misp runs for every alert, or for its own
// result alerts.
func mispFilter(label string, block Integration) []Result {
	name := label + " filter"
	if strings.TrimSpace(block.Group+block.RuleID+block.Level+block.EventLocation) == "" {
		return []Result{warn(name,
			"no <group>, <rule_id>, <level> or <event_location>: integratord runs custom-misp for every alert, one process at a time",
			"select the alerts that carry indicators, for example <group>sysmon_event1,sysmon_event3,sysmon_event_22,syscheck_entry_added,syscheck_entry_modified</group>")}
	}
	for _, group := range splitList(block.Group) {
		if group == "misp" || strings.HasPrefix(group, "misp_") {
			return []Result{warn(name,
				fmt.Sprintf("<group> selects %s, the group of custom-misp's own result alerts", group),
				"remove it: custom-misp has nothing to look up in its own results")}
		}
	}
	for _, id := range splitList(block.RuleID) {
		if strings.HasPrefix(id, "920") && len(id) == 6 {
			return []Result{warn(name,
				fmt.Sprintf("<rule_id> selects %s, one of custom-misp's own result rules", id),
				"remove it: custom-misp has nothing to look up in its own results")}
		}
	}
	return []Result{ok(name, "%s", describeFilter(block))}
}

// describeFilter lists the filters of a block, as integratord applies them.
func describeFilter(block Integration) string {
	var parts []string
	for _, filter := range []struct{ tag, value string }{
		{"group", block.Group},
		{"rule_id", block.RuleID},
		{"level", block.Level},
		{"event_location", block.EventLocation},
	} {
		if strings.TrimSpace(filter.value) != "" {
			parts = append(parts, fmt.Sprintf("<%s>%s</%s>", filter.tag, filter.value, filter.tag))
		}
	}
	if len(parts) == 0 {
		return "no filter"
	}
	return strings.Join(parts, " and ")
}

// splitList splits a comma list, trimming each item and dropping empty
// ones. For <group> only, integratord itself does not trim.
func splitList(value string) []string {
	var items []string
	for _, item := range strings.Split(value, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}

// hasAPIKey reports whether any block carries <api_key>.
func hasAPIKey(blocks []Integration) bool {
	return slices.ContainsFunc(blocks, func(b Integration) bool { return b.HasAPIKey })
}
