// Package storm keeps the per-chat state that lets one process per alert
// behave well during alert storms: a token bucket for the send rate, a
// dedupe window, the time until which Telegram asked for silence, messages
// waiting to be sent, and counts of suppressed alerts. The state lives in
// one JSON file under the Wazuh state directory, updated under a file lock.
package storm
