// Package alert decodes one Wazuh alert, as written to alerts.json, and reads
// its fields by path without trusting their presence or type, because any
// field may be missing or of an unexpected type.
package alert
