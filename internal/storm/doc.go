// Package storm keeps the per-chat state that lets one process per alert
// behave well during alert storms. Per chat it stores a token bucket for the
// send rate, a dedupe window, the end of Telegram's last 429 block, messages
// waiting to be sent, and counts of suppressed alerts. The state lives in one
// JSON file under the Wazuh state directory, updated under a file lock.
package storm
