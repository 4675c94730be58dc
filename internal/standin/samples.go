package standin

import (
	"embed"
	"path"
	"sort"
	"strings"
)

//go:embed samples/*.json
var samples embed.FS

// Sample is one bundled alert, one JSON line as integratord writes it.
type Sample struct {
	Name string
	Data []byte
}

// Samples returns the bundled sample alerts in name order: Sysmon events
// from Windows and Linux, file-integrity alerts, and an alert that carries
// nothing to look up. Some of their indicators are in the MISP seed.
func Samples() ([]Sample, error) {
	entries, err := samples.ReadDir("samples")
	if err != nil {
		return nil, err
	}
	var out []Sample
	for _, entry := range entries {
		data, err := samples.ReadFile(path.Join("samples", entry.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, Sample{Name: strings.TrimSuffix(entry.Name(), ".json"), Data: data})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
