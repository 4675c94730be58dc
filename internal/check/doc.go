// Package check implements the set-up self-check that "custom-misp check" and
// "custom-telegram check" run: config, installed binary, ossec.conf blocks,
// rules, queue socket, MISP and Telegram, each reported as OK, WARN or FAIL
// with the fix.
package check
