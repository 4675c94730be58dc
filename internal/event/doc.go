// Package event builds the JSON events custom-misp sends back to Wazuh: one
// match event per indicator and MISP attribute pair, and error events for
// failed or skipped lookups. This is the only place the wire format is
// written, and the rules in rules/ and the Telegram template read it.
package event
