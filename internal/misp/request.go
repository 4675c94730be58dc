package misp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/indicator"
)

// DefaultLimit is the page size sent when Filters.Limit is 0. MISP applies
// enforceWarninglist after the SQL LIMIT, so a small page can come back empty
// although unlisted matches exist; 50 leaves room for that.
const DefaultLimit = 50

// Filters are the detection-quality filters of a search. A false flag or an
// empty list leaves that filter out of the request, so MISP does not filter
// on it at all.
type Filters struct {
	// ToIDS sends to_ids 1. Without it the JSON export also returns
	// attributes meant for context only.
	ToIDS bool
	// Published sends published 1, dropping attributes of unpublished events.
	Published bool
	// EnforceWarninglist sends enforceWarninglist 1, dropping attributes
	// that hit a warninglist enabled on the MISP instance.
	EnforceWarninglist bool
	// MaxAge keeps attributes whose event was published within this window
	// (publish_timestamp). 0 means no window. It is sent in MISP's relative
	// form ("30d", "12h", "90m", "45s") and rounded up to whole seconds.
	MaxAge time.Duration
	// Tags lists tags of which at least one must be on the attribute or its
	// event.
	Tags []string
	// ExcludeTags lists tags that must be on neither the attribute nor its
	// event.
	ExcludeTags []string
	// Limit is the page size; 0 means DefaultLimit. Only the first page is
	// requested.
	Limit int
}

// typeHalves maps each indicator kind to the MISP attribute types that can
// hold it, and to the half of a composite value ("first|second") that holds
// it: 1 for the first half or a plain value, 2 for the second. The grouping
// follows MISP's BroExport type lists. malware-sample values are
// "filename|md5", so the type only serves MD5 searches.
var typeHalves = map[indicator.Kind]map[string]int{
	indicator.IP: {
		"ip-src":      1,
		"ip-dst":      1,
		"ip-src|port": 1,
		"ip-dst|port": 1,
		"domain|ip":   2,
	},
	indicator.Domain: {
		"domain":        1,
		"hostname":      1,
		"domain|ip":     1,
		"hostname|port": 1,
	},
	indicator.MD5: {
		"md5":            1,
		"filename|md5":   2,
		"malware-sample": 2,
	},
	indicator.SHA1: {
		"sha1":          1,
		"filename|sha1": 2,
	},
	indicator.SHA256: {
		"sha256":          1,
		"filename|sha256": 2,
	},
}

// TypesFor returns the MISP attribute types, sorted, that can hold an
// indicator of kind k, or nil for an unknown kind.
func TypesFor(k indicator.Kind) []string {
	halves, ok := typeHalves[k]
	if !ok {
		return nil
	}
	types := make([]string, 0, len(halves))
	for t := range halves {
		types = append(types, t)
	}
	slices.Sort(types)
	return types
}

// searchRequest is the restSearch body. Field order fixes the key order on
// the wire, which the golden files pin.
type searchRequest struct {
	ReturnFormat       string     `json:"returnFormat"`
	Value              []string   `json:"value"`
	Type               []string   `json:"type"`
	ToIDS              int        `json:"to_ids,omitempty"`
	Published          int        `json:"published,omitempty"`
	EnforceWarninglist int        `json:"enforceWarninglist,omitempty"`
	IncludeEventUUID   int        `json:"includeEventUuid"`
	IncludeEventTags   int        `json:"includeEventTags"`
	Limit              int        `json:"limit"`
	Page               int        `json:"page"`
	PublishTimestamp   string     `json:"publish_timestamp,omitempty"`
	Tags               *tagFilter `json:"tags,omitempty"`
}

type tagFilter struct {
	OR  []string `json:"OR,omitempty"`
	NOT []string `json:"NOT,omitempty"`
}

// BuildSearchRequest returns the JSON body of a restSearch for the values of
// inds, limited to the attribute types of their kinds and to the filters in
// f. The value list is always a JSON array, because MISP splits a string
// value at "&&" or "||". It rejects an empty list, an unknown kind, and any
// value that MISP would read as an operator: a leading "!" (NOT), a leading
// or trailing "%" (LIKE), "&&" or "||". Extraction already rejects those, so
// this check is a second line of defence.
func BuildSearchRequest(inds []indicator.Indicator, f Filters) ([]byte, error) {
	if len(inds) == 0 {
		return nil, errors.New("no indicators to search: MISP treats a search without a value as a search for everything")
	}
	if err := f.validate(); err != nil {
		return nil, err
	}

	values := make([]string, 0, len(inds))
	var types []string
	for _, ind := range inds {
		kindTypes := TypesFor(ind.Kind)
		if kindTypes == nil {
			return nil, fmt.Errorf("indicator %s has unknown kind %q: expected one of md5, sha1, sha256, ip, domain", quoteValue(ind.Value), ind.Kind)
		}
		if err := checkValue(ind.Value); err != nil {
			return nil, err
		}
		if !slices.Contains(values, ind.Value) {
			values = append(values, ind.Value)
		}
		types = append(types, kindTypes...)
	}
	slices.Sort(types)
	types = slices.Compact(types)

	req := searchRequest{
		ReturnFormat:     "json",
		Value:            values,
		Type:             types,
		IncludeEventUUID: 1,
		IncludeEventTags: 1,
		Limit:            f.Limit,
		Page:             1,
	}
	if req.Limit == 0 {
		req.Limit = DefaultLimit
	}
	if f.ToIDS {
		req.ToIDS = 1
	}
	if f.Published {
		req.Published = 1
	}
	if f.EnforceWarninglist {
		req.EnforceWarninglist = 1
	}
	if f.MaxAge > 0 {
		req.PublishTimestamp = relativeAge(f.MaxAge)
	}
	if len(f.Tags) > 0 || len(f.ExcludeTags) > 0 {
		req.Tags = &tagFilter{OR: f.Tags, NOT: f.ExcludeTags}
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(req); err != nil {
		return nil, fmt.Errorf("encode restSearch body: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// validate checks the filters that can be wrong on their own. The messages
// name the config keys that usually set them.
func (f Filters) validate() error {
	if f.Limit < 0 {
		return fmt.Errorf("invalid misp limit %d: use 0 for the default of %d, or a positive page size", f.Limit, DefaultLimit)
	}
	if f.MaxAge < 0 {
		return fmt.Errorf("invalid misp max age %s: use 0 for no window, or a positive duration", f.MaxAge)
	}
	for _, list := range []struct {
		name string
		tags []string
	}{{"tags", f.Tags}, {"exclude_tags", f.ExcludeTags}} {
		for _, tag := range list.tags {
			if strings.TrimSpace(tag) == "" {
				return fmt.Errorf("invalid misp %s: a tag name is empty; remove it from the list", list.name)
			}
			if strings.HasPrefix(tag, "!") {
				return fmt.Errorf("invalid misp %s entry %q: MISP reads a leading \"!\" as NOT; put the tag in exclude_tags without the \"!\"", list.name, tag)
			}
		}
	}
	return nil
}

// checkValue rejects values that MISP would not match literally.
func checkValue(v string) error {
	switch {
	case strings.TrimSpace(v) == "":
		return errors.New("indicator value is empty: MISP trims it and would search for everything")
	case !utf8.ValidString(v):
		return fmt.Errorf("indicator value %s is not valid UTF-8: drop the indicator", quoteValue(v))
	case strings.HasPrefix(v, "!"):
		return fmt.Errorf("indicator value %s starts with \"!\", which MISP reads as NOT: drop the indicator", quoteValue(v))
	case strings.HasPrefix(v, "%") || strings.HasSuffix(v, "%"):
		return fmt.Errorf("indicator value %s starts or ends with \"%%\", which MISP reads as a LIKE wildcard: drop the indicator", quoteValue(v))
	case strings.Contains(v, "&&") || strings.Contains(v, "||"):
		return fmt.Errorf("indicator value %s contains \"&&\" or \"||\", which MISP reads as a list separator: drop the indicator", quoteValue(v))
	}
	return nil
}

// quoteValue quotes an alert-derived value for an error message, escaping
// control characters and cutting it to 64 bytes.
func quoteValue(v string) string {
	const maxLen = 64
	if len(v) > maxLen {
		return strconv.Quote(strings.ToValidUTF8(v[:maxLen], "")) + "..."
	}
	return strconv.Quote(v)
}

// relativeAge formats d the way MISP's resolveTimeDelta reads a relative
// time: an integer followed by d, h, m or s. A bare number would be read as
// an absolute Unix time, so a unit is always present.
func relativeAge(d time.Duration) string {
	seconds := int64(d / time.Second)
	if d%time.Second != 0 {
		seconds++
	}
	for _, unit := range []struct {
		suffix  string
		seconds int64
	}{{"d", 86400}, {"h", 3600}, {"m", 60}} {
		if seconds%unit.seconds == 0 {
			return strconv.FormatInt(seconds/unit.seconds, 10) + unit.suffix
		}
	}
	return strconv.FormatInt(seconds, 10) + "s"
}
