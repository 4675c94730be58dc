package check

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Paths of rule files under the Wazuh home, and the files this project ships.
const (
	localRulesDir     = "etc/rules"
	stockRulesDir     = "ruleset/rules"
	stockSysmonRules  = "0595-win-sysmon_rules.xml"
	ourRulesFile      = "misp_telegram_rules.xml"
	sysmonLookupRules = "etc/misp-telegram/sysmon_lookup_rules.xml"
)

// Rule is one <rule> of a Wazuh rules file.
type Rule struct {
	ID        string
	Level     int
	Overwrite bool
	// Groups are the names of the enclosing <group name="..."> elements
	// followed by the rule's own <group> values, as analysisd puts them in
	// the alert's rule.groups.
	Groups []string
	// File is the path of the file, relative to the Wazuh home.
	File string
}

// ParseRules reads every <rule> of a rules file. Rule files have several
// top-level elements, so they are parsed like ossec.conf.
func ParseRules(data []byte) ([]Rule, error) {
	if err := checkNesting(data); err != nil {
		return nil, err
	}
	decoder := lenientDecoder(data)
	var (
		rules []Rule
		// enclosing holds one entry per open <group name> element.
		enclosing [][]string
		current   *Rule
	)
	for {
		token, err := decoder.Token()
		if errors.Is(err, io.EOF) {
			return rules, nil
		}
		if err != nil {
			return nil, err
		}

		switch t := token.(type) {
		case xml.StartElement:
			switch {
			case t.Name.Local == "rule" && current == nil:
				current = &Rule{}
				for _, attr := range t.Attr {
					switch attr.Name.Local {
					case "id":
						current.ID = strings.TrimSpace(attr.Value)
					case "level":
						current.Level, _ = strconv.Atoi(strings.TrimSpace(attr.Value))
					case "overwrite":
						current.Overwrite = strings.TrimSpace(attr.Value) == "yes"
					}
				}
				for _, names := range enclosing {
					current.Groups = append(current.Groups, names...)
				}
			case t.Name.Local == "group" && current != nil:
				var value string
				if err := decoder.DecodeElement(&value, &t); err != nil {
					return nil, fmt.Errorf("rule %s <group>: %w", current.ID, err)
				}
				current.Groups = append(current.Groups, splitList(value)...)
			case t.Name.Local == "group":
				var names []string
				for _, attr := range t.Attr {
					if attr.Name.Local == "name" {
						names = splitList(attr.Value)
					}
				}
				enclosing = append(enclosing, names)
			}
		case xml.EndElement:
			switch {
			case t.Name.Local == "rule" && current != nil:
				rules = append(rules, *current)
				current = nil
			case t.Name.Local == "group" && current == nil && len(enclosing) > 0:
				enclosing = enclosing[:len(enclosing)-1]
			}
		}
	}
}

// ruleSet holds the rules found under a Wazuh home.
type ruleSet struct {
	local []Rule // etc/rules
	stock []Rule // ruleset/rules
	// stockFound is set when ruleset/rules exists and was listed.
	stockFound bool
	// localDenied and stockDenied are set when etc/rules or ruleset/rules
	// exists but could not be listed, so its rules are unknown.
	localDenied bool
	stockDenied bool
	// sysmonFound is set when the stock Sysmon rules file exists and parsed.
	sysmonFound bool
	problems    []Result
}

// loadRules reads every *.xml file of etc/rules and ruleset/rules. user
// names who check runs as, for messages about what it could not read.
func loadRules(home, user string) ruleSet {
	var set ruleSet
	set.local, set.localDenied = set.readDir(home, localRulesDir, user)
	set.stock, set.stockDenied = set.readDir(home, stockRulesDir, user)
	set.stockFound = !set.stockDenied && exists(filepath.Join(home, stockRulesDir))
	for _, rule := range set.stock {
		if filepath.Base(rule.File) == stockSysmonRules {
			set.sysmonFound = true
			break
		}
	}
	return set
}

// readDir reads every *.xml file of dir under home, in name order. denied
// is set when dir exists but could not be listed. A missing dir adds no
// problem, because the callers report what it lacks.
func (s *ruleSet) readDir(home, dir, user string) (rules []Rule, denied bool) {
	path := filepath.Join(home, dir)
	entries, err := os.ReadDir(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, false
	case errors.Is(err, fs.ErrPermission):
		s.problems = append(s.problems, warn("rules",
			fmt.Sprintf("%s cannot list %s (permission denied), so its rules were not checked", user, path),
			"run check as root"))
		return nil, true
	case err != nil:
		s.problems = append(s.problems, warn("rules",
			fmt.Sprintf("%s could not be listed (%s), so its rules were not checked", path, oneLine(err.Error())),
			"pass -home with the Wazuh installation directory"))
		return nil, true
	}

	for _, entry := range entries {
		if !strings.HasSuffix(entry.Name(), ".xml") {
			continue
		}
		file := filepath.Join(path, entry.Name())
		relative := filepath.Join(dir, entry.Name())
		data, err := readRegular(file)
		var skipped *skippedError
		if errors.As(err, &skipped) {
			s.problems = append(s.problems, warn("rules",
				fmt.Sprintf("%s %s, so its rules were not checked", relative, skipped.Reason),
				"remove it or make it a regular rules file: wazuh-analysisd loads every .xml file of "+dir))
			continue
		}
		if problem := linkProblem(file, err); problem != "" {
			s.problems = append(s.problems, warn("rules",
				fmt.Sprintf("%s %s, so its rules were not checked", relative, problem),
				"remove the link, or point it at a rules file"))
			continue
		}
		if errors.Is(err, fs.ErrPermission) {
			s.problems = append(s.problems, warn("rules",
				fmt.Sprintf("%s cannot read %s (permission denied), so its rules were not checked", user, relative),
				"run check as root"))
			continue
		}
		if err != nil {
			s.problems = append(s.problems, warn("rules", oneLine(err.Error()), "run check as root"))
			continue
		}
		parsed, err := ParseRules(data)
		if err != nil {
			s.problems = append(s.problems, warn("rules",
				fmt.Sprintf("%s could not be parsed (%s), so its rules were not checked", relative, oneLine(err.Error())),
				"test it with wazuh-analysisd -t"))
			continue
		}
		for i := range parsed {
			parsed[i].File = relative
		}
		rules = append(rules, parsed...)
	}
	return rules, false
}

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// checkRules checks that the project's rules are installed, that no rule id
// is defined twice, and that the groups the <integration> blocks select are
// carried by rules whose alerts reach alerts.json.
func checkRules(e *env) []Result {
	set := e.rules
	results := append([]Result(nil), set.problems...)
	results = append(results, ourRules(e, set))
	results = append(results, duplicateIDs(set)...)
	for _, block := range e.blocks {
		results = append(results, groupReach(e, set, block)...)
	}
	return results
}

// ourRules checks that the rules for custom-misp's events are installed.
// Without them those events match no rule and raise no alert.
func ourRules(e *env, set ruleSet) Result {
	const name = "rules file"
	if set.localDenied {
		return warn(name,
			fmt.Sprintf("whether a file in %s defines rule %s was not checked, because the directory could not be listed", filepath.Join(e.Home, localRulesDir), matchRuleIDs[0]),
			"run check as root")
	}
	for _, rule := range set.local {
		if rule.ID == matchRuleIDs[0] {
			return ok(name, "rule %s is in %s", rule.ID, rule.File)
		}
	}
	return fail(name,
		fmt.Sprintf("no file in %s defines rule %s, so custom-misp's results raise no alert and custom-telegram has nothing to send", filepath.Join(e.Home, localRulesDir), matchRuleIDs[0]),
		"make install copies "+ourRulesFile+" to etc/rules; then restart wazuh-manager")
}

// duplicateIDs reports rule ids defined more than once in etc/rules, and
// local rules that reuse a stock id without overwrite="yes".
func duplicateIDs(set ruleSet) []Result {
	const name = "rule ids"
	files := map[string][]string{}
	for _, rule := range set.local {
		files[rule.ID] = append(files[rule.ID], rule.File)
	}
	stockFile := map[string]string{}
	for _, rule := range set.stock {
		stockFile[rule.ID] = rule.File
	}

	var results []Result
	ids := make([]string, 0, len(files))
	for id := range files {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if where := files[id]; len(where) > 1 {
			results = append(results, fail(name,
				fmt.Sprintf("rule id %s is defined %s", id, describePlaces(where)),
				"give one of them an unused id: local rules use 100000-120000"))
		}
	}
	for _, rule := range set.local {
		if stock, found := stockFile[rule.ID]; found && !rule.Overwrite {
			results = append(results, fail(name,
				fmt.Sprintf("rule id %s in %s is also a stock rule in %s", rule.ID, rule.File, stock),
				"add overwrite=\"yes\" to replace the stock rule on purpose, or use an unused id (local rules use 100000-120000)"))
		}
	}
	if len(results) == 0 {
		return []Result{ok(name, "%d rules in %s, no id defined twice", len(set.local), localRulesDir)}
	}
	return results
}

// describePlaces formats the files that define one id: "in both a.xml and
// b.xml", or "twice in a.xml".
func describePlaces(files []string) string {
	if len(slices.Compact(slices.Clone(files))) == 1 {
		return fmt.Sprintf("%d times in %s", len(files), files[0])
	}
	return "in both " + strings.Join(files, " and ")
}

// groupReach checks, for each group the block selects, that some rule
// carrying that group has a level of at least log_alert_level. Alerts below
// it are never written to alerts.json, which is all integratord reads.
//
// NOTE: a rule's <options>log_alert</options> or no_log, which override the
// level gate, are not taken into account.
func groupReach(e *env, set ruleSet, block Integration) []Result {
	groups := splitList(block.Group)
	if len(groups) == 0 {
		return nil
	}
	if set.stockDenied {
		return []Result{warn("group filter",
			fmt.Sprintf("%s could not be read, so whether the selected groups reach alerts.json was not checked", filepath.Join(e.Home, stockRulesDir)),
			"run check as root")}
	}
	if !set.stockFound {
		return []Result{warn("group filter",
			fmt.Sprintf("%s not found, so whether the selected groups reach alerts.json was not checked", filepath.Join(e.Home, stockRulesDir)),
			"pass -home with the Wazuh installation directory")}
	}

	effective := effectiveRules(set)
	var results []Result
	for _, group := range groups {
		name := "group " + group
		if strings.HasPrefix(group, "sysmon_") && !set.sysmonFound {
			results = append(results, warn(name,
				fmt.Sprintf("%s not found, so whether Sysmon alerts reach %s was not checked", filepath.Join(stockRulesDir, stockSysmonRules), block.Name),
				"pass -home with the Wazuh installation directory"))
			continue
		}

		var carriers []Rule
		for _, rule := range effective {
			if slices.Contains(rule.Groups, group) {
				carriers = append(carriers, rule)
			}
		}
		results = append(results, reachResult(e, name, group, carriers))
	}
	return results
}

func reachResult(e *env, name, group string, carriers []Rule) Result {
	if len(carriers) == 0 {
		return warn(name,
			fmt.Sprintf("no rule in %s or %s carries group %s, so this filter never matches", stockRulesDir, localRulesDir, group),
			"check the spelling: Sysmon EIDs 1-9 use sysmon_eventN, EIDs 10 and up sysmon_event_NN")
	}

	best := carriers[0]
	for _, rule := range carriers[1:] {
		if rule.Level > best.Level {
			best = rule
		}
	}
	if best.Level >= e.alertGate {
		return ok(name, "rule %s (level %d, %s) reaches alerts.json", best.ID, best.Level, best.File)
	}

	var listed []string
	for i, rule := range carriers {
		if i == 4 {
			listed = append(listed, fmt.Sprintf("and %d more", len(carriers)-i))
			break
		}
		listed = append(listed, fmt.Sprintf("%s level %d", rule.ID, rule.Level))
	}
	detail := fmt.Sprintf("every rule with group %s is below log_alert_level %d (%s), so these events never reach alerts.json or the integration",
		group, e.alertGate, strings.Join(listed, ", "))
	fix := "raise a rule with this group to level 3 or more in a local rule with overwrite=\"yes\""
	if strings.HasPrefix(group, "sysmon_") {
		fix = fmt.Sprintf("install %s into etc/rules (cp %s %s/) and restart wazuh-manager",
			sysmonLookupRules, filepath.Join(e.Home, sysmonLookupRules), filepath.Join(e.Home, localRulesDir))
	}
	return warn(name, detail, fix)
}

// effectiveRules returns the stock rules with each one that a local rule
// overwrites replaced by it, followed by the other local rules.
func effectiveRules(set ruleSet) []Rule {
	overrides := map[string]Rule{}
	var added []Rule
	for _, rule := range set.local {
		if rule.Overwrite {
			overrides[rule.ID] = rule
		} else {
			added = append(added, rule)
		}
	}

	rules := make([]Rule, 0, len(set.stock)+len(added))
	for _, rule := range set.stock {
		if override, found := overrides[rule.ID]; found {
			rule = override
		}
		rules = append(rules, rule)
	}
	return append(rules, added...)
}
