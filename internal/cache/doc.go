// Package cache keeps MISP lookup results (matches and misses) per
// indicator in small files under the Wazuh home's var/ directory, so
// repeated alerts for the same value skip the MISP request until the
// result's TTL runs out.
package cache
