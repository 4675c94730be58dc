package misp

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/indicator"
)

// encode24 writes attributes back in the MISP 2.4 form (every id and
// timestamp a string), for the decode round trip.
func encode24(t *testing.T, attrs []Attribute) []byte {
	t.Helper()
	items := make([]map[string]any, 0, len(attrs))
	for _, a := range attrs {
		tags := make([]map[string]any, 0, len(a.Tags))
		for _, tag := range a.Tags {
			tags = append(tags, map[string]any{"name": tag.Name, "inherited": tag.Inherited})
		}
		item := map[string]any{
			"id": a.ID, "event_id": a.EventID, "object_id": a.ObjectID, "object_relation": a.ObjectRelation,
			"category": a.Category, "type": a.Type, "uuid": a.UUID, "comment": a.Comment, "value": a.Value,
			"event_uuid": a.EventUUID, "to_ids": a.ToIDS, "timestamp": strconv.FormatInt(a.Timestamp, 10),
			"first_seen": a.FirstSeen, "last_seen": a.LastSeen,
			"Event": map[string]any{
				"id": a.Event.ID, "uuid": a.Event.UUID, "info": a.Event.Info, "org_id": a.Event.OrgID,
				"orgc_id": a.Event.OrgcID, "publish_timestamp": strconv.FormatInt(a.Event.PublishTimestamp, 10),
			},
		}
		if a.Tags != nil {
			item["Tag"] = tags
		}
		if a.DecayScore != nil {
			item["decay_score"] = []map[string]any{{"score": *a.DecayScore}}
		}
		items = append(items, item)
	}
	body, err := json.Marshal(map[string]any{"response": map[string]any{"Attribute": items}})
	if err != nil {
		t.Fatalf("encode attributes: %v", err)
	}
	return body
}

func FuzzDecodeSearchResponse(f *testing.F) {
	for _, name := range []string{
		"restsearch_single_hit.json",                // 2.4 strings, no publish_timestamp
		"restsearch_multi_hit_composite.json",       // composites, object block, UTF-8 info
		"restsearch_empty.json",                     // MISP's empty response
		"derived_restsearch_ip_composites_2_5.json", // tags, decay scores, ISO first_seen
		"derived_restsearch_native_ints_2_5.json",   // 2.5 integers as numbers
	} {
		f.Add(fixture(f, name))
	}
	f.Add([]byte(`{"response":[]}`))                                                                    // empty list from mocks
	f.Add([]byte(`{"response":[{"Event":{}}]}`))                                                        // events-style answer
	f.Add([]byte(`{"response":{"Attribute":[{"id":1e3,"to_ids":"1","timestamp":"1.5"}]}}`))             // odd numeric forms
	f.Add([]byte(`{"response":{"Attribute":[{"value":"\ud800","Event":[],"Tag":[{"inherited":1}]}]}}`)) // lone surrogate, PHP empty array
	f.Add([]byte(`{"response":{"Attribute":[{"decay_score":[{"score":null},{"score":"7"}]}]}}`))        // null first score
	f.Add([]byte(`{"name":"Not Found","message":"Not Found","url":"\/x"}`))                             // error body
	f.Add([]byte(`<html>login</html>`))                                                                 // login page

	f.Fuzz(func(t *testing.T, body []byte) {
		attrs, err := DecodeSearchResponse(body)
		if err != nil {
			return
		}
		for i, a := range attrs {
			for _, s := range []string{a.ID, a.EventID, a.ObjectID, a.ObjectRelation, a.Category, a.Type, a.UUID,
				a.Comment, a.Value, a.EventUUID, a.FirstSeen, a.LastSeen, a.Event.ID, a.Event.UUID, a.Event.Info,
				a.Event.OrgID, a.Event.OrgcID} {
				if !utf8.ValidString(s) {
					t.Fatalf("attribute %d has a field with invalid UTF-8: %q", i, s)
				}
			}
		}

		again, err := DecodeSearchResponse(encode24(t, attrs))
		if err != nil {
			t.Fatalf("decoding the 2.4 form of a decoded answer failed: %v", err)
		}
		if len(attrs) == 0 && len(again) == 0 {
			return
		}
		if !reflect.DeepEqual(again, attrs) {
			t.Fatalf("round trip through the 2.4 form changed the attributes:\nfirst  %+v\nsecond %+v", attrs, again)
		}
	})
}

func FuzzBuildSearchRequest(f *testing.F) {
	f.Add("ip", "198.51.100.23", "domain", "evil.example", true, 0, "tlp:green")  // ordinary pair
	f.Add("md5", "!1f36209c1763d31af06a66f866dbb7b6", "md5", "abc", false, 5, "") // NOT prefix
	f.Add("sha1", "%abc", "sha256", "abc%", true, 0, "")                          // LIKE wildcards
	f.Add("domain", "a&&b", "domain", "a||b", false, 0, "")                       // list separators
	f.Add("domain", "a&b|c", "ip", "a\"b\\c</script>", true, 1, "x")              // single & and |, JSON escapes
	f.Add("url", "http://x.example/", "ip", "::1", true, -1, "!tag")              // unknown kind, bad limit, negated tag
	f.Add("ip", "\xff\xfe", "ip", " ", false, 0, "")                              // invalid UTF-8, blank

	f.Fuzz(func(t *testing.T, kind1, value1, kind2, value2 string, toIDS bool, limit int, tag string) {
		inds := []indicator.Indicator{
			{Kind: indicator.Kind(kind1), Value: value1},
			{Kind: indicator.Kind(kind2), Value: value2},
		}
		var tags []string
		if tag != "" {
			tags = []string{tag}
		}
		body, err := BuildSearchRequest(inds, Filters{ToIDS: toIDS, Limit: limit, Tags: tags})
		if err != nil {
			return
		}

		if !json.Valid(body) {
			t.Fatalf("body is not valid JSON: %s", body)
		}
		var got struct {
			Value []string `json:"value"`
			Type  []string `json:"type"`
			Limit int      `json:"limit"`
		}
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("value or type is not a list of strings: %v in %s", err, body)
		}
		if len(got.Value) == 0 || len(got.Type) == 0 {
			t.Fatalf("value %q or type %q is empty", got.Value, got.Type)
		}
		if got.Limit <= 0 {
			t.Fatalf("limit = %d, want a positive page size", got.Limit)
		}
		for _, v := range got.Value {
			if strings.TrimSpace(v) == "" || strings.HasPrefix(v, "!") || strings.HasPrefix(v, "%") ||
				strings.HasSuffix(v, "%") || strings.Contains(v, "&&") || strings.Contains(v, "||") {
				t.Fatalf("value %q is an operator form", v)
			}
			if v != value1 && v != value2 {
				t.Fatalf("value %q is neither input", v)
			}
		}
	})
}
