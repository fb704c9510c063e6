package money

import (
	"math/big"
	"slices"
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

func TestAllocate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		total   int64
		weights []int64
		want    []int64
	}{
		{100, []int64{1, 1, 1}, []int64{34, 33, 33}},
		{100, []int64{6000, 4000}, []int64{60, 40}},
		{7, []int64{5000, 3000, 2000}, []int64{4, 2, 1}}, // 3.5, 2.1, 1.4 → 3+2+1, the 0.5 gets the last
		{1, []int64{5000, 5000}, []int64{1, 0}},
		{0, []int64{1, 2}, []int64{0, 0}},
		{10, []int64{0, 0}, []int64{0, 0}},
	}
	for _, c := range cases {
		got := Allocate(c.total, c.weights)
		if !slices.Equal(got, c.want) {
			t.Errorf("Allocate(%d, %v) = %v, want %v", c.total, c.weights, got, c.want)
		}
		var sum int64
		for _, g := range got {
			sum += g
		}
		if c.want[0]+c.want[len(c.want)-1] > 0 && sum != c.total {
			t.Errorf("Allocate(%d, %v) adds up to %d", c.total, c.weights, sum)
		}
	}
}
