package money

import (
	"maps"
	"slices"
)

// Currencies lists the codes of posthub's ISO 4217 table, sorted: the currencies a
// form may offer (ValidCurrency accepts exactly these).
func Currencies() []string {
	return slices.Sorted(maps.Keys(currencies))
}
