package money

import (
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestDecimals(t *testing.T) {
	t.Parallel()
	for cur, want := range map[string]int{"MAD": 2, "EUR": 2, "XOF": 0, "USD": 2, "TND": 3} {
		if got := Decimals(cur); got != want {
			t.Errorf("Decimals(%s) = %d, want %d", cur, got, want)
		}
	}
	if MinorPerUnit("XOF") != 1 || MinorPerUnit("MAD") != 100 {
		t.Fatal("minor per unit")
	}
}

// TestCurrencyTable: one ISO 4217 table decides which codes are currencies and their
// minor units; codes are exact capitals.
func TestCurrencyTable(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"eur", "Eur", "mad", "XYZ", "ABC", "EU", "EURO", "", " EUR", "XAU", "XTS", "HRK"} {
		if ValidCurrency(bad) {
			t.Errorf("ValidCurrency(%q) = true", bad)
		}
	}
	for cur, want := range map[string]int{
		"MAD": 2, "XOF": 0, "XAF": 0, "EUR": 2, "USD": 2, "GBP": 2, "NGN": 2, "GHS": 2, "KES": 2, "ZAR": 2,
		"EGP": 2, "DZD": 2, "CHF": 2, "CAD": 2, "JPY": 0, "GNF": 0, "RWF": 0, "KMF": 0, "CVE": 2, "MRU": 2,
		"KWD": 3, "BHD": 3, "TND": 3, "LYD": 3, "OMR": 3, "JOD": 3, "IQD": 3,
	} {
		if !ValidCurrency(cur) || Decimals(cur) != want {
			t.Errorf("%s: valid %v, %d decimals; want valid, %d", cur, ValidCurrency(cur), Decimals(cur), want)
		}
	}
	for cur, d := range currencies {
		if len(cur) != 3 || strings.ToUpper(cur) != cur || (d != 0 && d != 2 && d != 3) {
			t.Errorf("table entry %q: %d", cur, d)
		}
	}
	for _, c := range []struct {
		amount int64
		cur    string
		want   string
	}{{123456, "JPY", "123456"}, {-7, "JPY", "-7"}, {123456, "KWD", "123.456"}, {5, "KWD", "0.005"}, {-1500, "BHD", "-1.500"}, {250000, "XAF", "250000"}} {
		if got := Format(c.amount, c.cur); got != c.want {
			t.Errorf("Format(%d, %s) = %s, want %s", c.amount, c.cur, got, c.want)
		}
	}
	// 1.234 KWD (1 234 fils) at 3 EUR/KWD is 3.702 EUR: 370 cents; 1.00 EUR at 162.5
	// JPY/EUR is 162.5 yen: 163, the yen having no minor unit.
	if got, err := Convert(1234, "KWD", "EUR", big.NewRat(3, 1)); err != nil || got != 370 {
		t.Errorf("Convert(1.234 KWD → EUR at 3) = %d, %v; want 370", got, err)
	}
	if got, err := Convert(100, "EUR", "JPY", big.NewRat(16250, 100)); err != nil || got != 163 {
		t.Errorf("Convert(1.00 EUR → JPY at 162.5) = %d, %v; want 163", got, err)
	}
}

func TestRateBounds(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{"0.000001": true, "1000000": true, "655.957": true, "0.000000999999": false,
		"1000000.000000000001": false, "999999999999999999": false} {
		r, err := ParseRate(s)
		if err != nil {
			t.Fatalf("ParseRate(%s): %v", s, err)
		}
		if RateInBounds(r) != want {
			t.Errorf("RateInBounds(%s) = %v", s, !want)
		}
	}
}

func TestProrateRoundsHalfAwayFromZero(t *testing.T) {
	t.Parallel()
	cases := []struct{ amount, num, den, want int64 }{
		{150000, 3600, 3600, 150000}, // one hour at 1 500.00 MAD
		{150000, 5400, 3600, 225000}, // an hour and a half
		{100, 1, 3, 33},              // 33.33 → 33
		{100, 2, 3, 67},              // 66.67 → 67
		{1, 1, 2, 1},                 // 0.5 → 1 (half away from zero)
		{3, 1, 2, 2},                 // 1.5 → 2
		{5, 1, 2, 3},                 // 2.5 → 3, not banker's 2
		{-5, 1, 2, -3},               // -2.5 → -3
		{25001, 1800, 3600, 12501},   // 12500.5 XOF → 12501 francs
		{25000, 1200, 3600, 8333},    // 8333.33 → 8333
		{1 << 40, 1 << 20, 1 << 10, 1 << 50},
	}
	for _, c := range cases {
		got, err := Prorate(c.amount, c.num, c.den)
		if err != nil || got != c.want {
			t.Errorf("Prorate(%d, %d, %d) = %d, %v; want %d", c.amount, c.num, c.den, got, err, c.want)
		}
	}
	if _, err := Prorate(1<<62, 1<<10, 1); err == nil {
		t.Error("overflow not reported")
	}
	if _, err := Prorate(1, 1, 0); err == nil {
		t.Error("zero denominator not reported")
	}
}

func rat(t *testing.T, s string) *big.Rat {
	t.Helper()
	r, err := ParseRate(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestConvertPerCurrency(t *testing.T) {
	t.Parallel()
	cases := []struct {
		amount   int64
		from, to string
		rate     string
		want     int64
	}{
		// 1 234.50 MAD × 60.7 = 74 934.15 XOF: no minor unit, so 74 934.
		{123450, "MAD", "XOF", "60.7", 74934},
		// 0.5 franc rounds away from zero: 1 MAD × 0.5 = 0.50 XOF → 1.
		{100, "MAD", "XOF", "0.5", 1},
		{100, "MAD", "XOF", "0.49", 0},
		// 1 000.00 MAD at 0.0915 EUR/MAD = 91.50 EUR.
		{100000, "MAD", "EUR", "0.0915", 9150},
		// 0.01 MAD at 0.5 EUR = 0.005 EUR → 0.01 (half away from zero).
		{1, "MAD", "EUR", "0.5", 1},
		// XOF to EUR: 655 957 F at 1/655.957 would be 1000 EUR; at 0.001524 it is 999.68.
		{655957, "XOF", "EUR", "0.001524", 99968},
		// EUR to XOF at the peg: 10.00 EUR = 6 559.57 → 6 560 F.
		{1000, "EUR", "XOF", "655.957", 6560},
		{-1000, "EUR", "XOF", "655.957", -6560},
	}
	for _, c := range cases {
		got, err := Convert(c.amount, c.from, c.to, rat(t, c.rate))
		if err != nil || got != c.want {
			t.Errorf("Convert(%d %s→%s @ %s) = %d, %v; want %d", c.amount, c.from, c.to, c.rate, got, err, c.want)
		}
	}
	// A cross rate kept exact: MAD→EUR as the inverse of 10.85, then EUR→XOF.
	cross := new(big.Rat).Inv(rat(t, "10.85"))
	cross.Mul(cross, rat(t, "655.957"))
	got, err := Convert(108500, "MAD", "XOF", cross) // 1 085.00 MAD = 100 EUR = 65 595.7 F
	if err != nil || got != 65596 {
		t.Errorf("cross conversion = %d, %v; want 65596", got, err)
	}
}

func TestParseAndFormat(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "-1", "0", "1e3", "1/3", "abc", "1.2.3", ".5", "1.1234567890123"} {
		if _, err := ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q) accepted", bad)
		}
	}
	if s := FormatRate(rat(t, "655.957")); s != "655.957" {
		t.Errorf("FormatRate = %s", s)
	}
	if s := FormatRate(rat(t, "10")); s != "10" {
		t.Errorf("FormatRate = %s", s)
	}
	for _, c := range []struct {
		amount int64
		cur    string
		want   string
	}{{123450, "MAD", "1234.50"}, {5, "EUR", "0.05"}, {-5, "EUR", "-0.05"}, {74934, "XOF", "74934"}, {0, "MAD", "0.00"}, {1234, "TND", "1.234"}} {
		if got := Format(c.amount, c.cur); got != c.want {
			t.Errorf("Format(%d, %s) = %s, want %s", c.amount, c.cur, got, c.want)
		}
	}
}

func TestSplit(t *testing.T) {
	t.Parallel()
	cases := []struct {
		total   int64
		weights []int64
		want    []int64
	}{
		{100, []int64{1, 1, 1}, []int64{34, 33, 33}},
		{100, []int64{6000, 4000}, []int64{60, 40}},
		// 3.5, 2.1, 1.4: the floors give 6, the one unit left goes to the 0.5.
		{7, []int64{5000, 3000, 2000}, []int64{4, 2, 1}},
		{1, []int64{5000, 5000}, []int64{1, 0}},
		// Equal remainders: the larger weight first (0.4, 1.4, 0.2: the unit goes to
		// the 1.4), then the earlier part (0.5 each of 0, 0, 1, 1).
		{2, []int64{2, 7, 1}, []int64{0, 2, 0}},
		{3, []int64{1, 1, 2, 2}, []int64{1, 0, 1, 1}},
		// A negative total is the positive split negated.
		{-7, []int64{5000, 3000, 2000}, []int64{-4, -2, -1}},
		{-100, []int64{1, 1, 1}, []int64{-34, -33, -33}},
		// Zero weights get nothing.
		{10, []int64{0, 3, 0, 1}, []int64{0, 8, 0, 2}},
		{0, []int64{1, 2}, []int64{0, 0}},
		{0, []int64{0, 0}, []int64{0, 0}},
		{0, nil, []int64{}},
		// Extremes: the magnitude of MinInt64 and a weights' sum beyond int64.
		{math.MinInt64, []int64{1, 1}, []int64{math.MinInt64 / 2, math.MinInt64 / 2}},
		{math.MaxInt64, []int64{math.MaxInt64, math.MaxInt64}, []int64{math.MaxInt64/2 + 1, math.MaxInt64 / 2}},
		{math.MinInt64, []int64{math.MaxInt64, 1}, []int64{math.MinInt64 + 1, -1}},
	}
	for _, c := range cases {
		got, err := Split(c.total, c.weights)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("Split(%d, %v) = %v, %v; want %v", c.total, c.weights, got, err, c.want)
		}
	}
	for _, bad := range []struct {
		total   int64
		weights []int64
	}{{10, []int64{0, 0}}, {10, nil}, {-1, []int64{}}, {10, []int64{3, -1}}, {0, []int64{-1, 2}}} {
		if got, err := Split(bad.total, bad.weights); err == nil {
			t.Errorf("Split(%d, %v) = %v, want an error", bad.total, bad.weights, got)
		}
	}
}

// TestSplitProperties splits random totals by random weights: the parts add up to the
// total exactly, each is within one minor unit of its exact share total × w / Σw, a
// negated total gives the negated parts, and the same call gives the same parts.
// Seeds are fixed and logged; POSTHUB_SPLIT_SEED=<n> replays one.
func TestSplitProperties(t *testing.T) {
	t.Parallel()
	seeds := []uint64{1, 2, 3, 4, 5, 6, 7, 8}
	if s := os.Getenv("POSTHUB_SPLIT_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("POSTHUB_SPLIT_SEED=%q: %v", s, err)
		}
		seeds = []uint64{seed}
	}
	for _, seed := range seeds {
		rng := rand.New(rand.NewPCG(seed, 0x5eed))
		for n := 0; n < 2000; n++ {
			total, weights := randomSplit(rng)
			got, err := Split(total, weights)
			if err != nil {
				t.Fatalf("seed %d: Split(%d, %v): %v", seed, total, weights, err)
			}
			if len(got) != len(weights) {
				t.Fatalf("seed %d: Split(%d, %v) = %v", seed, total, weights, got)
			}
			sum, wsum := new(big.Int), new(big.Int)
			for i := range got {
				sum.Add(sum, big.NewInt(got[i]))
				wsum.Add(wsum, big.NewInt(weights[i]))
			}
			if sum.Cmp(big.NewInt(total)) != 0 {
				t.Fatalf("seed %d: Split(%d, %v) = %v adds up to %s", seed, total, weights, got, sum)
			}
			for i, w := range weights {
				// |part − total × w / Σw| < 1, that is |part × Σw − total × w| < Σw.
				d := new(big.Int).Mul(big.NewInt(got[i]), wsum)
				d.Sub(d, new(big.Int).Mul(big.NewInt(total), big.NewInt(w)))
				if d.Abs(d).Cmp(wsum) >= 0 {
					t.Fatalf("seed %d: Split(%d, %v) part %d = %d, more than a unit from its share", seed, total, weights, i, got[i])
				}
			}
			again, _ := Split(total, weights)
			if !slices.Equal(got, again) {
				t.Fatalf("seed %d: Split(%d, %v) gave %v, then %v", seed, total, weights, got, again)
			}
			if total != math.MinInt64 {
				neg, err := Split(-total, weights)
				for i := range neg {
					neg[i] = -neg[i]
				}
				if err != nil || !slices.Equal(got, neg) {
					t.Fatalf("seed %d: Split(%d, %v) = %v, but Split(%d) negated is %v (%v)", seed, total, weights, got, -total, neg, err)
				}
			}
		}
	}
}

// randomSplit draws a total and weights: small and huge magnitudes, either sign, zero
// weights among positive ones, and shares that leave many units to hand out.
func randomSplit(rng *rand.Rand) (int64, []int64) {
	var total int64
	switch rng.IntN(4) {
	case 0:
		total = rng.Int64N(1000)
	case 1:
		total = rng.Int64N(1_000_000_000_000)
	case 2:
		total = rng.Int64()
	default:
		total = []int64{0, 1, math.MaxInt64, math.MinInt64}[rng.IntN(4)]
	}
	if rng.IntN(2) == 0 && total != math.MinInt64 {
		total = -total
	}
	weights := make([]int64, 1+rng.IntN(12))
	for i := range weights {
		switch rng.IntN(5) {
		case 0:
			weights[i] = 0
		case 1:
			weights[i] = rng.Int64()
		default:
			weights[i] = 1 + rng.Int64N(10000) // basis points
		}
	}
	if weights[0] == 0 {
		weights[0] = 1 // not all zero
	}
	return total, weights
}
