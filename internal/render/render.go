package render

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"unicode/utf8"
)

// Bot API limits for sendMessage text.
const (
	// MaxTextRunes is the sendMessage limit of 4096 characters, counted by
	// TDLib in code points of the text after entities parsing.
	MaxTextRunes = 4096
	// MaxTextBytes is the Bot API server's limit on the raw text before
	// parsing ("Text is too long" above 1<<15 bytes).
	MaxTextBytes = 1 << 15
	// MaxValueRunes caps every value before escaping. Longer values end in
	// "…"; if the message is still too long, the longest values are cut
	// further.
	MaxValueRunes = 300
	// minValueRunes is where shortening stops: a template that does not fit
	// with every value this short is itself too long.
	minValueRunes = 16
)

// ErrTooLong means the template does not fit the Bot API limits even with
// every value shortened to a few characters.
var ErrTooLong = errors.New("message is too long even with every value shortened: make the template shorter")

// ErrEmpty means the template produced only white space.
var ErrEmpty = errors.New("template produced an empty message: Telegram rejects empty text")

// Template is a parsed message template. It is safe for concurrent use.
type Template struct {
	tmpl *template.Template
}

// Message is one rendered message.
type Message struct {
	// Text is the MarkdownV2 text for parse_mode "MarkdownV2".
	Text string
	// Plain is the same message without markup or escapes, for sending
	// without a parse mode when Telegram rejects Text. Links are written
	// as "label (URL)".
	Plain string
	// Shortened is set when values were cut to fit the limits.
	Shortened bool
	// Err is set when Text must not be sent: the template's output is not
	// valid MarkdownV2, does not fit, or failed to execute. Plain is then a
	// built-in summary or a cut version of the visible text.
	Err error
}

// ParseFile reads and parses a template file. The error names the file and,
// for syntax errors, the line. The template is also executed once on sample
// data, so a misspelt field or function is reported here rather than on
// every alert.
func ParseFile(path string) (*Template, error) {
	// A FIFO would block the run before its budget starts, so only a
	// regular file of sane size is opened.
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read template %s (telegram.template): %w", path, err)
	}
	if !info.Mode().IsRegular() || info.Size() > maxTemplateSize {
		return nil, fmt.Errorf("template %s (telegram.template) is not a regular file of at most %d bytes", path, maxTemplateSize)
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template %s (telegram.template): %w", path, err)
	}
	t, err := Parse(filepath.Base(path), string(src))
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", path, err)
	}
	return t, nil
}

// maxTemplateSize bounds the template file. The shipped templates are about
// 2 kB; a message is at most 4096 characters anyway.
const maxTemplateSize = 1 << 20

// Parse parses template source. name appears in error messages.
func Parse(name, src string) (*Template, error) {
	tmpl, err := template.New(name).Funcs(Funcs()).Parse(src)
	if err != nil {
		return nil, err
	}
	t := &Template{tmpl: tmpl}
	for _, d := range []*Data{sampleData(), {}} {
		if _, err := t.execute(d); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Funcs returns the functions templates can call. md, code and url take
// strings or numbers.
//
//	md      escapes for MarkdownV2 normal text, bold, italic and link labels
//	code    escapes for the inside of `code` and ```pre``` blocks
//	url     escapes for the (...) part of a link, or returns "" unless http(s)
//	default returns VALUE, or DEFAULT when VALUE is empty: default DEFAULT VALUE
//	join    joins a list: join LIST SEP
func Funcs() template.FuncMap {
	return template.FuncMap{
		"md":   func(v any) string { return EscapeText(text(v)) },
		"code": func(v any) string { return EscapeCode(text(v)) },
		"url":  func(v any) string { return EscapeURL(text(v)) },
		"default": func(def string, v any) string {
			if s := text(v); s != "" {
				return s
			}
			return def
		},
		"join": func(list []string, sep string) string { return strings.Join(list, sep) },
	}
}

// Render executes the template on d without modifying d. Values longer than
// MaxValueRunes are cut before escaping, and so are lists (tags, groups)
// whose joined items are longer, keeping the first items and a count of the
// rest. When the message still exceeds
// MaxTextRunes after parsing or MaxTextBytes raw, the longest values are cut
// further and the template is executed again, so markup is never cut.
func (t *Template) Render(d *Data) Message {
	limit := MaxValueRunes
	for {
		view := d.clone()
		shortened := view.shorten(limit)

		text, err := t.execute(view)
		if err != nil {
			return Message{Plain: fitPlain(fallbackPlain(view)), Shortened: shortened, Err: fmt.Errorf("execute template: %w", err)}
		}

		parsed, parseErr := ParseMarkdownV2(text)
		visible := utf8.RuneCountInString(text)
		if parseErr == nil {
			visible = utf8.RuneCountInString(parsed.Text)
		}
		if visible <= MaxTextRunes && len(text) <= MaxTextBytes {
			return finish(text, parsed, parseErr, view, shortened)
		}

		longest := view.maxValueRunes()
		if longest <= minValueRunes {
			plain := fallbackPlain(view)
			if parseErr == nil {
				plain = plainText(parsed)
			}
			return Message{Plain: fitPlain(plain), Shortened: true, Err: ErrTooLong}
		}
		limit = max(minValueRunes, longest*2/3)
	}
}

func finish(text string, parsed Parsed, parseErr error, view *Data, shortened bool) Message {
	m := Message{Text: text, Shortened: shortened}
	switch {
	case parseErr != nil:
		m.Err = fmt.Errorf("template output is not valid MarkdownV2: %w", parseErr)
		m.Plain = fallbackPlain(view)
	case strings.TrimSpace(parsed.Text) == "":
		m.Err = ErrEmpty
		m.Plain = fallbackPlain(view)
	default:
		m.Plain = plainText(parsed)
	}
	m.Plain = fitPlain(m.Plain)
	return m
}

func (t *Template) execute(d *Data) (string, error) {
	var b strings.Builder
	if err := t.tmpl.Execute(&b, d); err != nil {
		return "", err
	}
	// Telegram trims trailing line breaks anyway; dropping them lets a
	// template end with one. A final line break escaped with a backslash
	// stays.
	text := strings.TrimRight(b.String(), "\n")
	if strings.HasSuffix(text, "\\") {
		text = b.String()
	}
	return text, nil
}

// shorten cuts every value longer than limit runes, and every list whose
// items joined with listSeparator would be longer, and reports whether any
// was cut.
func (d *Data) shorten(limit int) bool {
	cut := false
	for _, p := range d.fields() {
		if s, ok := cutRunes(*p, limit); ok {
			*p, cut = s, true
		}
	}
	for _, p := range d.lists() {
		if list, ok := shortenList(*p, limit); ok {
			*p, cut = list, true
		}
	}
	return cut
}

// maxValueRunes returns the length in runes of the longest value, counting
// each list as its items joined with listSeparator.
func (d *Data) maxValueRunes() int {
	n := 0
	for _, p := range d.fields() {
		n = max(n, utf8.RuneCountInString(*p))
	}
	for _, p := range d.lists() {
		n = max(n, joinedRunes(*p))
	}
	return n
}

// listSeparator is what the shipped templates put between list items, as
// in {{md (join .MISP.Tags ", ")}}.
const listSeparator = ", "

// shortenList keeps the first items of list that fit in limit runes when
// joined with listSeparator, at least one, and ends the list with an item
// "… (+N more)" for the N left out. It reports whether it left any out.
func shortenList(list []string, limit int) ([]string, bool) {
	if joinedRunes(list) <= limit {
		return list, false
	}
	more := "… (+" + strconv.Itoa(len(list)) + " more)"
	room := limit - utf8.RuneCountInString(more) - len(listSeparator)
	kept := 1
	for kept < len(list) && joinedRunes(list[:kept+1]) <= room {
		kept++
	}
	out := slices.Clone(list[:kept])
	return append(out, "… (+"+strconv.Itoa(len(list)-kept)+" more)"), true
}

// joinedRunes returns the length in runes of list joined with
// listSeparator.
func joinedRunes(list []string) int {
	n := len(listSeparator) * max(len(list)-1, 0)
	for _, s := range list {
		n += utf8.RuneCountInString(s)
	}
	return n
}

// cutRunes shortens s to limit runes, the last one "…".
func cutRunes(s string, limit int) (string, bool) {
	if len(s) <= limit || utf8.RuneCountInString(s) <= limit {
		return s, false
	}
	i, n := 0, 0
	for i < len(s) && n < limit-1 {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return s[:i] + "…", true
}

// plainText returns the visible text with each link's URL after its label.
func plainText(p Parsed) string {
	links := slices.DeleteFunc(slices.Clone(p.Entities), func(e Entity) bool {
		return e.Type != EntityTextLink
	})
	if len(links) == 0 {
		return p.Text
	}
	runes := []rune(p.Text)
	var b strings.Builder
	pos := 0
	slices.SortStableFunc(links, func(a, b Entity) int { return (a.Offset + a.Length) - (b.Offset + b.Length) })
	for _, link := range links {
		end := link.Offset + link.Length
		if end < pos || end > len(runes) {
			continue
		}
		label := string(runes[link.Offset:end])
		b.WriteString(string(runes[pos:end]))
		if link.URL != label {
			b.WriteString(" (" + link.URL + ")")
		}
		pos = end
	}
	b.WriteString(string(runes[pos:]))
	return b.String()
}

// fitPlain cuts plain text to the Bot API limits. Plain text has no markup,
// so it can be cut anywhere.
func fitPlain(s string) string {
	s, _ = cutRunes(s, MaxTextRunes)
	for len(s) > MaxTextBytes {
		s, _ = cutRunes(s, utf8.RuneCountInString(s)*3/4)
	}
	return s
}

// fallbackPlain is the built-in plain text summary, used when the template's
// output cannot be sent.
func fallbackPlain(d *Data) string {
	var b strings.Builder
	line := func(label string, parts ...string) {
		parts = slices.DeleteFunc(parts, func(s string) bool { return s == "" })
		if len(parts) > 0 {
			b.WriteString(label + strings.Join(parts, " ") + "\n")
		}
	}
	line("MISP match: ", d.Rule.Description)
	line("Indicator: ", d.MISP.Value, paren(d.MISP.Type, d.MISP.Category))
	line("MISP event: ", d.MISP.EventID, d.MISP.EventInfo, d.MISP.EventLink)
	line("Agent: ", d.Agent.Name, paren(d.Agent.ID, d.Agent.IP))
	line("Source rule: ", d.Source.RuleID, d.Source.RuleDescription)
	line("Field: ", d.Source.Field)
	line("Alert: ", d.Alert.ID, d.Alert.Time)
	if s := d.Suppressed; s.Count > 0 {
		fmt.Fprintf(&b, "+%d similar alerts suppressed since %s UTC\n", s.Count, s.Since)
	}
	if b.Len() == 0 {
		return "MISP match alert (no details in the alert)"
	}
	return strings.TrimRight(b.String(), "\n")
}

func paren(parts ...string) string {
	parts = slices.DeleteFunc(parts, func(s string) bool { return s == "" })
	if len(parts) == 0 {
		return ""
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// sampleData has every field set, to execute each branch of a template once
// at parse time.
func sampleData() *Data {
	d := &Data{
		Rule:       RuleInfo{Groups: []string{"x"}},
		MISP:       MISP{Tags: []string{"x"}, Delayed: true, EventLink: "https://misp.example/events/view/1"},
		Suppressed: Suppressed{Count: 2, Deduped: 1, Dropped: 1, Since: "00:00", Date: "2000-01-01"},
	}
	for _, p := range d.fields() {
		*p = "x"
	}
	return d
}
