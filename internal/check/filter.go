package check

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// ruleIDFilter is a <rule_id> value as wazuh-integratord reads it. Its
// parser (Read_Integrator in src/config/integrator-config.c, Wazuh 4.x)
// skips spaces and empty items. It reads each item that starts with a digit
// with atoi, which ignores whatever follows the digits. It stops at the
// first item that starts with any other character. An alert passes when
// atoi(rule.id) equals one of the ids read. When no id was read,
// integratord does not filter on rule ids at all.
type ruleIDFilter struct {
	// IDs are the ids integratord compares with, in order. It stores them
	// in a zero-terminated array, so an id of 0 is never compared.
	IDs []int
	// Set is true when integratord read at least one item, so it filters
	// on rule ids.
	Set bool
	// Invalid lists the items that integratord does not read as written.
	Invalid []invalidRuleID
}

// invalidRuleID is one item of a <rule_id> value that is not a plain
// decimal rule id.
type invalidRuleID struct {
	Item string
	// Effect is a clause on what integratord makes of the item, as in
	// "integratord reads it as 920100 and ignores the rest".
	Effect string
	// Lost is set when integratord ignores an id because of the item: the
	// item's own, those written after it, or the whole rule id filter.
	Lost bool
}

// parseRuleIDs reads value the way integratord does.
//
// NOTE: white space around the whole value is ignored here, on the
// assumption that Wazuh's XML reader trims it. If it does not, integratord
// reads no id from a value that starts with a line break.
func parseRuleIDs(value string) ruleIDFilter {
	var filter ruleIDFilter
	items := strings.Split(strings.TrimSpace(value), ",")
	for i, raw := range items {
		item := strings.Trim(raw, " ")
		if item == "" {
			continue
		}

		digits := item[:len(item)-len(strings.TrimLeft(item, "0123456789"))]
		if digits == "" {
			filter.Invalid = append(filter.Invalid, stopAt(item, filter.Set, items[i+1:]))
			return filter
		}

		filter.Set = true
		id, err := strconv.Atoi(digits)
		if err != nil || id > math.MaxInt32 {
			filter.Invalid = append(filter.Invalid, invalidRuleID{Item: item, Effect: "it is out of range, so it matches no rule"})
			continue
		}
		if id != 0 {
			filter.IDs = append(filter.IDs, id)
		}
		if digits != item {
			filter.Invalid = append(filter.Invalid, invalidRuleID{Item: item, Effect: fmt.Sprintf("integratord reads it as %d and ignores the rest", id)})
		}
	}
	return filter
}

// stopAt describes the item at which integratord stops reading <rule_id>.
// read is whether it read an id before, and rest are the items after it.
func stopAt(item string, read bool, rest []string) invalidRuleID {
	var ignored []string
	for _, raw := range rest {
		if trimmed := strings.TrimSpace(raw); trimmed != "" {
			ignored = append(ignored, trimmed)
		}
	}

	stop := invalidRuleID{Item: item, Effect: "integratord stops reading <rule_id> there"}
	// An item with digits, such as "#920101", was meant as an id.
	stop.Lost = strings.ContainsAny(item, "0123456789")
	switch {
	case !read:
		stop.Effect += " before reading any id, so the block does not filter on rule ids at all"
		stop.Lost = true
	case len(ignored) > 0:
		stop.Effect += ", so it ignores " + strings.Join(ignored, ", ")
		stop.Lost = true
	}
	return stop
}

// passes reports whether an alert of rule passes the <level>, <group> and
// <rule_id> filters of block, as integratord applies them: all of them,
// each to the alert's rule.level, rule.groups and rule.id. <event_location>
// is not evaluated.
func passes(block Integration, ids ruleIDFilter, rule Rule) bool {
	if level, err := strconv.Atoi(strings.TrimSpace(block.Level)); err == nil && rule.Level < level {
		return false
	}
	// integratord compares each comma-separated item exactly, without
	// trimming it.
	if block.Group != "" && !slices.ContainsFunc(strings.Split(block.Group, ","), func(group string) bool {
		return slices.Contains(rule.Groups, group)
	}) {
		return false
	}
	if ids.Set {
		id, err := strconv.Atoi(rule.ID)
		if err != nil || !slices.Contains(ids.IDs, id) {
			return false
		}
	}
	return true
}

// telegramFilter warns when the block lets only some or none of the MISP
// match rules through, so custom-telegram misses matches, or when it
// selects no MISP rules at all, so custom-telegram runs for alerts it then
// drops.
func telegramFilter(label string, block Integration, matches []Rule) []Result {
	name := label + " filter"
	ids := parseRuleIDs(block.RuleID)

	var passing, missing []string
	maxLevel := 0
	for _, rule := range matches {
		maxLevel = max(maxLevel, rule.Level)
		if passes(block, ids, rule) {
			passing = append(passing, rule.ID)
		} else {
			missing = append(missing, rule.ID)
		}
	}
	all := append(slices.Clone(passing), missing...)
	sortRuleIDs(all)
	sortRuleIDs(missing)
	fix := fmt.Sprintf("select every match rule: <rule_id>%s</rule_id>, or <group>%s</group> without <rule_id>", strings.Join(all, ","), matchGroup)

	if level, err := strconv.Atoi(strings.TrimSpace(block.Level)); err == nil && level > maxLevel {
		return []Result{warn(name,
			fmt.Sprintf("<level>%d</level> is above the level of the MISP match rules (%d), so they never pass", level, maxLevel),
			"lower <level> or remove it")}
	}
	switch {
	case len(passing) == 0:
		return []Result{warn(name,
			fmt.Sprintf("the filter %s lets none of the MISP match rules (%s) through, so custom-telegram never gets a match", describeFilter(block), strings.Join(all, ", ")),
			fix)}
	case len(missing) > 0:
		sortRuleIDs(passing)
		return []Result{warn(name,
			fmt.Sprintf("the filter %s lets only %s of the MISP match rules through, so custom-telegram never gets the matches of rule %s", describeFilter(block), strings.Join(passing, ", "), strings.Join(missing, ", ")),
			fix)}
	}

	groups := splitList(block.Group)
	if !ids.Set && !slices.Contains(groups, matchGroup) && !slices.Contains(groups, "misp") {
		return []Result{warn(name,
			fmt.Sprintf("neither <rule_id> nor <group> selects the MISP match rules (%s, group %s), so custom-telegram runs for alerts it then drops", strings.Join(all, ", "), matchGroup),
			fix)}
	}
	return []Result{ok(name, "%s", describeFilter(block))}
}

// matchRules returns the rules of etc/rules that carry the group of MISP
// matches, one per id, or the shipped match rules when there are none.
func matchRules(set ruleSet) []Rule {
	var rules []Rule
	for _, rule := range set.local {
		if slices.Contains(rule.Groups, matchGroup) && !slices.ContainsFunc(rules, func(r Rule) bool { return r.ID == rule.ID }) {
			rules = append(rules, rule)
		}
	}
	if len(rules) > 0 {
		return rules
	}
	for _, id := range matchRuleIDs {
		rules = append(rules, Rule{ID: id, Level: matchRuleLevel, Groups: []string{"misp", matchGroup}, File: filepath.Join(localRulesDir, ourRulesFile)})
	}
	return rules
}

// sortRuleIDs sorts numeric rule ids by value.
func sortRuleIDs(ids []string) {
	slices.SortFunc(ids, func(a, b string) int {
		x, _ := strconv.Atoi(a)
		y, _ := strconv.Atoi(b)
		return x - y
	})
}
