package booking

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/money"
)

// TreatyBooking is one booking as the treaty report counts it, already clipped to the
// period, measured in sold time (SoldTime: working time, and closed time when booked as
// overtime) and priced.
type TreatyBooking struct {
	BookingID  uuid.UUID
	Production Production
	// Session is the booking's sold time at its site; ResourceTime the sum of each of
	// its resources' sold time.
	Session, ResourceTime time.Duration
	ValueMinor            int64
	Trainees              int
}

// treatySums are a group's figures in exact units: seconds and minor units.
type treatySums struct {
	productions                              map[uuid.UUID]bool
	bookings                                 map[uuid.UUID]bool
	session, resource, emSession, emResource int64
	value, emValue                           int64
	trainingSession, trainee                 int64
}

func newTreatySums() *treatySums {
	return &treatySums{productions: map[uuid.UUID]bool{}, bookings: map[uuid.UUID]bool{}}
}

func (s *treatySums) figures(currency string) TreatyFigures {
	h := func(secs int64) float64 { return math.Round(float64(secs)/3600*10000) / 10000 }
	return TreatyFigures{
		Productions: len(s.productions), Bookings: len(s.bookings),
		SessionHours: h(s.session), ResourceHours: h(s.resource),
		ValueMinor: s.value, Value: money.Format(s.value, currency), Converted: []Amount{},
		EmergingSessionHours: h(s.emSession), EmergingResourceHours: h(s.emResource),
		EmergingValueMinor: s.emValue, EmergingValue: money.Format(s.emValue, currency),
		TrainingSessionHours: h(s.trainingSession), TraineeHours: h(s.trainee),
	}
}

// SumTreaty adds up the bookings for the treaty report: the totals, and per origin
// country each co-production's figures split by its countries' shares. Every quantity
// is split in whole seconds or minor units by the largest remainder (money.Split; a
// disputed unit goes to the larger share, then to the first country in code order), so
// the countries add up to the totals exactly. Countries come in code order. It fails
// only for a booking of a production without origins, whose figures no country could
// take.
func SumTreaty(bookings []TreatyBooking, currency string) (TreatyFigures, []TreatyCountry, error) {
	total := newTreatySums()
	byCountry := map[string]*treatySums{}
	for _, b := range bookings {
		session := int64(b.Session / time.Second)
		if session <= 0 && b.ValueMinor == 0 {
			continue
		}
		q := [5]int64{session, int64(b.ResourceTime / time.Second), b.ValueMinor, 0, int64(b.Trainees) * session}
		if b.Trainees > 0 {
			q[3] = session
		}
		add := func(s *treatySums, v [5]int64) {
			s.productions[b.Production.ID] = true
			s.bookings[b.BookingID] = true
			s.session += v[0]
			s.resource += v[1]
			s.value += v[2]
			s.trainingSession += v[3]
			s.trainee += v[4]
			if b.Production.Emerging {
				s.emSession += v[0]
				s.emResource += v[1]
				s.emValue += v[2]
			}
		}
		add(total, q)
		origins := slices.Clone(b.Production.Origins)
		slices.SortFunc(origins, func(x, y Origin) int { return strings.Compare(x.Country, y.Country) })
		weights := make([]int64, len(origins))
		for i, o := range origins {
			weights[i] = ShareBasisPoints(o.SharePct)
		}
		var parts [5][]int64
		for k := range q {
			var err error
			if parts[k], err = money.Split(q[k], weights); err != nil {
				return TreatyFigures{}, nil, fmt.Errorf("treaty: splitting booking %s of production %s by its origins: %w", b.BookingID, b.Production.ID, err)
			}
		}
		for i, o := range origins {
			s := byCountry[o.Country]
			if s == nil {
				s = newTreatySums()
				byCountry[o.Country] = s
			}
			add(s, [5]int64{parts[0][i], parts[1][i], parts[2][i], parts[3][i], parts[4][i]})
		}
	}
	countries := make([]TreatyCountry, 0, len(byCountry))
	for c, s := range byCountry {
		countries = append(countries, TreatyCountry{Country: c, TreatyFigures: s.figures(currency)})
	}
	sort.Slice(countries, func(i, j int) bool { return countries[i].Country < countries[j].Country })
	return total.figures(currency), countries, nil
}

// AddConversion gives the report's value in another currency: conv is the total value
// converted once, at the report's rate, and each country's figure is its part of that
// converted total, split by the countries' values (money.Split: a disputed unit goes
// to the larger value, then to the first country in code order). Converting each
// country's value on its own would round each apart, and they need not add up to the
// converted total; split, they do, exactly.
func (r *TreatyReport) AddConversion(conv Conversion) error {
	weights := make([]int64, len(r.Countries))
	for i, c := range r.Countries {
		weights[i] = c.ValueMinor
	}
	parts, err := money.Split(conv.TotalMinor, weights)
	if err != nil {
		return fmt.Errorf("treaty: splitting the value in %s by country: %w", conv.Currency, err)
	}
	r.Rates = append(r.Rates, conv)
	r.Totals.Converted = append(r.Totals.Converted, NewAmount(conv.Currency, conv.TotalMinor))
	for i := range r.Countries {
		r.Countries[i].Converted = append(r.Countries[i].Converted, NewAmount(conv.Currency, parts[i]))
	}
	return nil
}
