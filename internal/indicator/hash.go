package indicator

import "strings"

// hexLength returns the number of hex digits in a hash of kind, or 0 for a
// kind that is not a hash.
func hexLength(kind Kind) int {
	switch kind {
	case MD5:
		return 32
	case SHA1:
		return 40
	case SHA256:
		return 64
	default:
		return 0
	}
}

// NormalizeHash returns s as lower-case hex when it is a hash of kind: after
// trimming space, exactly 32 (MD5), 40 (SHA1) or 64 (SHA256) hex digits. It
// rejects any kind that is not a hash, and a hash of all zeros: that is a
// placeholder, such as the IMPHASH Sysmon writes for a file that is not an
// executable.
func NormalizeHash(kind Kind, s string) (string, bool) {
	s = strings.TrimSpace(s)
	n := hexLength(kind)
	if n == 0 || len(s) != n {
		return "", false
	}

	zero := true
	for i := range len(s) {
		c := s[i]
		if !isHexDigit(c) {
			return "", false
		}
		if c != '0' {
			zero = false
		}
	}
	if zero {
		return "", false
	}
	return strings.ToLower(s), true
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// emptyInputHashes are the hashes of zero bytes of data. Every empty file
// has them, so a match in MISP carries no information about the file. MISP's
// "empty-hashes" warninglist contains them for the same reason.
var emptyInputHashes = map[string]bool{
	"d41d8cd98f00b204e9800998ecf8427e":                                 true, // MD5
	"da39a3ee5e6b4b0d3255bfef95601890afd80709":                         true, // SHA1
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855": true, // SHA256
}
