package web

import (
	"testing"

	"github.com/posthub/posthub/internal/booking"
)

// TestAdminKeysFromTheDomainExist: every message the administration builds from the
// domain's values (adminKey) is in every catalog: the categories, units, periods,
// the fields a refusal names, the values taken and the conflicts' reasons, and the
// error code of a password link gone.
func TestAdminKeysFromTheDomainExist(t *testing.T) {
	var keys []string
	for _, c := range []string{"room", "person", "equipment"} {
		keys = append(keys, adminKey("category_", c))
	}
	for _, u := range []string{booking.UnitHour, booking.UnitDay} {
		keys = append(keys, adminKey("unit_", u), adminKey("per_", u))
	}
	for _, p := range []string{booking.PeriodMonth, booking.PeriodQuarter, booking.PeriodYear} {
		keys = append(keys, adminKey("period_", p))
	}
	for _, f := range []string{"slug", "name", "country", "time_zone", "currency", "category", "kind", "capabilities", "rate_minor",
		"rate_unit", "trainee_capacity", "email", "role", "locale", "organisation_id", "site_ids", "password", "url", "base", "quote",
		"rate", "effective_at", "effective_from", "effective_to", "amount_minor", "unit", "resource_id", "overtime_multiplier_bp",
		"programme", "share_pct", "period", "release_days", "countries", "site_id"} {
		keys = append(keys, adminKey("err_", f))
	}
	for _, f := range []string{"slug", "name", "email"} {
		keys = append(keys, adminKey("taken_", f))
	}
	for _, r := range []string{booking.ReasonSiteHasActiveResources, booking.ReasonSiteInUse, booking.ReasonSiteInactive,
		booking.ReasonResourceHasBookings, booking.ReasonLastAdmin, booking.ReasonUserInactive, booking.ReasonTokenLimit} {
		keys = append(keys, adminKey("reason_", r))
	}
	for _, k := range []string{"sites", "orgs", "users", "rates", "exchange", "fences", "webhooks", "tokens"} {
		keys = append(keys, "admin."+k+"_title", "admin."+k+"_help")
	}
	keys = append(keys, "error."+booking.EGONE)
	for _, key := range keys {
		for _, lang := range catalog.Languages() {
			if _, ok := catalog.Lookup(lang, key); !ok {
				t.Errorf("missing message %s in %s", key, lang)
			}
		}
	}
}

func TestSlugOf(t *testing.T) {
	for in, want := range map[string]string{"Lagos": "lagos", "Lagos Post": "lagos-post", "Dakar — Plateau": "dakar-plateau",
		"Ébène Films": "ebene-films", "  Studio 7 ": "studio-7", "Œuvre & Cie": "oeuvre-cie", "北京": ""} {
		if got := slugOf(in); got != want {
			t.Errorf("slugOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseAmount(t *testing.T) {
	for _, c := range []struct {
		in, currency string
		want         int64
		ok           bool
	}{
		{"350", "NGN", 35000, true}, {"1 500,50", "NGN", 150050, true}, {"1,500.50", "NGN", 150050, true}, {"1.500.000", "XOF", 1500000, true},
		{"1,500", "NGN", 150000, true}, {"12,5", "EUR", 1250, true}, {"0", "MAD", 0, true}, {"12.345", "NGN", 0, false},
		{"12.345", "KWD", 12345, true}, {"10.50", "XOF", 0, false}, {"10.00", "XOF", 10, true}, {"-5", "EUR", 0, false},
		{"", "EUR", 0, false}, {"abc", "EUR", 0, false}, {"1e3", "EUR", 0, false}, {"10000000001", "EUR", 0, false},
		{"10000000000", "EUR", 1_000_000_000_000, true},
	} {
		got, ok := parseAmount(c.in, c.currency)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("parseAmount(%q, %s) = %d, %v; want %d, %v", c.in, c.currency, got, ok, c.want, c.ok)
		}
	}
}
