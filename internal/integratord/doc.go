// Package integratord implements the calling convention of wazuh-integratord
// (Wazuh 4.x): the argv layouts of each version, the alert file it writes,
// and the exit statuses a program returns to it.
package integratord
