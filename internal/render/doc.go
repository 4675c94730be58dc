// Package render turns a MISP match alert into a Telegram message. It builds
// the template data from the alert and executes a text/template with
// escaping functions for each MarkdownV2 context. Values are shortened before
// escaping to keep within the Bot API limits, and a plain text version is
// derived for the fallback. A MarkdownV2 parser modelled on Telegram's lets
// tests and the Bot API stand-in check what the templates emit.
package render
