// Package money does posthub's money arithmetic in integer minor units: amounts are
// int64 counts of a currency's smallest unit (centimes of MAD, cents of EUR, whole
// francs of XOF), rates are exact rationals, and every rounding is explicit (half away
// from zero, to the currency's minor unit; a split by the largest remainder, so its
// parts add up). No float ever holds an amount. It imports nothing of the project.
package money

import (
	"fmt"
	"math/big"
	"sort"
	"strings"
)

// zeroDecimal lists the ISO 4217 currencies without a minor unit.
var zeroDecimal = map[string]bool{
	"XOF": true, "XAF": true, "XPF": true, "JPY": true, "KRW": true, "CLP": true, "GNF": true,
	"KMF": true, "PYG": true, "RWF": true, "UGX": true, "VND": true, "VUV": true, "DJF": true, "BIF": true, "ISK": true,
}

// threeDecimal lists the ISO 4217 currencies with three decimals.
var threeDecimal = map[string]bool{"BHD": true, "IQD": true, "JOD": true, "KWD": true, "LYD": true, "OMR": true, "TND": true}

// Decimals is how many decimal places a currency's minor unit has: 2 for MAD and EUR
// (100 centimes or cents to the unit), 0 for XOF (the franc has no minor unit).
func Decimals(currency string) int {
	switch {
	case zeroDecimal[currency]:
		return 0
	case threeDecimal[currency]:
		return 3
	}
	return 2
}

// MinorPerUnit is how many minor units make one unit of the currency (100, or 1 for XOF).
func MinorPerUnit(currency string) int64 {
	n := int64(1)
	for i := 0; i < Decimals(currency); i++ {
		n *= 10
	}
	return n
}

// ValidCurrency reports whether c looks like an ISO 4217 code.
func ValidCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for _, r := range c {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// RoundRat rounds r to the nearest integer, halves away from zero.
func RoundRat(r *big.Rat) *big.Int {
	num := new(big.Int).Set(r.Num())
	den := r.Denom() // positive
	neg := num.Sign() < 0
	num.Abs(num)
	// (2|num| + den) / (2 den), floored, is |num|/den rounded half up.
	q := new(big.Int).Mul(num, big.NewInt(2))
	q.Add(q, den)
	q.Quo(q, new(big.Int).Mul(den, big.NewInt(2)))
	if neg {
		q.Neg(q)
	}
	return q
}

// roundToInt64 rounds r half away from zero and reports whether it fits an int64.
func roundToInt64(r *big.Rat) (int64, error) {
	q := RoundRat(r)
	if !q.IsInt64() {
		return 0, fmt.Errorf("money: %s is out of range", r.FloatString(0))
	}
	return q.Int64(), nil
}

// Prorate returns amount × num / den rounded half away from zero: an hourly rate
// (amount in minor units per den seconds) times num seconds. den must be positive.
func Prorate(amount, num, den int64) (int64, error) {
	if den <= 0 {
		return 0, fmt.Errorf("money: prorating over %d", den)
	}
	r := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(amount), big.NewInt(num)), big.NewInt(den))
	return roundToInt64(r)
}

// Mul returns amount × n, failing on overflow.
func Mul(amount, n int64) (int64, error) {
	p := new(big.Int).Mul(big.NewInt(amount), big.NewInt(n))
	if !p.IsInt64() {
		return 0, fmt.Errorf("money: %d × %d is out of range", amount, n)
	}
	return p.Int64(), nil
}

// Add returns the sum, failing on overflow.
func Add(a, b int64) (int64, error) {
	s := a + b
	if (s > a) != (b > 0) {
		return 0, fmt.Errorf("money: %d + %d is out of range", a, b)
	}
	return s, nil
}

// ParseRate reads an exchange rate written as a decimal ("655.957", "0.0915", "10.8")
// exactly. It must be positive, with at most 12 decimal places and 18 digits before
// the point.
func ParseRate(s string) (*big.Rat, error) {
	s = strings.TrimSpace(s)
	intPart, frac, _ := strings.Cut(s, ".")
	if s == "" || intPart == "" || len(intPart) > 18 || len(frac) > 12 || strings.ContainsAny(s, "eE+-/") {
		return nil, fmt.Errorf("money: %q is not a decimal rate like 655.957", s)
	}
	for _, c := range intPart + frac {
		if c < '0' || c > '9' {
			return nil, fmt.Errorf("money: %q is not a decimal rate like 655.957", s)
		}
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok || r.Sign() <= 0 {
		return nil, fmt.Errorf("money: %q is not a positive rate", s)
	}
	return r, nil
}

// FormatRate writes a rate as a decimal with up to 12 places, trailing zeros trimmed
// (an exact rate such as 655.957 reads back unchanged).
func FormatRate(r *big.Rat) string {
	s := r.FloatString(12)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// Convert changes an amount in minor units of from into minor units of to, at rate
// units of to per unit of from, exactly, then rounds half away from zero to to's minor
// unit: 1 234.50 MAD at 60.7 XOF/MAD is 74 934.15 francs, so 74 934 XOF.
func Convert(amountMinor int64, from, to string, rate *big.Rat) (int64, error) {
	r := new(big.Rat).SetInt64(amountMinor)
	r.Mul(r, rate)
	r.Mul(r, new(big.Rat).SetFrac(big.NewInt(MinorPerUnit(to)), big.NewInt(MinorPerUnit(from))))
	return roundToInt64(r)
}

// Format writes an amount in minor units as a plain decimal of the currency's unit:
// 123450 MAD is "1234.50", 74934 XOF is "74934", -5 EUR is "-0.05".
func Format(amountMinor int64, currency string) string {
	d := Decimals(currency)
	neg := amountMinor < 0
	u := new(big.Int).Abs(big.NewInt(amountMinor)).String()
	if d > 0 {
		for len(u) <= d {
			u = "0" + u
		}
		u = u[:len(u)-d] + "." + u[len(u)-d:]
	}
	if neg {
		return "-" + u
	}
	return u
}

// Split apportions total among len(weights) parts in proportion to the weights by the
// largest remainder (Hamilton) method, so the parts are whole minor units that add up
// to total exactly: each part is first its exact share rounded towards zero, then the
// units still missing go one each to the parts with the largest remainders; ties go to
// the larger weight, then to the earlier part (so a caller ordering its parts, say by
// country code, fixes who gets a disputed unit). Every part is within one minor unit
// of its exact share. A negative total is split as its magnitude and negated:
// Split(-t, w) is -Split(t, w). 100 in 1:1:1 is 34, 33, 33; 7 in 50:30:20 is 4, 2, 1.
//
// Weights must not be negative; all zero (or none) is an error unless total is zero,
// when every part is zero. The arithmetic is in big integers, so neither the weights'
// sum nor any product overflows, and no part exceeds total in magnitude.
func Split(total int64, weights []int64) ([]int64, error) {
	out := make([]int64, len(weights))
	sum := new(big.Int)
	for _, w := range weights {
		if w < 0 {
			return nil, fmt.Errorf("money: splitting by a negative weight %d", w)
		}
		sum.Add(sum, big.NewInt(w))
	}
	if sum.Sign() == 0 {
		if total != 0 {
			return nil, fmt.Errorf("money: splitting %d by no weight", total)
		}
		return out, nil
	}
	mag := new(big.Int).Abs(big.NewInt(total))
	parts := make([]*big.Int, len(weights))
	rems := make([]*big.Int, len(weights))
	left := new(big.Int).Set(mag)
	for i, w := range weights {
		parts[i], rems[i] = new(big.Int).QuoRem(new(big.Int).Mul(mag, big.NewInt(w)), sum, new(big.Int))
		left.Sub(left, parts[i])
	}
	// The floors fall short by less than one unit a part: left < len(weights).
	order := make([]int, len(weights))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		i, j := order[a], order[b]
		if c := rems[i].Cmp(rems[j]); c != 0 {
			return c > 0
		}
		return weights[i] > weights[j]
	})
	for _, i := range order[:left.Int64()] {
		parts[i].Add(parts[i], big.NewInt(1))
	}
	for i, p := range parts {
		if total < 0 {
			p.Neg(p)
		}
		out[i] = p.Int64() // |p| ≤ |total|, and -|total| ≥ math.MinInt64
	}
	return out, nil
}
