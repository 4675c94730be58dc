package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/testfixture"
)

// compileOSRegex translates an OS_Regex pattern, the default flavour of a
// Wazuh <field>, to a Go regexp. OS_Regex has "|" between whole patterns,
// "^" and "$" anchors, the classes \w \d \s \t \p \W \D \S and \. (any
// byte), "+" and "*" after one class or character, and "\" escapes for
// $ ( ) \ |. Matching ignores case. Anything else is an error, so a rule
// written with PCRE syntax fails the test instead of being guessed at.
func compileOSRegex(pattern string) (*regexp.Regexp, error) {
	var alternatives []string
	for _, alternative := range splitUnescaped(pattern) {
		translated, err := translateOSRegex(alternative)
		if err != nil {
			return nil, fmt.Errorf("OS_Regex %q: %w", pattern, err)
		}
		alternatives = append(alternatives, "(?:"+translated+")")
	}
	return regexp.Compile("(?is)" + strings.Join(alternatives, "|"))
}

// splitUnescaped splits at each "|" that no "\" escapes.
func splitUnescaped(pattern string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case '\\':
			i++
		case '|':
			parts = append(parts, pattern[start:i])
			start = i + 1
		}
	}
	return append(parts, pattern[start:])
}

var osRegexClasses = map[byte]string{
	'w':  `[A-Za-z0-9_@-]`,
	'd':  `[0-9]`,
	's':  ` `,
	't':  `\t`,
	'p':  `[()*+,\-.:;<=>?\[\]!"'#$%&|{}]`,
	'W':  `[^A-Za-z0-9_@-]`,
	'D':  `[^0-9]`,
	'S':  `[^ ]`,
	'.':  `.`,
	'$':  `\$`,
	'(':  `\(`,
	')':  `\)`,
	'\\': `\\`,
	'|':  `\|`,
}

func translateOSRegex(pattern string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch {
		case c == '^' && i == 0:
			b.WriteByte('^')
		case c == '$' && i == len(pattern)-1:
			b.WriteByte('$')
		case c == '+' || c == '*':
			if i == 0 || pattern[i-1] == '^' && i == 1 {
				return "", fmt.Errorf("%q at offset %d repeats nothing", c, i)
			}
			b.WriteByte(c)
		case c == '\\':
			if i+1 == len(pattern) {
				return "", fmt.Errorf("trailing backslash")
			}
			class, ok := osRegexClasses[pattern[i+1]]
			if !ok {
				return "", fmt.Errorf(`\%c at offset %d is not OS_Regex syntax`, pattern[i+1], i)
			}
			b.WriteString(class)
			i++
		case strings.IndexByte("[]{}?", c) >= 0:
			return "", fmt.Errorf("%q at offset %d is PCRE syntax, not OS_Regex", c, i)
		case c == '(' || c == ')' || c == '$' || c == '^':
			return "", fmt.Errorf("%q at offset %d is not supported by this model", c, i)
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String(), nil
}

// flattenEvent turns a JSON event into the fields analysisd's json decoder
// gives rules: nested keys joined with ".", strings as they are, integers in
// decimal, other numbers with six decimals, booleans as "true" or "false",
// and null left out. Arrays of scalars become one comma-separated value.
// NOTE: the array form is an approximation; our rules match no array field.
func flattenEvent(t *testing.T, data []byte) map[string]string {
	t.Helper()
	if !bytes.HasPrefix(bytes.TrimLeft(data, " \t"), []byte(`{"`)) {
		t.Fatalf("event does not start with {\" so the json decoder's prematch rejects it: %.40q", data)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil {
		t.Fatalf("event is not a JSON object: %v", err)
	}
	fields := make(map[string]string)
	flattenInto(fields, "", root)
	return fields
}

func flattenInto(fields map[string]string, prefix string, value any) {
	switch v := value.(type) {
	case map[string]any:
		for key, child := range v {
			name := key
			if prefix != "" {
				name = prefix + "." + key
			}
			flattenInto(fields, name, child)
		}
	case []any:
		var parts []string
		for _, item := range v {
			if s, ok := scalarString(item); ok {
				parts = append(parts, s)
			}
		}
		fields[prefix] = strings.Join(parts, ",")
	default:
		if s, ok := scalarString(v); ok {
			fields[prefix] = s
		}
	}
}

func scalarString(value any) (string, bool) {
	switch v := value.(type) {
	case string:
		return v, true
	case bool:
		return strconv.FormatBool(v), true
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return strconv.FormatInt(n, 10), true
		}
		f, err := v.Float64()
		if err != nil {
			return "", false
		}
		return strconv.FormatFloat(f, 'f', 6, 64), true
	}
	return "", false
}

// readFixture reads a shared fixture, such as "alerts/x.json".
func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	return testfixture.Read(t, name)
}

func TestOSRegexModel(t *testing.T) {
	tests := []struct {
		pattern, value string

		want bool
	}{
		{`^misp$`, "misp", true},
		{`^misp$`, "MISP", true},
		{`^misp$`, "misp2", false},
		{`\.+`, "x", true},
		{`\.+`, "", false},
		{`^\d+$`, "1203", true},
		{`^\d+$`, "12a3", false},
		{`^\d+$`, "", false},
		{`^md5$|^sha1$|^sha256$`, "sha1", true},
		{`^md5$|^sha1$|^sha256$`, "sha512", false},
		{`^breaker_open$`, "breaker_open", true},
		{`^true$`, "false", false},
		{`a.b`, "a.b", true},
		{`a.b`, "axb", false},
		{`\w+@\w+`, "user@host", true},
		{`x\|y`, "x|y", true},
	}
	for _, tc := range tests {
		re, err := compileOSRegex(tc.pattern)
		if err != nil {
			t.Errorf("compile %q: %v", tc.pattern, err)
			continue
		}
		if got := re.MatchString(tc.value); got != tc.want {
			t.Errorf("%q matches %q = %v, want %v", tc.pattern, tc.value, got, tc.want)
		}
	}
}

func TestOSRegexModelRejectsPCRE(t *testing.T) {
	for _, pattern := range []string{`^[0-9]+$`, `.?`, `a{2}`, `(?i)x`, `\b`, `+x`} {
		if _, err := compileOSRegex(pattern); err == nil {
			t.Errorf("compileOSRegex(%q) succeeded, want an error for non-OS_Regex syntax", pattern)
		}
	}
}

func TestDatagramPayload(t *testing.T) {
	tests := []struct {
		line string

		want string
		ok   bool
	}{
		{`1:misp:{"integration":"misp"}`, `{"integration":"misp"}`, true},
		{`1:[034] (lab) fe80|:|:1->misp:{"a":"b:c"}`, `{"a":"b:c"}`, true},
		{`1:[035] (a|||:b) any->misp:{}`, `{}`, true},
		{`2:misp:{}`, "", false},
		{`1:misp`, "", false},
	}
	for _, tc := range tests {
		got, ok := datagramPayload([]byte(tc.line))
		if ok != tc.ok || string(got) != tc.want {
			t.Errorf("datagramPayload(%q) = %q, %v; want %q, %v", tc.line, got, ok, tc.want, tc.ok)
		}
	}
}
