// Package secret holds credentials (the MISP key, the bot token) in a type
// that prints, logs and marshals as a placeholder, so a secret reaches a log
// line or an error only through an explicit call to Reveal.
package secret

import "log/slog"

// Placeholder is what a non-empty secret prints as.
const Placeholder = "[REDACTED]"

// String is a credential. Its zero value is the empty (unset) secret.
type String string

// Reveal returns the credential itself, for the one place that sends it.
func (s String) Reveal() string { return string(s) }

// IsSet reports whether the credential is non-empty.
func (s String) IsSet() bool { return s != "" }

// String returns Placeholder, or "" when the secret is unset.
func (s String) String() string {
	if s == "" {
		return ""
	}
	return Placeholder
}

// GoString keeps %#v from printing the credential.
func (s String) GoString() string { return s.String() }

// LogValue makes slog print the placeholder.
func (s String) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText makes encoding/json and TOML encoders print the placeholder.
func (s String) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads the credential from a config file.
func (s *String) UnmarshalText(text []byte) error {
	*s = String(text)
	return nil
}
