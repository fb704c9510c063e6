package booking

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestSumTreatyShareTiesAreDeterministic: a unit two countries could equally claim goes
// to the larger share, then to the first country in code order, whatever order the
// production lists its origins in.
func TestSumTreatyShareTiesAreDeterministic(t *testing.T) {
	t.Parallel()
	value := func(origins []Origin, minor int64) map[string]int64 {
		t.Helper()
		_, countries, err := SumTreaty([]TreatyBooking{{BookingID: uuid.New(), Production: Production{ID: uuid.New(), Origins: origins},
			Session: time.Hour, ResourceTime: time.Hour, ValueMinor: minor}}, "MAD")
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int64{}
		for _, c := range countries {
			out[c.Country] = c.ValueMinor
		}
		return out
	}
	// 2 centimes at 25/25/50 are 0.5, 0.5 and 1: the unit left goes to MA, before SN.
	for _, origins := range [][]Origin{
		{{Country: "SN", SharePct: 25}, {Country: "MA", SharePct: 25}, {Country: "FR", SharePct: 50}},
		{{Country: "FR", SharePct: 50}, {Country: "MA", SharePct: 25}, {Country: "SN", SharePct: 25}},
	} {
		if got := value(origins, 2); got["MA"] != 1 || got["SN"] != 0 || got["FR"] != 1 {
			t.Errorf("2 centimes by %v: %v", origins, got)
		}
	}
	// 2 centimes at 20/10/70 are 0.4, 0.2 and 1.4: FR and SN have the same remainder,
	// and SN the larger share.
	if got := value([]Origin{{Country: "FR", SharePct: 20}, {Country: "MA", SharePct: 10}, {Country: "SN", SharePct: 70}}, 2); got["SN"] != 2 || got["FR"] != 0 || got["MA"] != 0 {
		t.Errorf("2 centimes at 20/10/70: %v", got)
	}
	// A production without origins has no country to take its figures.
	if _, _, err := SumTreaty([]TreatyBooking{{BookingID: uuid.New(), Production: Production{ID: uuid.New()},
		Session: time.Hour, ResourceTime: time.Hour, ValueMinor: 100}}, "MAD"); err == nil {
		t.Error("a production without origins was summed")
	}
}

// TestAddConversionSplitsTheConvertedTotal: the countries' converted figures are the
// converted total split by their values, so they add up to it; converted apart, 20 001,
// 30 001 and 50 002 centimes at 655.957/10.85 XOF per MAD would be 12 092 + 18 138 +
// 30 230 = 60 460 francs, one more than the 60 459 of the whole.
func TestAddConversionSplitsTheConvertedTotal(t *testing.T) {
	t.Parallel()
	rep := TreatyReport{Currency: "MAD", Totals: TreatyFigures{ValueMinor: 100004}, Countries: []TreatyCountry{
		{Country: "FR", TreatyFigures: TreatyFigures{ValueMinor: 20001}},
		{Country: "MA", TreatyFigures: TreatyFigures{ValueMinor: 30001}},
		{Country: "SN", TreatyFigures: TreatyFigures{ValueMinor: 50002}},
	}}
	if err := rep.AddConversion(Conversion{Currency: "XOF", TotalMinor: 60459}); err != nil {
		t.Fatal(err)
	}
	if err := rep.AddConversion(Conversion{Currency: "EUR", TotalMinor: 9217}); err != nil {
		t.Fatal(err)
	}
	want := map[string][2]int64{"FR": {12092, 1843}, "MA": {18138, 2765}, "SN": {30229, 4609}}
	for _, c := range rep.Countries {
		if len(c.Converted) != 2 || c.Converted[0] != NewAmount("XOF", want[c.Country][0]) || c.Converted[1] != NewAmount("EUR", want[c.Country][1]) {
			t.Errorf("%s: %+v, want %v", c.Country, c.Converted, want[c.Country])
		}
	}
	if len(rep.Rates) != 2 || len(rep.Totals.Converted) != 2 || rep.Totals.Converted[0].Minor != 60459 || rep.Totals.Converted[1].Minor != 9217 {
		t.Errorf("totals %+v, rates %+v", rep.Totals.Converted, rep.Rates)
	}
}
