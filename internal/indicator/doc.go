// Package indicator finds the indicators of compromise in a Wazuh alert and
// normalises each one to the form that is looked up in MISP. It reads file
// hashes from Sysmon and syscheck, global IP addresses from Sysmon network
// events, and domains from Sysmon DNS events.
package indicator
