package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/posthub/posthub/internal/booking"
	"github.com/posthub/posthub/internal/live"
)

// Server-sent events: GET /api/v1/events streams the booking changes the caller may
// see (package live). Each event is
//
//	id: <resume id>
//	event: booking
//	data: {"change_id": 42, "kind": "rescheduled", "booking_id": …, "status": …}
//
// and a client that reconnects sends the last id back (Last-Event-ID, or the
// last_event_id parameter for the first connection of an EventSource) to get what it
// missed: entries may then come twice, never be missed, and change_id tells. An id
// older than the log keeps (booking.ChangeRetention) gets an event "reset": reload.

// streamDefaults bound a stream: a comment every keepAlive keeps proxies from closing
// it, and it ends after streamFor (the client reconnects and resumes) so no connection
// lives forever.
const (
	keepAlive     = 15 * time.Second
	streamFor     = 10 * time.Minute
	replayLimit   = 5000
	retryInterval = 2000 // ms, the client's reconnection delay
)

func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request) {
	a, _ := ActorFrom(r.Context())
	raw := r.Header.Get("Last-Event-ID")
	field := "Last-Event-ID"
	if v := r.URL.Query().Get("last_event_id"); v != "" {
		raw, field = v, "last_event_id"
	}
	last := int64(-1)
	if raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 {
			writeError(w, r, s.Logger, &booking.Error{Code: booking.EINVALID, Message: field + " must be the id of an event this stream sent.",
				Details: map[string]any{"parameter": field}})
			return
		}
		last = n
	}
	ctx := r.Context()
	sub, floor, err := s.hub.Subscribe(ctx, a)
	if err != nil {
		writeError(w, r, s.Logger, err)
		return
	}
	defer sub.Close()
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // the server's write timeout is for answers, not streams
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "retry: %d\n\n", retryInterval)
	send := func(id int64, ev string, v any) error {
		b, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", id, ev, b); err != nil {
			return err
		}
		return rc.Flush()
	}
	if err := rc.Flush(); err != nil {
		return
	}
	sent := map[int64]bool{}
	if last >= 0 {
		replayed, ok, err := s.replay(ctx, a, last, floor, send, sent)
		switch {
		case err != nil:
			return
		case !ok:
			if send(floor, "reset", map[string]string{"reason": "the changes since that id are no longer kept: load the bookings again"}) != nil {
				return
			}
		case replayed > 0 && s.Logger != nil:
			s.Logger.Debug("event stream resumed", "from", last, "replayed", replayed)
		}
	}
	ping := time.NewTicker(keepAlive)
	defer ping.Stop()
	end := time.NewTimer(streamFor)
	defer end.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-end.C:
			return
		case <-ping.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		case ev, ok := <-sub.C:
			if !ok {
				return // dropped (too far behind) or shutting down: the client resumes
			}
			if sent[ev.Change.ID] {
				continue
			}
			if send(ev.Resume, "booking", ev.Change) != nil {
				return
			}
		}
	}
}

// replay sends the visible entries after last, marking them in sent; false when the
// log no longer reaches back to last or holds too many entries since.
func (s *Server) replay(ctx context.Context, a booking.Actor, last, floor int64, send func(int64, string, any) error, sent map[int64]bool) (int, bool, error) {
	oldest, _, err := s.Changes.ChangeBounds(ctx)
	if err != nil {
		return 0, false, err
	}
	if oldest > last+1 {
		return 0, false, nil
	}
	n := 0
	for after := last; ; {
		cs, err := s.Changes.ChangesAfter(ctx, after, nil, 1000)
		if err != nil {
			return n, false, err
		}
		for _, c := range cs {
			after = c.ID
			if !c.Visible(a) {
				continue
			}
			if n++; n > replayLimit {
				return n, false, nil
			}
			sent[c.ID] = true
			// Every entry at or below both this one and the hub's floor at
			// subscription was committed by then, so this replay read it.
			if err := send(min(c.ID, max(floor, last)), "booking", c); err != nil {
				return n, false, err
			}
		}
		if len(cs) < 1000 {
			return n, true, nil
		}
	}
}

// newHub is the process's one reader of the change log.
func (s *Server) newHub() *live.Hub {
	return &live.Hub{Changes: s.Changes, Logger: s.Logger}
}

// CloseStreams ends every event stream (the server is shutting down; http.Server's
// Shutdown would otherwise wait for them).
func (s *Server) CloseStreams() {
	if s.hub != nil {
		s.hub.Close()
	}
}
