package render

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Entity types, spelled as the Bot API's MessageEntity.type values.
const (
	EntityBold          = "bold"
	EntityItalic        = "italic"
	EntityUnderline     = "underline"
	EntityStrikethrough = "strikethrough"
	EntitySpoiler       = "spoiler"
	EntityCode          = "code"
	EntityPre           = "pre"
	EntityTextLink      = "text_link"
	EntityCustomEmoji   = "custom_emoji"
	EntityBlockquote    = "blockquote"
	// EntityExpandableBlockquote is a quote ending in "||" at its last line.
	EntityExpandableBlockquote = "expandable_blockquote"
)

// Entity is one formatting entity of a parsed MarkdownV2 text. Offset and
// Length count Unicode code points of Parsed.Text (the Bot API counts UTF-16
// units, which differ only for characters outside the BMP).
type Entity struct {
	Type     string
	Offset   int
	Length   int
	URL      string // text_link and custom_emoji only
	Language string // pre only, "" when the block names none
}

// Parsed is a MarkdownV2 text as Telegram shows it: the visible text with
// the markup and escapes removed, and the entities found.
type Parsed struct {
	Text     string
	Entities []Entity
}

// SyntaxError is a MarkdownV2 text that Telegram rejects with "can't parse
// entities". Message follows TDLib's wording; Offset is the byte offset in
// the input where the problem starts.
type SyntaxError struct {
	Offset  int
	Message string
}

func (e *SyntaxError) Error() string { return e.Message }

// ParseMarkdownV2 parses s with the rules of TDLib's MarkdownV2 parser, the
// one behind the Bot API's parse_mode "MarkdownV2". A backslash escapes any
// ASCII character 1-126. Outside code and pre, every character of
// _*[]()~`>#+-=|{}.! either opens or closes an entity or is an error. Inside
// code and pre only ` is special, and inside a link's (...) part only ) and
// \ are. A ">" at the start of a line quotes that line, and consecutive
// quoted lines form one block quote, which no other entity may cross.
//
// NOTE: TDLib also post-processes entities (merging, dropping overlaps,
// resolving text_link URLs without a scheme). This parser does not, so it
// validates syntax and visible length, not the final entity list.
func ParseMarkdownV2(s string) (Parsed, error) {
	p := parser{src: s, canQuote: true}
	return p.run()
}

// CheckMarkdownV2 is ParseMarkdownV2 plus checks that catch escaping
// mistakes Telegram silently accepts. s must be valid UTF-8. A backslash
// must always start an escape, because the Bot API documentation reserves
// it even though Telegram shows a lone one as is. Only ASCII punctuation may
// be escaped, because a backslash before a letter, digit or space means a
// value was inserted without escaping its backslashes ("C:\Windows" shown
// as "C:Windows").
func CheckMarkdownV2(s string) error {
	if !utf8.ValidString(s) {
		return &SyntaxError{Message: "text is not valid UTF-8"}
	}
	p := parser{src: s, strict: true, canQuote: true}
	_, err := p.run()
	return err
}

type openEntity struct {
	typ        string
	language   string
	byteOffset int // the markup's offset in the input
	textOffset int // in runes of the output
	textStart  int // in bytes of the output
}

type parser struct {
	src    string
	strict bool

	out      strings.Builder
	runes    int
	stack    []openEntity
	entities []Entity
	// quote is the open block quote, if any, and quoteDepth the length of
	// stack when it opened.
	quote      *openEntity
	quoteDepth int
	// canQuote is set at the start of a line, before any visible
	// character. Entity markers leave it unchanged.
	canQuote bool
}

// at returns the byte at i, or 0 past the end, as TDLib's zero-terminated
// strings do.
func (p *parser) at(i int) byte {
	if i < len(p.src) {
		return p.src[i]
	}
	return 0
}

func (p *parser) emit(c byte) {
	p.out.WriteByte(c)
	if c&0xC0 != 0x80 {
		p.runes++
	}
	if c != '\r' {
		// As in TDLib, a line break inside code does not start a line
		// that may be quoted.
		p.canQuote = c == '\n' && !p.inCode()
	}
}

func (p *parser) top() *openEntity {
	if len(p.stack) == 0 {
		return nil
	}
	return &p.stack[len(p.stack)-1]
}

func (p *parser) inCode() bool {
	top := p.top()
	return top != nil && (top.typ == EntityCode || top.typ == EntityPre)
}

func (p *parser) run() (Parsed, error) {
	for i := 0; i < len(p.src); i++ {
		c := p.src[i]

		if c == '\\' {
			next := p.at(i + 1)
			if next > 0 && next <= 126 {
				if p.strict && !isPunct(next) {
					return Parsed{}, &SyntaxError{Offset: i, Message: fmt.Sprintf("backslash at byte offset %d escapes %q, which needs no escaping: the text probably contains an unescaped backslash", i, next)}
				}
				i++
				p.emit(next)
				continue
			}
			if p.strict {
				return Parsed{}, &SyntaxError{Offset: i, Message: fmt.Sprintf("character '\\' at byte offset %d is reserved and must be escaped with the preceding '\\'", i)}
			}
		}

		if c == '\n' && p.quote != nil && !p.inCode() && p.at(i+1) != '>' {
			if err := p.closeQuote(i); err != nil {
				return Parsed{}, err
			}
			continue
		}
		if c == '>' && !p.inCode() && p.canQuote {
			if p.quote == nil {
				p.quote = &openEntity{typ: EntityBlockquote, byteOffset: i, textOffset: p.runes}
				p.quoteDepth = len(p.stack)
			}
			continue
		}

		reserved := "_*[]()~`>#+-=|{}.!"
		if p.inCode() {
			reserved = "`"
		}
		if strings.IndexByte(reserved, c) < 0 {
			p.emit(c)
			continue
		}

		var err error
		if p.isEnd(i) {
			i, err = p.closeEntity(i)
		} else {
			i, err = p.openEntity(i)
		}
		if err != nil {
			return Parsed{}, err
		}
	}

	if p.quote != nil {
		if err := p.closeQuote(len(p.src)); err != nil {
			return Parsed{}, err
		}
	}
	if top := p.top(); top != nil {
		return Parsed{}, unclosedError(top)
	}
	return Parsed{Text: p.out.String(), Entities: p.entities}, nil
}

// closeQuote ends the block quote at the line break at i, or at the end of
// the text when i is len(src). An entity opened inside the quote must be
// closed by then, except a "||" just before the end, which makes the quote
// expandable. The line break belongs to the quote, as in TDLib.
func (p *parser) closeQuote(i int) error {
	typ := EntityBlockquote
	if top := p.top(); len(p.stack) == p.quoteDepth+1 && top.typ == EntitySpoiler && top.byteOffset == i-2 {
		p.stack = p.stack[:len(p.stack)-1]
		typ = EntityExpandableBlockquote
	}
	if len(p.stack) > p.quoteDepth {
		return unclosedError(p.top())
	}
	if i < len(p.src) {
		p.emit(p.src[i])
	}
	if p.runes > p.quote.textOffset {
		p.entities = append(p.entities, Entity{Type: typ, Offset: p.quote.textOffset, Length: p.runes - p.quote.textOffset})
	}
	p.quote = nil
	return nil
}

func unclosedError(e *openEntity) error {
	return &SyntaxError{Offset: e.byteOffset, Message: fmt.Sprintf("Can't find end of %s entity at byte offset %d", tdlibName(e.typ), e.byteOffset)}
}

// isEnd reports whether the reserved character at i closes the innermost
// open entity.
func (p *parser) isEnd(i int) bool {
	top := p.top()
	if top == nil {
		return false
	}
	c, next := p.src[i], p.at(i+1)
	switch top.typ {
	case EntityBold:
		return c == '*'
	case EntityItalic:
		return c == '_' && next != '_'
	case EntityUnderline:
		return c == '_' && next == '_'
	case EntityStrikethrough:
		return c == '~'
	case EntitySpoiler:
		return c == '|' && next == '|'
	case EntityCode:
		return c == '`'
	case EntityPre:
		return c == '`' && next == '`' && p.at(i+2) == '`'
	case EntityTextLink, EntityCustomEmoji:
		return c == ']'
	}
	return false
}

// openEntity starts the entity whose markup begins at i and returns the
// index of the markup's last byte.
func (p *parser) openEntity(i int) (int, error) {
	start := i
	entity := openEntity{byteOffset: i}
	c := p.src[i]
	switch c {
	case '_':
		entity.typ = EntityItalic
		if p.at(i+1) == '_' {
			entity.typ = EntityUnderline
			i++
		}
	case '*':
		entity.typ = EntityBold
	case '~':
		entity.typ = EntityStrikethrough
	case '|':
		if p.at(i+1) != '|' {
			return i, reservedError(c, start)
		}
		entity.typ = EntitySpoiler
		i++
	case '[':
		entity.typ = EntityTextLink
	case '!':
		if p.at(i+1) != '[' {
			return i, reservedError(c, start)
		}
		entity.typ = EntityCustomEmoji
		i++
	case '`':
		if p.at(i+1) != '`' || p.at(i+2) != '`' {
			entity.typ = EntityCode
			break
		}
		entity.typ = EntityPre
		i = p.skipPreHeader(i+3, &entity) - 1
	default:
		return i, reservedError(c, start)
	}
	entity.textOffset = p.runes
	entity.textStart = p.out.Len()
	p.stack = append(p.stack, entity)
	return i, nil
}

// skipPreHeader reads the optional language name after ``` and the one line
// break Telegram drops there, and returns the index of the first content
// byte.
func (p *parser) skipPreHeader(i int, entity *openEntity) int {
	end := i
	for !isSpace(p.at(end)) && p.at(end) != '`' {
		end++
	}
	if end != i && end < len(p.src) && p.src[end] != '`' {
		entity.language = p.src[i:end]
		i = end
	}
	if c := p.at(i); c == '\n' || c == '\r' {
		if next := p.at(i + 1); (next == '\n' || next == '\r') && next != c {
			return i + 2
		}
		return i + 1
	}
	return i
}

// closeEntity ends the innermost entity at i and returns the index of the
// closing markup's last byte.
func (p *parser) closeEntity(i int) (int, error) {
	top := p.stack[len(p.stack)-1]
	p.stack = p.stack[:len(p.stack)-1]
	entity := Entity{Type: top.typ, Offset: top.textOffset, Length: p.runes - top.textOffset, Language: top.language}

	switch top.typ {
	case EntityUnderline, EntitySpoiler:
		i++
	case EntityPre:
		i += 2
	case EntityTextLink, EntityCustomEmoji:
		if p.at(i+1) != '(' {
			if top.typ == EntityCustomEmoji {
				return i, &SyntaxError{Offset: i, Message: "Custom emoji entity must contain a tg://emoji URL"}
			}
			entity.URL = p.out.String()[top.textStart:]
			break
		}
		url, end, err := p.readURL(i + 2)
		if err != nil {
			return i, err
		}
		entity.URL, i = url, end
	}

	if entity.Length > 0 && (entity.Type != EntityTextLink || entity.URL != "") {
		p.entities = append(p.entities, entity)
	}
	return i, nil
}

// readURL reads the (...) part of a link starting at begin and returns the
// unescaped URL and the index of the closing ")".
func (p *parser) readURL(begin int) (string, int, error) {
	var url strings.Builder
	i := begin
	for i < len(p.src) && p.src[i] != ')' {
		if p.src[i] == '\\' {
			if next := p.at(i + 1); next > 0 && next <= 126 {
				if p.strict && !isPunct(next) {
					return "", i, &SyntaxError{Offset: i, Message: fmt.Sprintf("backslash at byte offset %d in a URL escapes %q, which needs no escaping", i, next)}
				}
				url.WriteByte(next)
				i += 2
				continue
			}
			if p.strict {
				return "", i, &SyntaxError{Offset: i, Message: fmt.Sprintf("character '\\' at byte offset %d in a URL must be escaped with the preceding '\\'", i)}
			}
		}
		url.WriteByte(p.src[i])
		i++
	}
	if p.at(i) != ')' {
		return "", i, &SyntaxError{Offset: begin, Message: fmt.Sprintf("Can't find end of a URL at byte offset %d", begin)}
	}
	return url.String(), i, nil
}

func reservedError(c byte, offset int) error {
	return &SyntaxError{Offset: offset, Message: fmt.Sprintf("Character '%c' is reserved and must be escaped with the preceding '\\'", c)}
}

// tdlibName returns the entity type as TDLib prints it in errors.
func tdlibName(typ string) string {
	switch typ {
	case EntityBold:
		return "Bold"
	case EntityItalic:
		return "Italic"
	case EntityUnderline:
		return "Underline"
	case EntityStrikethrough:
		return "Strikethrough"
	case EntitySpoiler:
		return "Spoiler"
	case EntityCode:
		return "Code"
	case EntityPre:
		return "Pre"
	case EntityTextLink:
		return "TextUrl"
	case EntityCustomEmoji:
		return "CustomEmoji"
	}
	return typ
}

func isSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', '\v', '\f', 0:
		return true
	}
	return false
}

// isPunct reports whether c is printable ASCII other than a letter, digit or
// space.
func isPunct(c byte) bool {
	return c > ' ' && c < 0x7f && !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z')
}
