package booking

import (
	"math"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/money"
)

// TreatyBooking is one booking as the treaty report counts it, already clipped to the
// period and priced.
type TreatyBooking struct {
	BookingID  uuid.UUID
	Production Production
	Start, End time.Time
	Resources  int
	ValueMinor int64
	Trainees   int
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
// is split in whole seconds or minor units by the largest remainder, so the countries
// add up to the totals exactly. Countries come in code order.
func SumTreaty(bookings []TreatyBooking, currency string) (TreatyFigures, []TreatyCountry) {
	total := newTreatySums()
	byCountry := map[string]*treatySums{}
	for _, b := range bookings {
		session := int64(b.End.Sub(b.Start) / time.Second)
		if session <= 0 {
			continue
		}
		q := [5]int64{session, session * int64(b.Resources), b.ValueMinor, 0, int64(b.Trainees) * session}
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
		weights := make([]int64, len(b.Production.Origins))
		for i, o := range b.Production.Origins {
			weights[i] = ShareBasisPoints(o.SharePct)
		}
		var parts [5][]int64
		for k := range q {
			parts[k] = money.Allocate(q[k], weights)
		}
		for i, o := range b.Production.Origins {
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
	return total.figures(currency), countries
}
