// Package misp looks up indicators in MISP with one POST to
// /attributes/restSearch, decodes the responses of MISP 2.4 and 2.5 leniently,
// and sorts every failure into a Kind that decides whether to retry and whether
// it counts against a circuit breaker.
package misp
