package main

import (
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/calendar"
)

// workHours numbers a site's working hours from a base instant on: hour i starts at
// the i-th whole hour counted from the opening of each working stretch (09:00, 10:00,
// … at Casablanca; 08:30, 09:30, … at Dakar). A booking starting there holds working
// time, whatever it runs on into, so the drills' slots far ahead are counted in these
// hours: a booking with no working time is refused unless booked as overtime. Starts
// are at least an hour apart, so one-hour bookings on distinct numbers never overlap.
// Safe for concurrent use; the list grows as far as asked.
type workHours struct {
	cal    *calendar.Calendar
	mu     sync.Mutex
	starts []time.Time
	filled time.Time // starts holds every hour that begins before filled
}

// newWorkHours numbers cal's working hours from base; the calendar must have working
// time within calendar.Horizon of base.
func newWorkHours(cal *calendar.Calendar, base time.Time) (*workHours, error) {
	if _, err := cal.AddWorkingHours(base, time.Hour, calendar.Options{}); err != nil {
		return nil, err
	}
	return &workHours{cal: cal, filled: base.UTC()}, nil
}

// at is the start of working hour i (from 0).
func (w *workHours) at(i int) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	const chunk = 31 * 24 * time.Hour
	for len(w.starts) <= i {
		end := w.filled.Add(chunk)
		for _, iv := range w.cal.WorkingTime(calendar.Interval{Start: w.filled, End: end}, calendar.Options{}) {
			s := iv.Start
			if n := len(w.starts); n > 0 && s.Before(w.starts[n-1].Add(time.Hour)) {
				s = w.starts[n-1].Add(time.Hour) // the rest of a stretch the last chunk's end cut
			}
			for ; s.Before(iv.End); s = s.Add(time.Hour) {
				w.starts = append(w.starts, s)
			}
		}
		w.filled = end
	}
	return w.starts[i]
}

// siteHours numbers the working hours of every site of the world from base, by site.
func siteHours(w *world, base time.Time) (map[uuid.UUID]*workHours, error) {
	out := map[uuid.UUID]*workHours{}
	for slug, site := range w.sites {
		h, err := newWorkHours(w.calendars[site], base)
		if err != nil {
			return nil, fmt.Errorf("the %s calendar: %w", slug, err)
		}
		out[site] = h
	}
	return out, nil
}
