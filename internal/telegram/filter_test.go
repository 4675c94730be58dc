package telegram

import (
	"testing"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/alert"
)

func TestFilterSkip(t *testing.T) {
	a, err := alert.Decode([]byte(`{"rule":{"id":"920100","level":12,"groups":["misp","misp_match"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		filter Filter

		skip bool
	}{
		{"no filters", Filter{}, false},
		{"level met", Filter{MinLevel: 12}, false},
		{"level below", Filter{MinLevel: 13}, true},
		{"rule listed", Filter{RuleIDs: []string{"920101", "920100"}}, false},
		{"rule not listed", Filter{RuleIDs: []string{"920101"}}, true},
		{"group included", Filter{IncludeGroups: []string{"other", "misp_match"}}, false},
		{"group not included", Filter{IncludeGroups: []string{"other"}}, true},
		{"group excluded", Filter{ExcludeGroups: []string{"misp"}}, true},
		{"exclude other group", Filter{ExcludeGroups: []string{"noise"}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reason := tc.filter.Skip(a)
			if got := reason != ""; got != tc.skip {
				t.Errorf("Skip = %q, want skip=%v", reason, tc.skip)
			}
		})
	}
}
