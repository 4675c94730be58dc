package indicator

import (
	"net/netip"
	"strings"
	"testing"
)

func TestNormalizeHash(t *testing.T) {
	tests := []struct {
		name string
		kind Kind
		in   string

		want string
		ok   bool
	}{
		{name: "md5 upper", kind: MD5, in: "4B9E87D1547A4FC9E47D6A6D8DC5E381", want: "4b9e87d1547a4fc9e47d6a6d8dc5e381", ok: true},
		{name: "sha1 padded", kind: SHA1, in: " ED96EEAD6232E2A1591ECD5B0B3544F98F5E3DE1\n", want: "ed96eead6232e2a1591ecd5b0b3544f98f5e3de1", ok: true},
		{name: "sha256", kind: SHA256, in: "0479327e7136fa14f69d231d1b38cf654421073c8a0166bf6690a3d2c0b14ffa",
			want: "0479327e7136fa14f69d231d1b38cf654421073c8a0166bf6690a3d2c0b14ffa", ok: true},
		{name: "md5 as sha1", kind: SHA1, in: "4b9e87d1547a4fc9e47d6a6d8dc5e381"},
		{name: "sha1 as md5", kind: MD5, in: "ed96eead6232e2a1591ecd5b0b3544f98f5e3de1"},
		{name: "md5 too short", kind: MD5, in: "4b9e87d1547a4fc9e47d6a6d8dc5e38"},
		{name: "md5 too long", kind: MD5, in: "4b9e87d1547a4fc9e47d6a6d8dc5e3811"},
		{name: "non-hex", kind: MD5, in: "4b9e87d1547a4fc9e47d6a6d8dc5e38g"},
		{name: "inner space", kind: MD5, in: "4b9e87d1547a4fc9 47d6a6d8dc5e381"},
		{name: "all zeros md5", kind: MD5, in: "00000000000000000000000000000000"},
		{name: "all zeros sha256", kind: SHA256, in: strings.Repeat("0", 64)},
		{name: "one nonzero", kind: MD5, in: "00000000000000000000000000000001", want: "00000000000000000000000000000001", ok: true},
		{name: "empty", kind: MD5, in: ""},
		{name: "dash", kind: MD5, in: "-"},
		{name: "ip kind", kind: IP, in: "4b9e87d1547a4fc9e47d6a6d8dc5e381"},
		{name: "unknown kind", kind: Kind("sha512"), in: strings.Repeat("a", 128)},
		{name: "wildcard", kind: MD5, in: "%b9e87d1547a4fc9e47d6a6d8dc5e381"},
		{name: "negation", kind: MD5, in: "!b9e87d1547a4fc9e47d6a6d8dc5e381"},
		{name: "fullwidth digit", kind: MD5, in: "４b9e87d1547a4fc9e47d6a6d8dc5e3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := NormalizeHash(tc.kind, tc.in)
			if got != tc.want || ok != tc.ok {
				t.Errorf("NormalizeHash(%q, %q) = %q, %v, want %q, %v", tc.kind, tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestNormalizeIP(t *testing.T) {
	tests := []struct {
		in string

		want string
		ok   bool
	}{
		// Global addresses.
		{in: "91.189.91.157", want: "91.189.91.157", ok: true},
		{in: " 1.1.123.23\t", want: "1.1.123.23", ok: true},
		{in: "::ffff:52.119.198.91", want: "52.119.198.91", ok: true},
		{in: "0:0:0:0:0:ffff:3477:c65b", want: "52.119.198.91", ok: true},
		{in: "2606:4700:4700:0:0:0:0:1111", want: "2606:4700:4700::1111", ok: true},
		{in: "2A00:1450:4001:082B:0000:0000:0000:200E", want: "2a00:1450:4001:82b::200e", ok: true},
		{in: "100.63.255.255", want: "100.63.255.255", ok: true},
		{in: "100.128.0.0", want: "100.128.0.0", ok: true},
		{in: "198.20.0.1", want: "198.20.0.1", ok: true},
		{in: "64:ff9b::808:808", want: "64:ff9b::808:808", ok: true},
		{in: "2002:808:808::1", want: "2002:808:808::1", ok: true},
		{in: "2001:4:112::1", want: "2001:4:112::1", ok: true},
		{in: "2001:1::1", want: "2001:1::1", ok: true},

		// Sysmon's loopback and other non-global addresses.
		{in: "0:0:0:0:0:0:0:1"},
		{in: "::1"},
		{in: "::"},
		{in: "0.0.0.0"},
		{in: "0.1.2.3"},
		{in: "127.0.0.1"},
		{in: "10.1.2.3"},
		{in: "172.16.0.1"},
		{in: "172.31.255.255"},
		{in: "192.168.0.4"},
		{in: "::ffff:192.168.0.4"},
		{in: "169.254.169.254"},
		{in: "100.64.0.1"},
		{in: "100.127.255.255"},
		{in: "192.0.0.9"},
		{in: "192.0.2.1"},
		{in: "198.51.100.7"},
		{in: "203.0.113.9"},
		{in: "198.18.0.1"},
		{in: "198.19.255.255"},
		{in: "192.88.99.1"},
		{in: "224.0.0.251"},
		{in: "239.255.255.250"},
		{in: "240.0.0.1"},
		{in: "255.255.255.255"},
		{in: "fe80::1"},
		{in: "fe80::1%eth0"},
		{in: "2606:4700:4700::1111%1"},
		{in: "fc00::1"},
		{in: "fd12:3456:789a::1"},
		{in: "fec0::1"},
		{in: "ff02::fb"},
		{in: "ff0e::1"},
		{in: "2001:db8::1"},
		{in: "3fff::1"},
		{in: "2001::1"},
		{in: "2001:2::1"},
		{in: "2001:10::1"},
		{in: "100::1"},
		{in: "64:ff9b::a00:1"},
		{in: "64:ff9b:1::808:808"},
		{in: "2002:c0a8:1::1"},
		{in: "5f00::1"},
		{in: "::8.8.8.8"},

		// Not addresses.
		{in: ""},
		{in: "-"},
		{in: "8.8.8"},
		{in: "8.8.8.8.8"},
		{in: "08.8.8.8"},
		{in: "8.8.8.8/32"},
		{in: "[2606:4700:4700::1111]"},
		{in: "8.8.8.8:53"},
		{in: "!8.8.8.8"},
		{in: "%8.8.8.8%"},
		{in: "example.com"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := NormalizeIP(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Errorf("NormalizeIP(%q) = %q, %v, want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestIsGlobal(t *testing.T) {
	tests := []struct {
		addr netip.Addr
		want bool
	}{
		{netip.Addr{}, false},
		{netip.MustParseAddr("8.8.8.8"), true},
		{netip.MustParseAddr("::ffff:8.8.8.8"), true},
		{netip.MustParseAddr("::ffff:10.0.0.1"), false},
		{netip.MustParseAddr("2a00:1450::1"), true},
		{netip.MustParseAddr("2a00:1450::1%eth0"), false},
		{netip.MustParseAddr("1.0.0.0"), true},
		{netip.MustParseAddr("223.255.255.255"), true},
		{netip.MustParseAddr("3ffe::1"), true},
		{netip.MustParseAddr("4000::1"), false},
	}
	for _, tc := range tests {
		if got := IsGlobal(tc.addr); got != tc.want {
			t.Errorf("IsGlobal(%v) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}

func TestNormalizeDomain(t *testing.T) {
	tests := []struct {
		name string
		in   string

		want string
		ok   bool
	}{
		{name: "plain", in: "img-s-msn-com.akamaized.net", want: "img-s-msn-com.akamaized.net", ok: true},
		{name: "upper case", in: "Detail43.MyFirewall.ORG", want: "detail43.myfirewall.org", ok: true},
		{name: "trailing dot", in: "example.com.", want: "example.com", ok: true},
		{name: "two trailing dots", in: "example.com.."},
		{name: "leading dot", in: ".example.com"},
		{name: "empty label", in: "example..com"},
		{name: "padded", in: "  example.com\n", want: "example.com", ok: true},
		{name: "idn", in: "bücher.example", want: "xn--bcher-kva.example", ok: true},
		{name: "idn upper trailing dot", in: "BÜCHER.example.", want: "xn--bcher-kva.example", ok: true},
		{name: "punycode kept", in: "xn--bcher-kva.example", want: "xn--bcher-kva.example", ok: true},
		{name: "fullwidth letters", in: "ＥＸＡＭＰＬＥ.com", want: "example.com", ok: true},
		{name: "ideographic dot", in: "bücher。example", want: "xn--bcher-kva.example", ok: true},
		{name: "underscore", in: "_dmarc.example.com", want: "_dmarc.example.com", ok: true},
		{name: "underscore with idn", in: "_dmarc.bücher.example"},
		{name: "digits", in: "1password.com", want: "1password.com", ok: true},
		{name: "hyphen edge", in: "-a.example.com", want: "-a.example.com", ok: true},
		{name: "idn hyphen edge", in: "-a.bücher.example"},
		{name: "cname target", in: "a1834.dspg2.akamai.net", want: "a1834.dspg2.akamai.net", ok: true},

		{name: "single label", in: "wpad"},
		{name: "single label dot", in: "wpad."},
		{name: "empty", in: ""},
		{name: "dot", in: "."},
		{name: "dash", in: "-"},
		{name: "ipv4", in: "8.8.8.8"},
		{name: "ipv4 trailing dot", in: "8.8.8.8."},
		{name: "numeric tld", in: "host.123"},
		{name: "ipv6", in: "2606:4700::1111"},
		{name: "bracketed ipv6", in: "[::1]"},
		{name: "local", in: "printer.local"},
		{name: "localhost", in: "localhost"},
		{name: "sub localhost", in: "app.localhost"},
		{name: "localdomain", in: "localhost.localdomain"},
		{name: "reverse", in: "4.3.2.1.in-addr.arpa"},
		{name: "home arpa", in: "nas.home.arpa"},
		{name: "internal", in: "db.corp.internal"},
		{name: "lan", in: "router.lan"},
		{name: "local lookalike", in: "mylocal.com", want: "mylocal.com", ok: true},
		{name: "local in middle", in: "local.example.com", want: "local.example.com", ok: true},

		{name: "negation", in: "!evil.com"},
		{name: "wildcard both", in: "%evil%"},
		{name: "wildcard end", in: "evil.com%"},
		{name: "and operator", in: "a&&b.com"},
		{name: "or operator", in: "a||b.com"},
		{name: "single ampersand", in: "a&b.com"},
		{name: "pipe", in: "a|b.com"},
		{name: "inner space", in: "evil .com"},
		{name: "tab", in: "evil\t.com"},
		{name: "nul", in: "evil\x00.com"},
		{name: "newline inside", in: "evil.com\nx.com"},
		{name: "no-break space", in: "evil\u00a0.com"},
		{name: "bidi control", in: "evil\u202e.com"},
		{name: "fullwidth bang", in: "！evil.com"},
		{name: "invalid utf8", in: "evil\xff.com"},
		{name: "url", in: "http://evil.com/"},
		{name: "port", in: "evil.com:443"},
		{name: "slash", in: "evil.com/x"},
		{name: "star", in: "*.evil.com"},
		{name: "quote", in: `evil".com`},

		{name: "label 63", in: strings.Repeat("a", 63) + ".com", want: strings.Repeat("a", 63) + ".com", ok: true},
		{name: "label 64", in: strings.Repeat("a", 64) + ".com"},
		{name: "name 253", in: longName(253), want: longName(253), ok: true},
		{name: "name 254", in: longName(254)},
		{name: "huge", in: strings.Repeat("a.", 1<<20) + "com"},
		{name: "huge idn", in: strings.Repeat("ü", 1<<16) + ".com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := NormalizeDomain(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Errorf("NormalizeDomain(%.80q) = %q, %v, want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// longName returns a valid name of exactly n characters ending in ".com",
// made of labels of up to 63 characters.
func longName(n int) string {
	var b strings.Builder
	for m := n - len(".com"); m > 0; {
		label := min(maxLabelLength, m)
		if m-label == 1 {
			// Leave room for a dot and a one-character label.
			label--
		}
		b.WriteString(strings.Repeat("a", label))
		m -= label
		if m > 0 {
			b.WriteByte('.')
			m--
		}
	}
	return b.String() + ".com"
}

func TestLongName(t *testing.T) {
	for _, n := range []int{10, 67, 68, 69, 130, 253} {
		if s := longName(n); len(s) != n || !hasValidLabels(s) {
			t.Errorf("longName(%d) = %q (%d characters), want %d characters in valid labels", n, s, len(s), n)
		}
	}
}

// TestAcceptedValuesSafe checks the property that makes MISP's restSearch
// take a value literally: no accepted value of any kind starts with '!',
// starts or ends with '%', or contains "&&" or "||".
func TestAcceptedValuesSafe(t *testing.T) {
	hostile := []string{
		"!evil.com", "%evil%", "evil%", "%evil", "a&&b", "a&&b.com", "a||b.com", "||evil.com",
		"!8.8.8.8", "8.8.8.8%", "%8.8.8.8", "!!", "%", "&&", "||",
		"!4b9e87d1547a4fc9e47d6a6d8dc5e38", "%4b9e87d1547a4fc9e47d6a6d8dc5e3%",
		"4b9e87d1547a4fc9e47d6a6d8&&c5e381", "fe80::1%25eth0", "2606:4700::1111%eth0",
		"！evil.com", "％evil.com", "evil.com％", "ａ＆＆ｂ.com", "ａ｜｜ｂ.com",
	}
	for _, s := range hostile {
		for _, kind := range []Kind{MD5, SHA1, SHA256} {
			if v, ok := NormalizeHash(kind, s); ok && !isSafeSearchValue(v) {
				t.Errorf("NormalizeHash(%q, %q) = %q, an unsafe value", kind, s, v)
			}
		}
		if v, ok := NormalizeIP(s); ok && !isSafeSearchValue(v) {
			t.Errorf("NormalizeIP(%q) = %q, an unsafe value", s, v)
		}
		if v, ok := NormalizeDomain(s); ok && !isSafeSearchValue(v) {
			t.Errorf("NormalizeDomain(%q) = %q, an unsafe value", s, v)
		}
	}
}

func TestIsSafeSearchValue(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"example.com", true},
		{"a-b.example.com", true},
		{"2606:4700::1111", true},
		{"", false},
		{"!example.com", false},
		{"%example.com", false},
		{"example.com%", false},
		{"a&&b", false},
		{"a||b", false},
		{"a%b", true},
		{"a&b", true},
	}
	for _, tc := range tests {
		if got := isSafeSearchValue(tc.in); got != tc.want {
			t.Errorf("isSafeSearchValue(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func FuzzNormalizeIP(f *testing.F) {
	// Sysmon's uncompressed IPv6 loopback.
	f.Add("0:0:0:0:0:0:0:1")
	// IPv4-mapped IPv6, as in Sysmon DNS answers.
	f.Add("::ffff:52.119.198.91")
	// A global IPv6 address in uncompressed upper case.
	f.Add("2606:4700:4700:0:0:0:0:1111")
	// A zone, which is rejected.
	f.Add("fe80::1%eth0")
	// Leading zeros, which netip rejects.
	f.Add("010.1.1.1")
	// NAT64 and 6to4 forms that embed an IPv4 address.
	f.Add("64:ff9b::808:808")
	f.Add("2002:c0a8:1::1")

	f.Fuzz(func(t *testing.T, s string) {
		got, ok := NormalizeIP(s)
		if !ok {
			if got != "" {
				t.Fatalf("NormalizeIP(%q) = %q with ok false", s, got)
			}
			return
		}
		if !isSafeSearchValue(got) {
			t.Fatalf("NormalizeIP(%q) = %q, an unsafe value", s, got)
		}
		again, ok := NormalizeIP(got)
		if !ok || again != got {
			t.Fatalf("NormalizeIP(%q) = %q, %v, want %q, true (idempotence)", got, again, ok, got)
		}
		addr, err := netip.ParseAddr(got)
		if err != nil || !IsGlobal(addr) || addr.Is4In6() || addr.Zone() != "" {
			t.Fatalf("NormalizeIP(%q) = %q, not a global unmapped address", s, got)
		}
	})
}

func FuzzNormalizeDomain(f *testing.F) {
	// A CDN name from a Sysmon DNS event.
	f.Add("img-s-msn-com.akamaized.net")
	// An IDN with a trailing dot and upper case.
	f.Add("BÜCHER.example.")
	// Full-width letters and an ideographic full stop, which IDNA maps.
	f.Add("ＥＸＡＭＰＬＥ。com")
	// MISP operators.
	f.Add("!evil.com")
	f.Add("%evil%")
	f.Add("a&&b.com")
	// An IP literal and a local name.
	f.Add("8.8.8.8")
	f.Add("printer.local")
	// An underscore label.
	f.Add("_dmarc.example.com")

	f.Fuzz(func(t *testing.T, s string) {
		got, ok := NormalizeDomain(s)
		if !ok {
			if got != "" {
				t.Fatalf("NormalizeDomain(%q) = %q with ok false", s, got)
			}
			return
		}
		if !isSafeSearchValue(got) {
			t.Fatalf("NormalizeDomain(%q) = %q, an unsafe value", s, got)
		}
		again, ok := NormalizeDomain(got)
		if !ok || again != got {
			t.Fatalf("NormalizeDomain(%q) = %q, %v, want %q, true (idempotence)", got, again, ok, got)
		}
		if !hasValidLabels(got) || !strings.Contains(got, ".") {
			t.Fatalf("NormalizeDomain(%q) = %q, not a lower-case multi-label name", s, got)
		}
	})
}

func FuzzNormalizeHash(f *testing.F) {
	// A Sysmon MD5 in upper case.
	f.Add("4B9E87D1547A4FC9E47D6A6D8DC5E381")
	// An all-zero IMPHASH.
	f.Add("00000000000000000000000000000000")
	// A SHA1 and a SHA256 from syscheck.
	f.Add("dc090d4e165df77333ccf6adaf0d4f96541fb22b")
	f.Add("5583bbc9f63d24e44bbe34298d2f8421da25cdaada00e6c9ac765a16ded4204b")

	f.Fuzz(func(t *testing.T, s string) {
		for _, kind := range []Kind{MD5, SHA1, SHA256} {
			got, ok := NormalizeHash(kind, s)
			if !ok {
				continue
			}
			if !isSafeSearchValue(got) || len(got) != hexLength(kind) || strings.ToLower(got) != got {
				t.Fatalf("NormalizeHash(%q, %q) = %q, not lower-case hex of the right length", kind, s, got)
			}
			if again, ok := NormalizeHash(kind, got); !ok || again != got {
				t.Fatalf("NormalizeHash(%q, %q) = %q, %v, want %q, true (idempotence)", kind, got, again, ok, got)
			}
		}
	})
}
