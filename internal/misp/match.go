package misp

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/soc-integrations/wazuh-misp-telegram/internal/indicator"
)

// Hit is an attribute paired with the indicator it matched.
type Hit struct {
	Indicator indicator.Indicator
	Attribute Attribute
}

// Match pairs each attribute with the indicators it contains. MISP matches
// a value against either half of a composite, so a port or file name can
// bring back an attribute that contains none of the indicators. Match
// therefore compares only the half that the type uses for the indicator's
// kind (see TypesFor), and drops attributes that match nothing. IPs compare
// as addresses, hashes and domains case-insensitively, and a trailing dot
// on a domain is ignored.
//
// Hits come in indicator order, then attribute order. An attribute (by
// UUID, or ID when the UUID is empty) appears once per indicator Key, so
// the first of two indicators with the same kind and value gets the hit.
func Match(attrs []Attribute, inds []indicator.Indicator) []Hit {
	type hitKey struct{ attribute, indicator string }
	seen := make(map[hitKey]bool)
	var hits []Hit
	for _, ind := range inds {
		halves := typeHalves[ind.Kind]
		for i, attr := range attrs {
			half, ok := halves[attr.Type]
			if !ok || !sameValue(ind.Kind, compositeHalf(attr.Value, half), ind.Value) {
				continue
			}
			key := hitKey{attribute: attributeIdentity(attr, i), indicator: ind.Key()}
			if seen[key] {
				continue
			}
			seen[key] = true
			hits = append(hits, Hit{Indicator: ind, Attribute: attr})
		}
	}
	return hits
}

// compositeHalf returns half 1 or 2 of "first|second", splitting at the
// first "|". A value without "|" is all first half and has no second.
func compositeHalf(value string, half int) string {
	first, second, found := strings.Cut(value, "|")
	if half == 2 {
		if !found {
			return ""
		}
		return second
	}
	return first
}

// sameValue compares an attribute's value with an indicator's as the kind
// requires.
func sameValue(kind indicator.Kind, attrValue, indValue string) bool {
	if attrValue == "" {
		return false
	}
	switch kind {
	case indicator.IP:
		a, errA := netip.ParseAddr(strings.TrimSpace(attrValue))
		b, errB := netip.ParseAddr(strings.TrimSpace(indValue))
		if errA != nil || errB != nil {
			return strings.EqualFold(attrValue, indValue)
		}
		return a.Unmap().WithZone("") == b.Unmap().WithZone("")
	case indicator.Domain:
		return strings.EqualFold(strings.TrimSuffix(attrValue, "."), strings.TrimSuffix(indValue, "."))
	default:
		return strings.EqualFold(strings.TrimSpace(attrValue), strings.TrimSpace(indValue))
	}
}

// attributeIdentity returns the key that identifies an attribute for
// deduplication: the UUID, else the ID, else the position in the response.
func attributeIdentity(attr Attribute, index int) string {
	switch {
	case attr.UUID != "":
		return "uuid:" + attr.UUID
	case attr.ID != "":
		return "id:" + attr.ID
	default:
		return "index:" + strconv.Itoa(index)
	}
}
