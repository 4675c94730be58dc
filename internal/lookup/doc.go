// Package lookup is the core of custom-misp. It takes one decoded alert,
// finds its indicators, looks them up in the cache or in MISP behind the
// circuit breaker, spools what could not be looked up, replays the spool
// once MISP responds again, and returns the enrichment events to send. It
// does not depend on integratord, so another front end (a reader of
// alerts.json, say) can drive the same Engine.
package lookup
