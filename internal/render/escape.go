package render

import (
	"fmt"
	"net/url"
	"strings"
)

// reservedText lists the characters that must be escaped with a preceding
// backslash in MarkdownV2 normal text (Bot API "MarkdownV2 style"), the
// backslash included.
const reservedText = "_*[]()~`>#+-=|{}.!\\"

// reservedCode and reservedURL are the characters to escape inside code or
// pre entities, and inside the (...) URL part of an inline link.
const (
	reservedCode = "`\\"
	reservedURL  = ")\\"
)

// EscapeText escapes s for MarkdownV2 normal text, including inside bold,
// italic, underline, strikethrough, spoiler and link labels.
func EscapeText(s string) string { return escape(s, reservedText) }

// EscapeCode escapes s for the inside of an inline code span or a pre block.
func EscapeCode(s string) string { return escape(s, reservedCode) }

// EscapeURL escapes s for the (...) part of an inline link. It returns "" for
// anything but an absolute http or https URL with a host, so an alert value
// cannot turn a link into tg:// or javascript: targets.
func EscapeURL(s string) string {
	if !IsWebURL(s) {
		return ""
	}
	return escape(s, reservedURL)
}

// IsWebURL reports whether s is an absolute http or https URL with a host
// and no control characters or spaces.
func IsWebURL(s string) bool {
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return false
	}
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	return (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func escape(s, reserved string) string {
	if !strings.ContainsAny(s, reserved) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	for _, r := range s {
		if r < 0x80 && strings.IndexByte(reserved, byte(r)) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// text converts a template argument to a string: strings as they are,
// numbers and other values in their fmt form, nil as "".
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case fmt.Stringer:
		return x.String()
	default:
		return fmt.Sprint(x)
	}
}
