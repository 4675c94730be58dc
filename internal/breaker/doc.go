// Package breaker keeps a circuit breaker for MISP lookups in a file under
// the Wazuh home's var/ directory, so the one-process-per-alert runs of
// custom-misp share its state. It wraps gobreaker's distributed breaker
// with a file-backed store and adds what a caller needs to report an
// outage once: when it opened, why, and how many lookups it skipped.
package breaker
