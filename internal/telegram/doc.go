// Package telegram delivers messages through the Bot API's sendMessage and
// applies the delivery policy: filters, rate limit, dedupe, 429 waits and
// blocks, chat migration, the plain-text fallback for rejected markup, and
// the queue kept for later runs. Only client.go imports the unmaintained
// go-telegram-bot-api library, so replacing it touches one file.
package telegram
