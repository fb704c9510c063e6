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

// currencies is posthub's one table of ISO 4217 currencies: each code, in capitals,
// with its minor unit, the number of decimal places of its smallest unit (ISO 4217
// List One as of 2026). It holds the currencies in circulation; not the funds (CLF,
// USN, …), precious metals (XAU, …), the SDR or the testing codes, nor codes since
// withdrawn (HRK, SLL, ZWL, ANG, BGN, …). Only a code in it is a currency here:
// exchange rates and sites name one, and money is formatted by it.
var currencies = map[string]int{
	"AED": 2, "AFN": 2, "ALL": 2, "AMD": 2, "AOA": 2, "ARS": 2, "AUD": 2, "AWG": 2, "AZN": 2,
	"BAM": 2, "BBD": 2, "BDT": 2, "BHD": 3, "BIF": 0, "BMD": 2, "BND": 2, "BOB": 2, "BRL": 2,
	"BSD": 2, "BTN": 2, "BWP": 2, "BYN": 2, "BZD": 2,
	"CAD": 2, "CDF": 2, "CHF": 2, "CLP": 0, "CNY": 2, "COP": 2, "CRC": 2, "CUP": 2, "CVE": 2,
	"CZK": 2,
	"DJF": 0, "DKK": 2, "DOP": 2, "DZD": 2,
	"EGP": 2, "ERN": 2, "ETB": 2, "EUR": 2,
	"FJD": 2, "FKP": 2,
	"GBP": 2, "GEL": 2, "GHS": 2, "GIP": 2, "GMD": 2, "GNF": 0, "GTQ": 2, "GYD": 2,
	"HKD": 2, "HNL": 2, "HTG": 2, "HUF": 2,
	"IDR": 2, "ILS": 2, "INR": 2, "IQD": 3, "IRR": 2, "ISK": 0,
	"JMD": 2, "JOD": 3, "JPY": 0,
	"KES": 2, "KGS": 2, "KHR": 2, "KMF": 0, "KPW": 2, "KRW": 0, "KWD": 3, "KYD": 2, "KZT": 2,
	"LAK": 2, "LBP": 2, "LKR": 2, "LRD": 2, "LSL": 2, "LYD": 3,
	"MAD": 2, "MDL": 2, "MGA": 2, "MKD": 2, "MMK": 2, "MNT": 2, "MOP": 2, "MRU": 2, "MUR": 2,
	"MVR": 2, "MWK": 2, "MXN": 2, "MYR": 2, "MZN": 2,
	"NAD": 2, "NGN": 2, "NIO": 2, "NOK": 2, "NPR": 2, "NZD": 2,
	"OMR": 3,
	"PAB": 2, "PEN": 2, "PGK": 2, "PHP": 2, "PKR": 2, "PLN": 2, "PYG": 0,
	"QAR": 2,
	"RON": 2, "RSD": 2, "RUB": 2, "RWF": 0,
	"SAR": 2, "SBD": 2, "SCR": 2, "SDG": 2, "SEK": 2, "SGD": 2, "SHP": 2, "SLE": 2, "SOS": 2,
	"SRD": 2, "SSP": 2, "STN": 2, "SVC": 2, "SYP": 2, "SZL": 2,
	"THB": 2, "TJS": 2, "TMT": 2, "TND": 3, "TOP": 2, "TRY": 2, "TTD": 2, "TWD": 2, "TZS": 2,
	"UAH": 2, "UGX": 0, "USD": 2, "UYU": 2, "UZS": 2,
	"VED": 2, "VES": 2, "VND": 0, "VUV": 0,
	"WST": 2,
	"XAF": 0, "XCD": 2, "XCG": 2, "XOF": 0, "XPF": 0,
	"YER": 2,
	"ZAR": 2, "ZMW": 2, "ZWG": 2,
}

// ValidCurrency reports whether c is an ISO 4217 currency of the table, written
// exactly: "EUR", never "eur" or "Eur"; "XYZ" is no currency.
func ValidCurrency(c string) bool {
	_, ok := currencies[c]
	return ok
}

// Decimals is how many decimal places a currency's minor unit has, by the ISO 4217
// table: 2 for MAD and EUR (100 centimes or cents to the unit), 0 for XOF and JPY (no
// minor unit), 3 for KWD, BHD and TND (1 000 fils or millimes). Every currency stored
// was checked with ValidCurrency on its way in; anything else counts as 2.
func Decimals(currency string) int {
	if d, ok := currencies[currency]; ok {
		return d
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

// MinRate and MaxRate bound an exchange rate entered (units of quote per unit of
// base), inclusive: no two currencies in circulation are a million times apart (655.957
// XOF or about 30 000 VND to the euro, 0.3 KWD to the dollar), and within the bounds a
// conversion of any realistic amount fits an int64 of minor units, where a rate of
// 10^18 would overflow every quote converted through it. A pair beyond them is entered
// through EUR, as two rates.
const (
	MinRate = "0.000001"
	MaxRate = "1000000"
)

var minRate, maxRate = big.NewRat(1, 1_000_000), big.NewRat(1_000_000, 1)

// RateInBounds reports whether r is within [MinRate, MaxRate].
func RateInBounds(r *big.Rat) bool {
	return r.Cmp(minRate) >= 0 && r.Cmp(maxRate) <= 0
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
