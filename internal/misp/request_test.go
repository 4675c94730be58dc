package misp

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/indicator"
)

func TestBuildSearchRequestGolden(t *testing.T) {
	tests := []struct {
		name    string
		inds    []indicator.Indicator
		filters Filters
	}{
		{
			name: "search_hashes.json",
			inds: []indicator.Indicator{
				{Kind: indicator.SHA256, Value: "7553d4a5914af58b23a9e0ce6a262cd230ed8bb2c30da3d42d26b295f9144ab7", Field: "syscheck.sha256_after"},
				{Kind: indicator.MD5, Value: "1f36209c1763d31af06a66f866dbb7b6", Field: "syscheck.md5_after"},
				{Kind: indicator.SHA1, Value: "01764db54541ced228a598fe020b3971f5ef82d7", Field: "syscheck.sha1_after"},
			},
			filters: Filters{ToIDS: true},
		},
		{
			name: "search_ip_domain.json",
			inds: []indicator.Indicator{
				{Kind: indicator.Domain, Value: "c2.evil.example", Field: "data.win.eventdata.queryName"},
				{Kind: indicator.IP, Value: "198.51.100.23", Field: "data.win.eventdata.queryResults", Query: "c2.evil.example"},
				{Kind: indicator.IP, Value: "2001:db8::17", Field: "data.win.eventdata.destinationIp"},
			},
			filters: Filters{ToIDS: true, Published: true, EnforceWarninglist: true},
		},
		{
			name: "search_all_filters.json",
			inds: []indicator.Indicator{
				{Kind: indicator.IP, Value: "198.51.100.23"},
				{Kind: indicator.MD5, Value: "1f36209c1763d31af06a66f866dbb7b6"},
			},
			filters: Filters{
				ToIDS:              true,
				Published:          true,
				EnforceWarninglist: true,
				MaxAge:             30 * 24 * time.Hour,
				Tags:               []string{"tlp:green", "tlp:clear"},
				ExcludeTags:        []string{"false-positive", "misp:to_ids=\"False\""},
				Limit:              20,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := BuildSearchRequest(tc.inds, tc.filters)
			if err != nil {
				t.Fatalf("BuildSearchRequest: %v", err)
			}
			if !json.Valid(got) {
				t.Fatalf("body is not valid JSON: %s", got)
			}
			golden(t, tc.name, append(got, '\n'))
		})
	}
}

func TestBuildSearchRequestFields(t *testing.T) {
	inds := []indicator.Indicator{
		{Kind: indicator.IP, Value: "198.51.100.23", Field: "a"},
		{Kind: indicator.IP, Value: "198.51.100.23", Field: "b"},
		{Kind: indicator.Domain, Value: "evil.example"},
	}
	body, err := BuildSearchRequest(inds, Filters{})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}

	if v, _ := got["value"].([]any); len(v) != 2 || v[0] != "198.51.100.23" || v[1] != "evil.example" {
		t.Errorf("value = %v, want [198.51.100.23 evil.example] (deduplicated, in order)", got["value"])
	}
	wantTypes := []any{"domain", "domain|ip", "hostname", "hostname|port", "ip-dst", "ip-dst|port", "ip-src", "ip-src|port"}
	if v, _ := got["type"].([]any); !slices.Equal(v, wantTypes) {
		t.Errorf("type = %v, want %v", got["type"], wantTypes)
	}
	for _, key := range []string{"to_ids", "published", "enforceWarninglist", "publish_timestamp", "tags"} {
		if _, ok := got[key]; ok {
			t.Errorf("%s is present with its filter off", key)
		}
	}
	if got["limit"] != float64(DefaultLimit) || got["page"] != float64(1) {
		t.Errorf("limit, page = %v, %v; want %d, 1", got["limit"], got["page"], DefaultLimit)
	}
	if got["returnFormat"] != "json" || got["includeEventUuid"] != float64(1) || got["includeEventTags"] != float64(1) {
		t.Errorf("returnFormat, includeEventUuid, includeEventTags = %v, %v, %v", got["returnFormat"], got["includeEventUuid"], got["includeEventTags"])
	}
}

func TestBuildSearchRequestExcludeOnly(t *testing.T) {
	body, err := BuildSearchRequest([]indicator.Indicator{{Kind: indicator.MD5, Value: "1f36209c1763d31af06a66f866dbb7b6"}}, Filters{ExcludeTags: []string{"false-positive"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), `"tags":{"NOT":["false-positive"]}`) {
		t.Errorf("body = %s, want tags with NOT only", body)
	}
}

func TestBuildSearchRequestRejects(t *testing.T) {
	md5 := func(v string) []indicator.Indicator { return []indicator.Indicator{{Kind: indicator.MD5, Value: v}} }
	tests := []struct {
		name    string
		inds    []indicator.Indicator
		filters Filters

		wantErr string
	}{
		{"no indicators", nil, Filters{}, "no indicators"},
		{"empty value", md5(" "), Filters{}, "empty"},
		{"not operator", md5("!1f36209c1763d31af06a66f866dbb7b6"), Filters{}, `"!1f36209c1763d31af06a66f866dbb7b6"`},
		{"leading wildcard", md5("%abc"), Filters{}, `"%abc"`},
		{"trailing wildcard", md5("abc%"), Filters{}, `"abc%"`},
		{"and separator", md5("a&&b"), Filters{}, `"a&&b"`},
		{"or separator", md5("a||b"), Filters{}, `"a||b"`},
		{"invalid utf-8", md5("\xff"), Filters{}, "not valid UTF-8"},
		{"unknown kind", []indicator.Indicator{{Kind: "url", Value: "http://x.example/"}}, Filters{}, `unknown kind "url"`},
		{"negative limit", md5("abc"), Filters{Limit: -1}, "limit -1"},
		{"negative max age", md5("abc"), Filters{MaxAge: -time.Hour}, "max age"},
		{"negated tag", md5("abc"), Filters{Tags: []string{"!tlp:red"}}, `"!tlp:red"`},
		{"empty tag", md5("abc"), Filters{ExcludeTags: []string{""}}, "exclude_tags"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, err := BuildSearchRequest(tc.inds, tc.filters)
			if err == nil {
				t.Fatalf("got body %s, want an error containing %q", body, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error = %q, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestBuildSearchRequestQuotesLongValue(t *testing.T) {
	long := "!" + strings.Repeat("a", 200) + "\n"
	_, err := BuildSearchRequest([]indicator.Indicator{{Kind: indicator.Domain, Value: long}}, Filters{})
	if err == nil {
		t.Fatal("got no error for a value starting with !")
	}
	if strings.Contains(err.Error(), "\n") || len(err.Error()) > 250 {
		t.Errorf("error = %q, want the value quoted and cut", err)
	}
}

func TestRelativeAge(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{30 * 24 * time.Hour, "30d"},
		{36 * time.Hour, "36h"},
		{90 * time.Minute, "90m"},
		{61 * time.Second, "61s"},
		{1500 * time.Millisecond, "2s"},
		{time.Nanosecond, "1s"},
	}
	for _, tc := range tests {
		if got := relativeAge(tc.in); got != tc.want {
			t.Errorf("relativeAge(%s) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTypesFor(t *testing.T) {
	tests := []struct {
		kind indicator.Kind
		want []string
	}{
		{indicator.IP, []string{"domain|ip", "ip-dst", "ip-dst|port", "ip-src", "ip-src|port"}},
		{indicator.Domain, []string{"domain", "domain|ip", "hostname", "hostname|port"}},
		{indicator.MD5, []string{"filename|md5", "malware-sample", "md5"}},
		{indicator.SHA1, []string{"filename|sha1", "sha1"}},
		{indicator.SHA256, []string{"filename|sha256", "sha256"}},
		{"url", nil},
	}
	for _, tc := range tests {
		if got := TypesFor(tc.kind); !slices.Equal(got, tc.want) {
			t.Errorf("TypesFor(%s) = %v, want %v", tc.kind, got, tc.want)
		}
	}
}

func TestTypesForReturnsCopy(t *testing.T) {
	TypesFor(indicator.MD5)[0] = "changed"
	if got := TypesFor(indicator.MD5)[0]; got != "filename|md5" {
		t.Errorf("TypesFor(md5)[0] = %q after a caller changed its copy", got)
	}
}
