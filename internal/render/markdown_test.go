package render

import (
	"strings"
	"testing"
)

func TestParseMarkdownV2(t *testing.T) {
	tests := []struct {
		name string
		in   string

		text     string
		entities []Entity
	}{
		{"plain", "hello", "hello", nil},
		{"escapes", `a\.b\\c\_d`, `a.b\c_d`, nil},
		{"bold", "*bold* text", "bold text", []Entity{{Type: EntityBold, Offset: 0, Length: 4}}},
		{"italic in bold", "*a _b_*", "a b", []Entity{{Type: EntityItalic, Offset: 2, Length: 1}, {Type: EntityBold, Offset: 0, Length: 3}}},
		{"underline", "__u__", "u", []Entity{{Type: EntityUnderline, Offset: 0, Length: 1}}},
		{"spoiler", "||s||", "s", []Entity{{Type: EntitySpoiler, Offset: 0, Length: 1}}},
		{"code keeps specials", "`a.b*c`", "a.b*c", []Entity{{Type: EntityCode, Offset: 0, Length: 5}}},
		{"code escapes", "`a\\`b\\\\c`", "a`b\\c", []Entity{{Type: EntityCode, Offset: 0, Length: 5}}},
		{"pre with language", "```go\nx := 1\n```", "x := 1\n", []Entity{{Type: EntityPre, Offset: 0, Length: 7, Language: "go"}}},
		{"link", `[MISP](https://misp.example/e\)1)`, "MISP", []Entity{{Type: EntityTextLink, Offset: 0, Length: 4, URL: "https://misp.example/e)1"}}},
		{"link without url part", `[https://x\.example]`, "https://x.example", []Entity{{Type: EntityTextLink, Offset: 0, Length: 17, URL: "https://x.example"}}},
		{"offsets count runes", "ไทย *b*", "ไทย b", []Entity{{Type: EntityBold, Offset: 4, Length: 1}}},
		{"empty entity skipped", "a**b", "ab", nil},
		{"quote", ">quoted\nnext", "quoted\nnext", []Entity{{Type: EntityBlockquote, Offset: 0, Length: 7}}},
		{"quote of two lines", ">a\n>b", "a\nb", []Entity{{Type: EntityBlockquote, Offset: 0, Length: 3}}},
		{"expandable quote", "**>a\n>b||", "a\nb", []Entity{{Type: EntityExpandableBlockquote, Offset: 0, Length: 3}}},
		{"bold around quote", "*x\n>q\ny*", "x\nq\ny", []Entity{{Type: EntityBlockquote, Offset: 2, Length: 2}, {Type: EntityBold, Offset: 0, Length: 5}}},
		{"backslash before non-ASCII", "\\ไ", "\\ไ", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseMarkdownV2(tc.in)
			if err != nil {
				t.Fatalf("ParseMarkdownV2(%q): %v", tc.in, err)
			}
			if got.Text != tc.text {
				t.Errorf("text = %q, want %q", got.Text, tc.text)
			}
			if len(got.Entities) != len(tc.entities) {
				t.Fatalf("entities = %+v, want %+v", got.Entities, tc.entities)
			}
			for i := range tc.entities {
				if got.Entities[i] != tc.entities[i] {
					t.Errorf("entity %d = %+v, want %+v", i, got.Entities[i], tc.entities[i])
				}
			}
		})
	}
}

func TestParseMarkdownV2Errors(t *testing.T) {
	tests := []struct {
		name string
		in   string

		want string
	}{
		{"dot", "a.b", "Character '.' is reserved"},
		{"dash", "a-b", "Character '-' is reserved"},
		{"lone pipe", "a|b", "Character '|' is reserved"},
		{"lone bang", "hi!", "Character '!' is reserved"},
		{"closing bracket", "a]", "Character ']' is reserved"},
		{"paren", "(x)", "Character '(' is reserved"},
		{"gt inside line", "a>b", "Character '>' is reserved"},
		{"open bold", "*bold", "Can't find end of Bold entity at byte offset 0"},
		{"open italic", "ab _it", "Can't find end of Italic entity at byte offset 3"},
		{"open code", "x `code", "Can't find end of Code entity at byte offset 2"},
		{"open pre", "```\ncode", "Can't find end of Pre entity at byte offset 0"},
		{"open url", "[a](https://x", "Can't find end of a URL at byte offset 4"},
		{"custom emoji without url", "![a]", "tg://emoji"},
		{"bold across quote end", ">*a\nb*", "Can't find end of Bold entity at byte offset 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseMarkdownV2(tc.in)
			if err == nil {
				t.Fatalf("ParseMarkdownV2(%q) = nil error, want %q", tc.in, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestCheckMarkdownV2(t *testing.T) {
	tests := []struct {
		name string
		in   string

		ok bool
	}{
		{"escaped specials", `\_\*\[\]\(\)\~\` + "`" + `\>\#\+\-\=\|\{\}\.\!\\`, true},
		{"entities", "*b* _i_ `c` [l](https://x.example)", true},
		{"lone backslash at end", `a\`, false},
		{"escaped letter", `C:\Windows`, false},
		{"escaped digit", `\1`, false},
		{"escaped letter in code", "`C:\\Windows`", false},
		{"escaped letter in url", `[a](https://x.example/\a)`, false},
		{"invalid UTF-8", "a\xffb", false},
		{"reserved dot", "a.b", false},
		{"backslash before non-ASCII", "\\ไ", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckMarkdownV2(tc.in)
			if got := err == nil; got != tc.ok {
				t.Errorf("CheckMarkdownV2(%q) = %v, want ok=%v", tc.in, err, tc.ok)
			}
		})
	}
}

func TestEscape(t *testing.T) {
	tests := []struct {
		name   string
		escape func(string) string
		in     string

		want string
	}{
		{"text specials", EscapeText, "a_b*c.d!", `a\_b\*c\.d\!`},
		{"text backslash", EscapeText, `C:\x`, `C:\\x`},
		{"text untouched", EscapeText, "ไทย <b&", "ไทย <b&"},
		{"text gt", EscapeText, "<b>", `<b\>`},
		{"code keeps dots", EscapeCode, "a.b_c", "a.b_c"},
		{"code backtick", EscapeCode, "a`b\\c", "a\\`b\\\\c"},
		{"url paren", EscapeURL, "https://x.example/a)b\\c", `https://x.example/a\)b\\c`},
		{"url javascript", EscapeURL, "javascript:alert(1)", ""},
		{"url tg", EscapeURL, "tg://user?id=1", ""},
		{"url relative", EscapeURL, "/events/view/1", ""},
		{"url with space", EscapeURL, "https://x.example/a b", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.escape(tc.in); got != tc.want {
				t.Errorf("escape(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzEscape checks that each escaping function round-trips through the
// parser: the visible text is the input, and no entity appears.
func FuzzEscape(f *testing.F) {
	f.Add("plain")                         // nothing to escape
	f.Add(`C:\Windows\evil_x.exe (pid 4)`) // backslashes next to letters
	f.Add("_*[]()~`>#+-=|{}.!\\")          // every reserved character
	f.Add("`code` ```pre```")              // code markers
	f.Add("https://x.example/a)b")         // closes a link early
	f.Add(">quote\n>next")                 // block quote at line start
	f.Add("ไทย 🚨 \u200b")                  // non-ASCII and zero-width
	f.Add("__init__ ||x||")                // underline and spoiler markers
	f.Fuzz(func(t *testing.T, s string) {
		s = clean(s)

		parsed, err := ParseMarkdownV2(EscapeText(s))
		if err != nil {
			t.Fatalf("EscapeText(%q) does not parse: %v", s, err)
		}
		if parsed.Text != s || len(parsed.Entities) != 0 {
			t.Fatalf("EscapeText(%q) parses to %q with %d entities", s, parsed.Text, len(parsed.Entities))
		}
		if err := CheckMarkdownV2(EscapeText(s)); err != nil {
			t.Fatalf("EscapeText(%q) fails the strict check: %v", s, err)
		}

		if s != "" {
			parsed, err = ParseMarkdownV2("`" + EscapeCode(s) + "`")
			if err != nil {
				t.Fatalf("EscapeCode(%q) does not parse: %v", s, err)
			}
			if parsed.Text != s {
				t.Fatalf("EscapeCode(%q) parses to %q", s, parsed.Text)
			}
		}

		u := "https://x.example/" + s
		if escaped := EscapeURL(u); escaped != "" {
			parsed, err = ParseMarkdownV2("[l](" + escaped + ")")
			if err != nil {
				t.Fatalf("EscapeURL(%q) does not parse: %v", u, err)
			}
			if len(parsed.Entities) != 1 || parsed.Entities[0].URL != u {
				t.Fatalf("EscapeURL(%q) parses to %+v", u, parsed.Entities)
			}
		}
	})
}

// FuzzParseMarkdownV2 feeds arbitrary text to the parser: it must not panic,
// entities must lie inside the visible text, and whatever the strict check
// accepts the parser accepts too.
func FuzzParseMarkdownV2(f *testing.F) {
	f.Add("*b* _i_ __u__ ~s~ ||sp|| `c` ```go\np```")         // every entity
	f.Add("[l](https://x.example/\\)) ![e](tg://emoji?id=1)") // links
	f.Add(">q\n>r||\nafter")                                  // expandable quote
	f.Add("a\\")                                              // backslash at the end
	f.Add("```")                                              // unclosed pre at the end
	f.Fuzz(func(t *testing.T, s string) {
		parsed, err := ParseMarkdownV2(s)
		if CheckMarkdownV2(s) == nil && err != nil {
			t.Fatalf("strict check accepts %q but the parser rejects it: %v", s, err)
		}
		if err != nil {
			return
		}
		n := len([]rune(parsed.Text))
		for _, e := range parsed.Entities {
			if e.Offset < 0 || e.Length <= 0 || e.Offset+e.Length > n {
				t.Fatalf("entity %+v outside the %d runes of %q", e, n, parsed.Text)
			}
		}
	})
}
