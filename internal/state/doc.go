// Package state keeps what must outlive one process (breaker state, the
// lookup cache, the lookup spool, Telegram rate and dedupe state) in small
// files under the Wazuh home's var/ directory. Writers take an exclusive
// flock on a sidecar ".lock" file and replace data with a temp file and
// rename, so readers never see a half-written file and a process killed
// mid-write leaves the previous version in place.
package state
