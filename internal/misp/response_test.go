package misp

import (
	"reflect"
	"strings"
	"testing"
)

func TestDecodeFixtures(t *testing.T) {
	tests := []struct {
		fixture string

		wantCount int
		wantTypes []string
	}{
		{"restsearch_single_hit.json", 1, []string{"comment"}},
		{"restsearch_multi_hit_composite.json", 6, []string{"ip-src", "ip-dst", "filename|sha256", "filename|md5", "email-subject", "uri"}},
		{"restsearch_empty.json", 0, nil},
		// Derived from MISP source code, not captured from a live instance.
		{"derived_restsearch_ip_composites_2_5.json", 3, []string{"ip-dst|port", "domain|ip", "ip-dst"}},
		// Derived: 2.5 without PDO::ATTR_STRINGIFY_FETCHES sends numbers.
		{"derived_restsearch_native_ints_2_5.json", 1, []string{"comment"}},
	}
	for _, tc := range tests {
		t.Run(tc.fixture, func(t *testing.T) {
			attrs, err := DecodeSearchResponse(fixture(t, tc.fixture))
			if err != nil {
				t.Fatalf("DecodeSearchResponse: %v", err)
			}
			if len(attrs) != tc.wantCount {
				t.Fatalf("got %d attributes, want %d", len(attrs), tc.wantCount)
			}
			for i, want := range tc.wantTypes {
				if attrs[i].Type != want {
					t.Errorf("attribute %d type = %q, want %q", i, attrs[i].Type, want)
				}
			}
		})
	}
}

// The same attribute from MISP 2.4 (strings) and 2.5 (native integers)
// decodes to the same value.
func TestDecodeStringsAndNumbersAgree(t *testing.T) {
	fromStrings, err := DecodeSearchResponse(fixture(t, "restsearch_single_hit.json"))
	if err != nil {
		t.Fatal(err)
	}
	fromNumbers, err := DecodeSearchResponse(fixture(t, "derived_restsearch_native_ints_2_5.json"))
	if err != nil {
		t.Fatal(err)
	}

	want := Attribute{
		ID:        "44",
		EventID:   "30",
		ObjectID:  "0",
		Category:  "Other",
		Type:      "comment",
		UUID:      "7a5d856c-048a-4dbd-8e6d-41d1790c5ad0",
		Value:     "foobar",
		EventUUID: "8cca9f2f-9281-49fd-9b30-e16a8dbf6855",
		Timestamp: 1617056037,
		Event: EventInfo{
			ID:     "30",
			UUID:   "8cca9f2f-9281-49fd-9b30-e16a8dbf6855",
			Info:   "Correlation 1",
			OrgID:  "1",
			OrgcID: "1",
		},
	}
	if !reflect.DeepEqual(fromStrings[0], want) {
		t.Errorf("2.4 strings:\ngot  %+v\nwant %+v", fromStrings[0], want)
	}
	if !reflect.DeepEqual(fromNumbers[0], want) {
		t.Errorf("2.5 numbers:\ngot  %+v\nwant %+v", fromNumbers[0], want)
	}
}

func TestDecodeComposite25(t *testing.T) {
	attrs, err := DecodeSearchResponse(fixture(t, "derived_restsearch_ip_composites_2_5.json"))
	if err != nil {
		t.Fatal(err)
	}

	first := attrs[0]
	if first.Value != "198.51.100.23|443" || !first.ToIDS || first.Timestamp != 1709287211 {
		t.Errorf("first attribute value, to_ids, timestamp = %q, %v, %d", first.Value, first.ToIDS, first.Timestamp)
	}
	if first.Event.PublishTimestamp != 1709287300 || first.EventUUID != "5f0c2d1e-0000-4000-8000-000000000001" {
		t.Errorf("event publish_timestamp, event_uuid = %d, %q", first.Event.PublishTimestamp, first.EventUUID)
	}
	wantTags := []Tag{{Name: "tlp:green"}, {Name: "type:OSINT", Inherited: true}}
	if !reflect.DeepEqual(first.Tags, wantTags) {
		t.Errorf("tags = %+v, want %+v", first.Tags, wantTags)
	}
	if first.DecayScore == nil || *first.DecayScore != 71.25 {
		t.Errorf("decay score = %v, want 71.25", first.DecayScore)
	}

	second := attrs[1]
	if second.FirstSeen != "2024-03-01T10:00:00.000000+00:00" || second.LastSeen != "" {
		t.Errorf("first_seen, last_seen = %q, %q", second.FirstSeen, second.LastSeen)
	}
	if second.Comment != "resolved 2024-03-01" {
		t.Errorf("comment = %q", second.Comment)
	}

	third := attrs[2]
	if third.ObjectID != "51001" || third.ObjectRelation != "ip" {
		t.Errorf("object id, relation = %q, %q; want 51001, ip", third.ObjectID, third.ObjectRelation)
	}
}

func TestDecodeMultiHitObject(t *testing.T) {
	attrs, err := DecodeSearchResponse(fixture(t, "restsearch_multi_hit_composite.json"))
	if err != nil {
		t.Fatal(err)
	}
	object := attrs[4]
	if object.ObjectID != "20596" || object.ObjectRelation != "subject" || object.ToIDS {
		t.Errorf("object attribute id, relation, to_ids = %q, %q, %v", object.ObjectID, object.ObjectRelation, object.ToIDS)
	}
	if !strings.HasPrefix(object.Event.Info, "Email | RemcosRAT | Відбулося") {
		t.Errorf("event info = %q, want the UTF-8 text intact", object.Event.Info)
	}
	if attrs[0].Tags != nil || attrs[0].DecayScore != nil {
		t.Errorf("untagged attribute has tags %v, decay score %v", attrs[0].Tags, attrs[0].DecayScore)
	}
	if attrs[0].EventUUID != "542e4c9c-cadc-4f8f-bb11-6d13950d210b" {
		t.Errorf("event uuid = %q, want Event.uuid when event_uuid is absent", attrs[0].EventUUID)
	}
}

func TestDecodeLenient(t *testing.T) {
	tests := []struct {
		name string
		body string

		want []Attribute
	}{
		{"empty list", `{"response":[]}`, []Attribute{}},
		{"empty object", `{"response":{}}`, []Attribute{}},
		{"null attributes", `{"response":{"Attribute":null}}`, []Attribute{}},
		{
			"flags as digits",
			`{"response":{"Attribute":[{"id":1,"to_ids":"1","Tag":[{"name":"a","inherited":"0"},{"name":"b","inherited":true}]}]}}`,
			[]Attribute{{ID: "1", ToIDS: true, Tags: []Tag{{Name: "a"}, {Name: "b", Inherited: true}}}},
		},
		{
			"flag as number zero",
			`{"response":{"Attribute":[{"id":"2","to_ids":0}]}}`,
			[]Attribute{{ID: "2"}},
		},
		{
			"nulls everywhere",
			`{"response":{"Attribute":[{"id":null,"object_relation":null,"timestamp":null,"to_ids":null,"first_seen":null,"Event":null,"Tag":null,"decay_score":null}]}}`,
			[]Attribute{{}},
		},
		{
			"empty event list from PHP",
			`{"response":{"Attribute":[{"id":"3","Event":[]}]}}`,
			[]Attribute{{ID: "3"}},
		},
		{
			"timestamps as empty string and float",
			`{"response":{"Attribute":[{"timestamp":"","Event":{"publish_timestamp":1.7e9}}]}}`,
			[]Attribute{{Event: EventInfo{PublishTimestamp: 1700000000}}},
		},
		{
			"decay score as string",
			`{"response":{"Attribute":[{"decay_score":[{"score":"12.5"},{"score":99}]}]}}`,
			[]Attribute{{DecayScore: ptr(12.5)}},
		},
		{
			"unknown keys",
			`{"response":{"Attribute":[{"id":"4","warnings":[{"match":"x"}],"Sighting":[],"Event":{"id":"5","user_id":"3","Orgc":{}}}]},"extra":1}`,
			[]Attribute{{ID: "4", Event: EventInfo{ID: "5"}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeSearchResponse([]byte(tc.body))
			if err != nil {
				t.Fatalf("DecodeSearchResponse: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name string
		body string

		wantErr string
	}{
		{"empty body", ``, "decode restSearch response"},
		{"html", `<html><body>Login</body></html>`, "decode restSearch response"},
		{"top-level list", `[{"id":"1"}]`, "decode restSearch response"},
		{"no response key", `{"name":"Not Found","message":"Not Found","url":"/x"}`, `no "response" key`},
		{"response null", `{"response":null}`, `no "response" key`},
		{"events list", `{"response":[{"Event":{"id":"1"}}]}`, "list of events"},
		{"response string", `{"response":"ok"}`, "neither an object nor a list"},
		{"attribute list is object", `{"response":{"Attribute":{"id":"1"}}}`, "response.Attribute"},
		{"id is object", `{"response":{"Attribute":[{"id":{}}]}}`, "attribute 0: expected a string or number, got an object"},
		{"value is list", `{"response":{"Attribute":[{"id":"1"},{"value":["a"]}]}}`, "attribute 1: expected a string or number, got a list"},
		{"flag is word", `{"response":{"Attribute":[{"to_ids":"yes"}]}}`, "expected a flag"},
		{"timestamp is word", `{"response":{"Attribute":[{"timestamp":"soon"}]}}`, "expected an integer"},
		{"timestamp is fraction", `{"response":{"Attribute":[{"timestamp":1.5}]}}`, "expected an integer"},
		{"timestamp is bool", `{"response":{"Attribute":[{"timestamp":true}]}}`, "expected an integer, got a boolean"},
		{"score is word", `{"response":{"Attribute":[{"decay_score":[{"score":"high"}]}]}}`, "expected a number"},
		{"trailing data", `{"response":[]} {}`, "decode restSearch response"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeSearchResponse([]byte(tc.body))
			if err == nil {
				t.Fatalf("got %+v, want an error containing %q", got, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error = %q, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func BenchmarkDecodeSearchResponse(b *testing.B) {
	body := fixture(b, "restsearch_multi_hit_composite.json")
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := DecodeSearchResponse(body); err != nil {
			b.Fatal(err)
		}
	}
}

func ptr[T any](v T) *T { return &v }
