package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/httpapi"
)

// sseEvent is one server-sent event as a client reads it.
type sseEvent struct {
	ID, Event string
	Change    booking.Change
}

// stream opens GET /api/v1/events on srv with a token (and a Last-Event-ID when
// last is not empty) and returns the events as they arrive; the stream is closed at
// the end of the test.
func stream(t *testing.T, srv, token, last string) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", srv+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if last != "" {
		req.Header.Set("Last-Event-ID", last)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	out := make(chan sseEvent, 100)
	go func() {
		defer res.Body.Close()
		defer close(out)
		sc := bufio.NewScanner(res.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Event != "" {
					out <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.ID = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				ev.Event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				_ = json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev.Change)
			}
		}
	}()
	return out
}

// next waits up to two seconds for an event about booking id (others are skipped).
func next(t *testing.T, events <-chan sseEvent, id uuid.UUID) sseEvent {
	t.Helper()
	deadline := time.After(2 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("the stream ended")
			}
			if ev.Event == "reset" || ev.Change.BookingID == id {
				return ev
			}
		case <-deadline:
			t.Fatalf("no event about %s within two seconds", id)
		}
	}
}

// none checks that no event about booking id arrives within a second.
func none(t *testing.T, events <-chan sseEvent, id uuid.UUID) {
	t.Helper()
	deadline := time.After(time.Second)
	for {
		select {
		case ev, ok := <-events:
			if ok && ev.Change.BookingID == id {
				t.Fatalf("an event about %s reached a stream that may not see it: %+v", id, ev)
			}
			if !ok {
				return
			}
		case <-deadline:
			return
		}
	}
}

// TestEventStreamIsolationAndResume: a producer's stream carries their organisation's
// booking changes within two seconds and never another company's; a stream resumed
// with Last-Event-ID gets the change it missed; one resumed from before what the log
// keeps gets a reset; a bad Last-Event-ID is 400 and an operator 403.
func TestEventStreamIsolationAndResume(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	_, suite, _ := siteAndResources(t, b)
	mine := stream(t, b.srv.URL, b.tokens["producer"], "")
	theirs := stream(t, b.srv.URL, b.tokens["producer_other"], "")
	mgr := stream(t, b.srv.URL, b.tokens["manager"], "")
	prods := decode[listOf[booking.Production]](t, b.do(t, "GET", "/api/v1/productions", b.tokens["producer"], nil), 200).Items
	hold := decode[booking.Booking](t, b.do(t, "POST", "/api/v1/bookings", b.tokens["producer"], map[string]any{
		"production_id": prods[0].ID, "resource_id": suite, "start": "2027-06-14T09:00:00Z", "end": "2027-06-14T13:00:00Z"}), 201)
	ev := next(t, mine, hold.ID)
	if ev.Event != "booking" || ev.Change.Status != "hold" || ev.Change.ProductionID != prods[0].ID || ev.Change.ID == 0 {
		t.Fatalf("producer's event %+v", ev)
	}
	if ev := next(t, mgr, hold.ID); ev.Change.SiteID == uuid.Nil {
		t.Fatalf("manager's event %+v", ev)
	}
	none(t, theirs, hold.ID)

	// Missed while away: a resumed stream gets it first.
	moved := decode[booking.Booking](t, b.do(t, "PATCH", "/api/v1/bookings/"+hold.ID.String(), b.tokens["producer"], map[string]any{
		"start": "2027-06-15T09:00:00Z", "end": "2027-06-15T13:00:00Z"}), 200)
	again := stream(t, b.srv.URL, b.tokens["producer"], ev.ID)
	if ev := next(t, again, hold.ID); ev.Change.Kind != "rescheduled" || ev.Change.Version != moved.Version || !ev.Change.Start.Equal(moved.Start) {
		t.Fatalf("resumed event %+v", ev)
	}
	// Too far back: the log no longer reaches, a reset says so.
	if _, err := b.db.Pool.Exec(context.Background(), `DELETE FROM booking_changes WHERE id <= (SELECT max(id) - 1 FROM booking_changes)`); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, stream(t, b.srv.URL, b.tokens["producer"], "0"), uuid.Nil); ev.Event != "reset" {
		t.Fatalf("resume from 0: %+v", ev)
	}
	problem(t, b.do(t, "GET", "/api/v1/events?last_event_id=-3", b.tokens["producer"], nil), 400, booking.EINVALID)
	problem(t, b.do(t, "GET", "/api/v1/events", b.tokens["operator"], nil), 403, booking.EFORBIDDEN)
}

// TestEventStreamAcrossProcesses: a change made through one posthub process reaches a
// stream held by another on the same database.
func TestEventStreamAcrossProcesses(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	_, suite, _ := siteAndResources(t, b)
	other := httptest.NewServer((&httpapi.Server{Catalogue: b.db, Auth: b.db, Audit: b.db, Bookings: b.db, Changes: b.db,
		Ready: b.db.Ready, Logger: slog.New(slog.DiscardHandler)}).Handler())
	t.Cleanup(other.Close)
	events := stream(t, other.URL, b.tokens["manager"], "")
	prods := decode[listOf[booking.Production]](t, b.do(t, "GET", "/api/v1/productions", b.tokens["producer"], nil), 200).Items
	bk := decode[booking.Booking](t, b.do(t, "POST", "/api/v1/bookings", b.tokens["manager"], map[string]any{
		"production_id": prods[0].ID, "resource_id": suite, "start": "2027-06-14T09:00:00Z", "end": "2027-06-14T13:00:00Z", "status": "confirmed"}), 201)
	ev := next(t, events, bk.ID)
	if ev.Change.Status != "confirmed" {
		t.Fatalf("event on the other process %+v", ev)
	}
	if _, err := strconv.ParseInt(ev.ID, 10, 64); err != nil {
		t.Fatalf("event id %q", ev.ID)
	}
}
