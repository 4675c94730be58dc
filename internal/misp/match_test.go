package misp

import (
	"testing"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/indicator"
)

// hitIDs lists hits as "indicator value -> attribute id" for comparison.
func hitIDs(hits []Hit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.Indicator.Value+" -> "+h.Attribute.ID)
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestMatchFixtures(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		inds    []indicator.Indicator

		want []string
	}{
		{
			name:    "ip in port, domain and object attributes",
			fixture: "derived_restsearch_ip_composites_2_5.json",
			inds:    []indicator.Indicator{{Kind: indicator.IP, Value: "198.51.100.23"}},
			want:    []string{"198.51.100.23 -> 884201", "198.51.100.23 -> 884202", "198.51.100.23 -> 884203"},
		},
		{
			name:    "domain in domain|ip first half",
			fixture: "derived_restsearch_ip_composites_2_5.json",
			inds:    []indicator.Indicator{{Kind: indicator.Domain, Value: "C2.Evil.Example."}},
			want:    []string{"C2.Evil.Example. -> 884202"},
		},
		{
			name:    "indicator order first",
			fixture: "derived_restsearch_ip_composites_2_5.json",
			inds: []indicator.Indicator{
				{Kind: indicator.Domain, Value: "c2.evil.example"},
				{Kind: indicator.IP, Value: "198.51.100.23"},
			},
			want: []string{"c2.evil.example -> 884202", "198.51.100.23 -> 884201", "198.51.100.23 -> 884202", "198.51.100.23 -> 884203"},
		},
		{
			name:    "port alone matches nothing",
			fixture: "derived_restsearch_ip_composites_2_5.json",
			inds:    []indicator.Indicator{{Kind: indicator.IP, Value: "443"}},
			want:    nil,
		},
		{
			name:    "sha256 in filename|sha256, upper case",
			fixture: "restsearch_multi_hit_composite.json",
			inds:    []indicator.Indicator{{Kind: indicator.SHA256, Value: "7553D4A5914AF58B23A9E0CE6A262CD230ED8BB2C30DA3D42D26B295F9144AB7"}},
			want:    []string{"7553D4A5914AF58B23A9E0CE6A262CD230ED8BB2C30DA3D42D26B295F9144AB7 -> 35744"},
		},
		{
			name:    "md5 in filename|md5",
			fixture: "restsearch_multi_hit_composite.json",
			inds:    []indicator.Indicator{{Kind: indicator.MD5, Value: "1f36209c1763d31af06a66f866dbb7b6"}},
			want:    []string{"1f36209c1763d31af06a66f866dbb7b6 -> 35961"},
		},
		{
			name:    "file name half is not a hash",
			fixture: "restsearch_multi_hit_composite.json",
			inds:    []indicator.Indicator{{Kind: indicator.MD5, Value: "VirusShare_1f36209c1763d31af06a66f866dbb7b6"}},
			want:    nil,
		},
		{
			name:    "ips of ip-src and ip-dst",
			fixture: "restsearch_multi_hit_composite.json",
			inds: []indicator.Indicator{
				{Kind: indicator.IP, Value: "89.160.20.129"},
				{Kind: indicator.IP, Value: "81.2.69.193"},
			},
			want: []string{"89.160.20.129 -> 1084", "81.2.69.193 -> 6"},
		},
		{
			name:    "type outside the kind",
			fixture: "restsearch_multi_hit_composite.json",
			inds:    []indicator.Indicator{{Kind: indicator.Domain, Value: "druigvsegdaryadom.ir"}},
			want:    nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			attrs, err := DecodeSearchResponse(fixture(t, tc.fixture))
			if err != nil {
				t.Fatal(err)
			}
			got := hitIDs(Match(attrs, tc.inds))
			if !equalStrings(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestMatchCases(t *testing.T) {
	tests := []struct {
		name  string
		attrs []Attribute
		inds  []indicator.Indicator

		want []string
	}{
		{
			name:  "ipv6 written differently",
			attrs: []Attribute{{ID: "1", UUID: "u1", Type: "ip-dst|port", Value: "2001:db8:0:0:0:0:0:17|443"}},
			inds:  []indicator.Indicator{{Kind: indicator.IP, Value: "2001:db8::17"}},
			want:  []string{"2001:db8::17 -> 1"},
		},
		{
			name:  "ipv4-mapped ipv6",
			attrs: []Attribute{{ID: "1", UUID: "u1", Type: "ip-src", Value: "::ffff:198.51.100.7"}},
			inds:  []indicator.Indicator{{Kind: indicator.IP, Value: "198.51.100.7"}},
			want:  []string{"198.51.100.7 -> 1"},
		},
		{
			name:  "cidr does not match",
			attrs: []Attribute{{ID: "1", UUID: "u1", Type: "ip-dst", Value: "198.51.100.0/24"}},
			inds:  []indicator.Indicator{{Kind: indicator.IP, Value: "198.51.100.7"}},
			want:  nil,
		},
		{
			name:  "malware-sample holds an md5",
			attrs: []Attribute{{ID: "1", UUID: "u1", Type: "malware-sample", Value: "dropper.exe|1F36209C1763D31AF06A66F866DBB7B6"}},
			inds:  []indicator.Indicator{{Kind: indicator.MD5, Value: "1f36209c1763d31af06a66f866dbb7b6"}},
			want:  []string{"1f36209c1763d31af06a66f866dbb7b6 -> 1"},
		},
		{
			name:  "malware-sample never holds a sha1",
			attrs: []Attribute{{ID: "1", UUID: "u1", Type: "malware-sample", Value: "x|01764db54541ced228a598fe020b3971f5ef82d7"}},
			inds:  []indicator.Indicator{{Kind: indicator.SHA1, Value: "01764db54541ced228a598fe020b3971f5ef82d7"}},
			want:  nil,
		},
		{
			name:  "hostname|port first half",
			attrs: []Attribute{{ID: "1", UUID: "u1", Type: "hostname|port", Value: "www.evil.example|8443"}},
			inds:  []indicator.Indicator{{Kind: indicator.Domain, Value: "www.evil.example"}},
			want:  []string{"www.evil.example -> 1"},
		},
		{
			name:  "second half missing",
			attrs: []Attribute{{ID: "1", UUID: "u1", Type: "filename|sha1", Value: "01764db54541ced228a598fe020b3971f5ef82d7"}},
			inds:  []indicator.Indicator{{Kind: indicator.SHA1, Value: "01764db54541ced228a598fe020b3971f5ef82d7"}},
			want:  nil,
		},
		{
			name:  "split at the first bar",
			attrs: []Attribute{{ID: "1", UUID: "u1", Type: "filename|sha1", Value: "a|01764db54541ced228a598fe020b3971f5ef82d7|x"}},
			inds:  []indicator.Indicator{{Kind: indicator.SHA1, Value: "01764db54541ced228a598fe020b3971f5ef82d7"}},
			want:  nil,
		},
		{
			name: "same attribute twice",
			attrs: []Attribute{
				{ID: "1", UUID: "u1", Type: "ip-dst", Value: "198.51.100.7"},
				{ID: "1", UUID: "u1", Type: "ip-dst", Value: "198.51.100.7"},
			},
			inds: []indicator.Indicator{{Kind: indicator.IP, Value: "198.51.100.7"}},
			want: []string{"198.51.100.7 -> 1"},
		},
		{
			name:  "same indicator from two fields",
			attrs: []Attribute{{ID: "1", UUID: "u1", Type: "ip-dst", Value: "198.51.100.7"}},
			inds: []indicator.Indicator{
				{Kind: indicator.IP, Value: "198.51.100.7", Field: "data.srcip"},
				{Kind: indicator.IP, Value: "198.51.100.7", Field: "data.dstip"},
			},
			want: []string{"198.51.100.7 -> 1"},
		},
		{
			name: "no uuid falls back to id",
			attrs: []Attribute{
				{ID: "1", Type: "md5", Value: "1f36209c1763d31af06a66f866dbb7b6"},
				{ID: "2", Type: "md5", Value: "1f36209c1763d31af06a66f866dbb7b6"},
				{ID: "1", Type: "md5", Value: "1f36209c1763d31af06a66f866dbb7b6"},
			},
			inds: []indicator.Indicator{{Kind: indicator.MD5, Value: "1f36209c1763d31af06a66f866dbb7b6"}},
			want: []string{"1f36209c1763d31af06a66f866dbb7b6 -> 1", "1f36209c1763d31af06a66f866dbb7b6 -> 2"},
		},
		{
			name: "no uuid and no id kept apart",
			attrs: []Attribute{
				{Type: "md5", Value: "1f36209c1763d31af06a66f866dbb7b6"},
				{Type: "md5", Value: "1f36209c1763d31af06a66f866dbb7b6"},
			},
			inds: []indicator.Indicator{{Kind: indicator.MD5, Value: "1f36209c1763d31af06a66f866dbb7b6"}},
			want: []string{"1f36209c1763d31af06a66f866dbb7b6 -> ", "1f36209c1763d31af06a66f866dbb7b6 -> "},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := hitIDs(Match(tc.attrs, tc.inds))
			if !equalStrings(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestMatchKeepsIndicatorFields(t *testing.T) {
	ind := indicator.Indicator{Kind: indicator.IP, Value: "198.51.100.23", Field: "data.win.eventdata.queryResults", Query: "c2.evil.example"}
	attrs := []Attribute{{ID: "9", UUID: "u9", Type: "ip-dst", Value: "198.51.100.23", Event: EventInfo{Info: "C2"}}}
	hits := Match(attrs, []indicator.Indicator{ind})
	if len(hits) != 1 {
		t.Fatalf("got %d hits, want 1", len(hits))
	}
	if hits[0].Indicator != ind || hits[0].Attribute.Event.Info != "C2" {
		t.Errorf("hit = %+v, want the indicator and attribute unchanged", hits[0])
	}
}
