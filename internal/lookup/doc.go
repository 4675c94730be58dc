// Package lookup is the core of custom-misp: it takes one decoded alert,
// finds its indicators, answers them from the cache or from MISP behind the
// circuit breaker, spools what could not be looked up, replays the spool
// once MISP answers again, and returns the enrichment events to send. It
// knows nothing about integratord, so another front end (a reader of
// alerts.json, say) can drive the same Engine.
package lookup
