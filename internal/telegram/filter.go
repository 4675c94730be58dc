package telegram

import (
	"slices"
	"strconv"
	"strings"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/alert"
)

// Filter selects the alerts worth a message, from the [telegram] config
// table. Empty lists match every alert.
type Filter struct {
	MinLevel      int
	RuleIDs       []string
	IncludeGroups []string // the alert needs at least one
	ExcludeGroups []string // the alert must have none
}

// Skip returns why a is filtered out, or "" when it passes.
func (f Filter) Skip(a *alert.Alert) string {
	if a.Rule.Level < f.MinLevel {
		return "rule level " + strconv.Itoa(a.Rule.Level) + " is below telegram.min_level " + strconv.Itoa(f.MinLevel)
	}
	if len(f.RuleIDs) > 0 && !slices.Contains(f.RuleIDs, strings.TrimSpace(a.Rule.ID)) {
		return "rule id is not in telegram.rule_ids"
	}
	if len(f.IncludeGroups) > 0 && !slices.ContainsFunc(f.IncludeGroups, a.HasGroup) {
		return "rule has none of telegram.include_groups"
	}
	if slices.ContainsFunc(f.ExcludeGroups, a.HasGroup) {
		return "rule has a group in telegram.exclude_groups"
	}
	return ""
}
