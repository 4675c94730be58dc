package indicator

import (
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

const (
	// maxDomainLength is the longest name in text form without the root
	// dot (RFC 1035 allows 255 octets on the wire).
	maxDomainLength = 253

	// maxLabelLength is the longest label (RFC 1035).
	maxLabelLength = 63

	// maxDomainInput bounds the input that reaches IDNA conversion: room
	// for maxDomainLength runes of up to 4 bytes each and a trailing dot.
	// Runes that IDNA maps to nothing, such as a soft hyphen, count too.
	maxDomainInput = 4*maxDomainLength + 1
)

// localSuffixes are names that never leave a site: mDNS (RFC 6762),
// localhost (RFC 6761), reverse-mapping and home networks under .arpa
// (RFC 8375), ICANN's private-use .internal, and the common .lan and
// .localdomain defaults of home routers and Linux installers.
var localSuffixes = []string{"local", "localhost", "localdomain", "arpa", "internal", "lan"}

// NormalizeDomain returns s as a lower-case ASCII domain name that is worth
// looking up. It trims space, strips one trailing dot and converts an
// internationalised name to punycode with the IDNA Lookup profile. The
// result has at least two labels of 1 to 63 letters, digits, hyphens or
// underscores (underscores occur in real DNS, as in _dmarc), and at most 253
// characters. NormalizeDomain rejects IP literals, names under a
// local-only suffix (.local, .localhost, .localdomain, .arpa, .internal,
// .lan), and any input that contains '!', '%', '&', '|', whitespace or a
// control character.
func NormalizeDomain(s string) (string, bool) {
	name, ok := canonicalName(s)
	if !ok || !isPublicName(name) {
		return "", false
	}
	return name, true
}

// canonicalName does the syntax half of NormalizeDomain. It also accepts
// single-label and local names, which name a DNS query but are not looked
// up.
func canonicalName(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxDomainInput || hasForbiddenRune(s) {
		return "", false
	}
	s = strings.TrimSuffix(s, ".")

	if isASCII(s) {
		s = strings.ToLower(s)
	} else {
		// Lookup maps case and width (so "Ｅ" becomes "e") and rejects
		// runes that IDNA 2008 disallows. Its STD3 rules reject an
		// underscore, so only ASCII names may contain one.
		ascii, err := idna.Lookup.ToASCII(s)
		if err != nil {
			return "", false
		}
		s = ascii
	}

	if !hasValidLabels(s) {
		return "", false
	}
	return s, true
}

// hasForbiddenRune reports whether s is not valid UTF-8 or contains a rune
// that no domain name contains, among them the characters that MISP reads
// as search syntax in a value.
func hasForbiddenRune(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		switch {
		case r == '!', r == '%', r == '&', r == '|':
			return true
		case unicode.IsSpace(r), unicode.IsControl(r):
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// hasValidLabels checks the lower-case ASCII name s: at most
// maxDomainLength characters, each label 1 to maxLabelLength characters of
// [a-z0-9_-].
func hasValidLabels(s string) bool {
	if len(s) == 0 || len(s) > maxDomainLength {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if len(label) == 0 || len(label) > maxLabelLength {
			return false
		}
		for i := range len(label) {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// isPublicName reports whether the canonical name has the shape of a
// public DNS name: two labels or more, a top-level label that is not all
// digits (so no IPv4 literal), and no local-only suffix.
func isPublicName(name string) bool {
	dot := strings.LastIndexByte(name, '.')
	if dot < 0 {
		return false
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return false
	}
	if isAllDigits(name[dot+1:]) {
		return false
	}
	for _, suffix := range localSuffixes {
		if name == suffix || strings.HasSuffix(name, "."+suffix) {
			return false
		}
	}
	return true
}

func isAllDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
