package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written in the file as a Go duration string
// ("5s", "10m", "24h"). A bare number is rejected because it would silently
// mean nanoseconds.
type Duration time.Duration

// UnmarshalTOML reads a duration string.
func (d *Duration) UnmarshalTOML(value any) error {
	text, ok := value.(string)
	if !ok {
		return fmt.Errorf("invalid duration %v: write it as a string with a unit, for example \"5s\" or \"10m\"", value)
	}
	parsed, err := time.ParseDuration(strings.TrimSpace(text))
	if err != nil {
		return fmt.Errorf("invalid duration %q: use a number with a unit (ms, s, m, h), for example \"5s\"", text)
	}
	if parsed < 0 {
		return fmt.Errorf("invalid duration %q: must not be negative", text)
	}
	*d = Duration(parsed)
	return nil
}

// MarshalText writes the duration back in its string form.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// ChatID is a Telegram chat: a numeric id (groups are negative, supergroups
// start with -100) or a public "@channelname".
type ChatID string

// UnmarshalTOML accepts an integer or a string.
func (c *ChatID) UnmarshalTOML(value any) error {
	switch v := value.(type) {
	case int64:
		*c = ChatID(strconv.FormatInt(v, 10))
		return nil
	case string:
		*c = ChatID(strings.TrimSpace(v))
		return nil
	default:
		return fmt.Errorf("invalid chat_id %v: use the numeric id (for example -1001234567890) or \"@channelname\"", value)
	}
}

// IsSet reports whether a chat is configured.
func (c ChatID) IsSet() bool { return c != "" }

// validate checks the form Telegram accepts: an int64 or @ plus 5-32 word characters.
func (c ChatID) validate() error {
	s := string(c)
	if strings.HasPrefix(s, "@") {
		name := s[1:]
		if len(name) < 5 || len(name) > 32 || strings.IndexFunc(name, func(r rune) bool {
			return !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
		}) >= 0 {
			return fmt.Errorf("invalid telegram.chat_id %q: a username is @ followed by 5-32 letters, digits or underscores", s)
		}
		return nil
	}
	if _, err := strconv.ParseInt(s, 10, 64); err != nil {
		return fmt.Errorf("invalid telegram.chat_id %q: use the numeric id (for example -1001234567890) or \"@channelname\"", s)
	}
	return nil
}
