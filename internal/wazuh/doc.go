// Package wazuh sends events to wazuh-analysisd through the manager's queue
// socket and follows Wazuh's conventions for the datagram header (location
// escaping, the 65535-byte read limit) and for integration log files.
package wazuh
