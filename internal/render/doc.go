// Package render turns a MISP match alert into a Telegram message: it builds
// the template data from the alert, executes a text/template with escaping
// functions for each MarkdownV2 context, keeps the result within the Bot API
// limits by shortening values before they are escaped, and derives a plain
// text version for the fallback. It also parses MarkdownV2 the way Telegram
// does, so tests and the Bot API stand-in can check what the templates emit.
package render
