package event

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/alert"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/misp"
	"github.com/soc-integrations/wazuh-misp-telegram/internal/testfixture"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixturePath returns the path of a shared fixture, such as "alerts/x.json".
func fixturePath(t testing.TB, name string) string {
	t.Helper()
	return testfixture.Path(t, name)
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(fixturePath(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// fixtureAttribute returns the attribute with the given id from a restSearch
// response fixture.
func fixtureAttribute(t testing.TB, name, id string) misp.Attribute {
	t.Helper()
	attrs, err := misp.DecodeSearchResponse(readFixture(t, name))
	if err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	for _, attr := range attrs {
		if attr.ID == id {
			return attr
		}
	}
	t.Fatalf("attribute %s not in %s", id, name)
	return misp.Attribute{}
}

// eventchannelAlert wraps the data object of a Windows eventchannel fixture
// into a whole alert, as analysisd writes it, after setting the eventdata
// values in edits.
func eventchannelAlert(t testing.TB, dataFixture string, wrapped bool, edits map[string]string, rule map[string]any, agent map[string]any) *alert.Alert {
	t.Helper()
	var data map[string]any
	if err := json.Unmarshal(readFixture(t, dataFixture), &data); err != nil {
		t.Fatalf("decode %s: %v", dataFixture, err)
	}
	if wrapped {
		data = data["data"].(map[string]any)
	}
	eventdata := data["win"].(map[string]any)["eventdata"].(map[string]any)
	for key, value := range edits {
		eventdata[key] = value
	}

	raw, err := json.Marshal(map[string]any{
		"timestamp": "2024-03-01T10:15:42.512+0000",
		"rule":      rule,
		"agent":     agent,
		"manager":   map[string]any{"name": "wazuh-manager"},
		"id":        "1709288142.4471102",
		"decoder":   map[string]any{"name": "windows_eventchannel"},
		"data":      data,
		"location":  "EventChannel",
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := alert.Decode(raw)
	if err != nil {
		t.Fatalf("decode wrapped %s: %v", dataFixture, err)
	}
	return a
}

func fixtureAlert(t testing.TB, name string) *alert.Alert {
	t.Helper()
	a, err := alert.Decode(readFixture(t, name))
	if err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return a
}

// checkGolden compares got with testdata/<name>.json, or rewrites the file
// with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("event differs from %s (run go test -update after checking the change)\n got %s\nwant %s", path, got, want)
	}
}

// decodeEvent parses an encoded event for property checks.
func decodeEvent(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("event is not valid JSON: %v\n%s", err, data)
	}
	return v
}

// lookup follows a path of object keys in a decoded event.
func lookup(v map[string]any, path ...string) (any, bool) {
	var cur any = v
	for _, key := range path {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[key]; !ok {
			return nil, false
		}
	}
	return cur, true
}
