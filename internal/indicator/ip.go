package indicator

import (
	"net/netip"
	"strings"
)

// NormalizeIP returns the canonical text of the address in s when it is a
// global address (see IsGlobal). An IPv4-mapped IPv6 address becomes the
// IPv4 address, and IPv6 is written compressed, so Sysmon's
// "0:0:0:0:0:0:0:1" and "::1" compare equal. An address with a zone, such
// as "fe80::1%eth0", is rejected.
func NormalizeIP(s string) (string, bool) {
	addr, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil || addr.Zone() != "" {
		return "", false
	}
	addr = addr.Unmap()
	if !IsGlobal(addr) {
		return "", false
	}
	return addr.String(), true
}

// IsGlobal reports whether addr is a globally reachable unicast address,
// the only kind worth looking up in threat intelligence. It unmaps an
// IPv4-mapped address first and rejects an address with a zone. The
// special ranges follow the IANA IPv4 and IPv6 Special-Purpose Address
// Registries. The two globally reachable anycast addresses inside
// 192.0.0.0/24 (192.0.0.9 and 192.0.0.10) are rejected with their block.
func IsGlobal(addr netip.Addr) bool {
	if !addr.IsValid() || addr.Zone() != "" {
		return false
	}
	addr = addr.Unmap()
	if addr.Is4() {
		return isGlobal4(addr)
	}
	return isGlobal6(addr)
}

// nonGlobal4 are the IPv4 blocks that are not globally reachable unicast.
var nonGlobal4 = mustParsePrefixes(
	"0.0.0.0/8",       // "this network"
	"10.0.0.0/8",      // private (RFC 1918)
	"100.64.0.0/10",   // shared address space, carrier-grade NAT (RFC 6598)
	"127.0.0.0/8",     // loopback
	"169.254.0.0/16",  // link-local
	"172.16.0.0/12",   // private (RFC 1918)
	"192.0.0.0/24",    // IETF protocol assignments
	"192.0.2.0/24",    // documentation, TEST-NET-1
	"192.88.99.0/24",  // deprecated 6to4 relay anycast
	"192.168.0.0/16",  // private (RFC 1918)
	"198.18.0.0/15",   // benchmarking
	"198.51.100.0/24", // documentation, TEST-NET-2
	"203.0.113.0/24",  // documentation, TEST-NET-3
	"224.0.0.0/4",     // multicast
	"240.0.0.0/4",     // reserved, including the broadcast 255.255.255.255
)

func isGlobal4(addr netip.Addr) bool {
	for _, p := range nonGlobal4 {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}

var (
	// globalUnicast6 is the only IPv6 block allocated for global unicast.
	// Everything outside it (loopback, unspecified, IPv4-compatible,
	// discard-only, ULA, link-local, multicast, SRv6 SIDs) is not global,
	// except NAT64 addresses.
	globalUnicast6 = netip.MustParsePrefix("2000::/3")

	// nat64 is the well-known NAT64 prefix (RFC 6052). Its addresses embed
	// an IPv4 address in the last 32 bits.
	nat64 = netip.MustParsePrefix("64:ff9b::/96")

	// sixToFour is 6to4 (RFC 3056). Its addresses embed an IPv4 address in
	// bits 16 to 47.
	sixToFour = netip.MustParsePrefix("2002::/16")

	// nonGlobal6 are the blocks inside 2000::/3 that are not global.
	nonGlobal6 = mustParsePrefixes(
		"2001::/23",     // IETF protocol assignments: Teredo, benchmarking, ORCHID
		"2001:db8::/32", // documentation
		"3fff::/20",     // documentation (RFC 9637)
	)

	// global6Exceptions are the globally reachable entries inside
	// 2001::/23: PCP, TURN and DNS-SD SRP anycast, AMT, AS112-v6,
	// ORCHIDv2 and DRIP.
	global6Exceptions = mustParsePrefixes(
		"2001:1::1/128",
		"2001:1::2/128",
		"2001:1::3/128",
		"2001:3::/32",
		"2001:4:112::/48",
		"2001:20::/28",
		"2001:30::/28",
	)
)

func isGlobal6(addr netip.Addr) bool {
	if nat64.Contains(addr) {
		b := addr.As16()
		return isGlobal4(netip.AddrFrom4([4]byte(b[12:16])))
	}
	if !globalUnicast6.Contains(addr) {
		return false
	}
	if sixToFour.Contains(addr) {
		b := addr.As16()
		return isGlobal4(netip.AddrFrom4([4]byte(b[2:6])))
	}
	for _, p := range global6Exceptions {
		if p.Contains(addr) {
			return true
		}
	}
	for _, p := range nonGlobal6 {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}

func mustParsePrefixes(list ...string) []netip.Prefix {
	prefixes := make([]netip.Prefix, len(list))
	for i, s := range list {
		prefixes[i] = netip.MustParsePrefix(s)
	}
	return prefixes
}
