package rules

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/standin"
)

// TestAnalysisdStandInAgrees keeps the analysisd stand-in, which builds the
// alerts the demo and the Telegram tests feed to custom-telegram, in step
// with these rules: for every sample event it must pick the rule the XML
// picks.
func TestAnalysisdStandInAgrees(t *testing.T) {
	tree := buildTree(loadRules(t))
	paths, err := filepath.Glob(filepath.Join("testdata", "events", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no sample events in testdata/events")
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			payload, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var compact map[string]any
			if err := json.Unmarshal(payload, &compact); err != nil {
				t.Fatal(err)
			}
			line, _ := json.Marshal(compact)

			alert, err := standin.AlertFromMessage(append([]byte("1:misp:"), line...), "1.1", time.Unix(0, 0))
			if err != nil {
				t.Fatal(err)
			}

			matched := tree.match(flattenEvent(t, payload))
			want := matched[len(matched)-1]
			rule := alert["rule"].(map[string]any)
			if rule["id"] != want {
				t.Errorf("stand-in chose rule %v, the XML chooses %s", rule["id"], want)
			}
		})
	}
}
