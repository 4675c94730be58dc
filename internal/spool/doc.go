// Package spool keeps the lookups that custom-misp owes because MISP failed
// or the circuit breaker was open, one durable file per record under the
// Wazuh home's var/ directory, and replays them oldest first in a later run.
package spool
