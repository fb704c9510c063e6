// Package live carries booking changes to the people watching them: the scheduling
// board and the bookings pages follow GET /api/v1/events, a server-sent-event stream.
//
// The source is the booking change log (booking.Changes), which every booking change
// appends to in its own transaction. Each process runs one Hub that reads the log
// while someone is subscribed and fans the entries out to its streams, so a change
// made through any process reaches the streams of all of them, with nothing added to
// the booking's transaction beyond the log row: no NOTIFY, whose commit-time lock
// would serialise every booking change in the cluster.
//
// Log ids are taken when a transaction writes its row but become visible when it
// commits, so a reader can see id 7 before id 6. The hub therefore remembers the ids
// it skipped over and asks for them again for a while (GapWait) before giving up on
// them (a rolled-back change leaves a hole for good). What it tells a stream to resume
// from is its floor: every id at or below it has been delivered or given up on. A
// stream resumed from the floor may see an entry twice, never miss one; entries carry
// their own change_id to tell.
package live

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/posthub/posthub/internal/booking"
)

// Event is what a stream sends: a change the subscriber may see, and the id to resume
// from after it.
type Event struct {
	Resume int64
	Change booking.Change
}

// Sub is one stream's subscription. C delivers its events and is closed when the hub
// drops the subscription: the stream fell too far behind, or the hub closed.
type Sub struct {
	C     chan Event
	actor booking.Actor
	hub   *Hub
}

// Close ends the subscription.
func (s *Sub) Close() { s.hub.unsubscribe(s) }

// Hub follows the change log for one process.
type Hub struct {
	Changes booking.Changes
	Logger  *slog.Logger
	// Interval is how often the log is read while anyone is subscribed (default
	// 250 ms); GapWait how long an id skipped over is asked for again (default 10 s).
	Interval, GapWait time.Duration
	// Buffer is each subscription's channel size (default 64); a stream that falls
	// further behind is dropped and resumes from where it was.
	Buffer int

	mu      sync.Mutex
	subs    map[*Sub]bool
	running bool
	closed  bool
	stop    context.CancelFunc
	done    chan struct{}
	high    int64               // the highest id seen
	gaps    map[int64]time.Time // ids below high not seen yet, since when
	started bool                // high is known
}

// batch is how many entries one read takes at most.
const batch = 1000

// maxGaps bounds the ids remembered as skipped over; a jump wider than that (a burst
// of rolled-back changes) gives up on the rest at once.
const maxGaps = 4096

// Subscribe registers a stream of what actor may see from now on and returns it with
// the hub's floor at that moment: a stream resuming from an earlier id replays the log
// after that id itself (ChangesAfter) and skips the entries it then gets live twice.
func (h *Hub) Subscribe(ctx context.Context, actor booking.Actor) (*Sub, int64, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, 0, context.Canceled
	}
	if !h.started {
		_, newest, err := h.Changes.ChangeBounds(ctx)
		if err != nil {
			return nil, 0, err
		}
		h.high, h.gaps, h.started = newest, map[int64]time.Time{}, true
	}
	buf := h.Buffer
	if buf <= 0 {
		buf = 64
	}
	s := &Sub{C: make(chan Event, buf), actor: actor, hub: h}
	if h.subs == nil {
		h.subs = map[*Sub]bool{}
	}
	h.subs[s] = true
	if !h.running {
		ctx, cancel := context.WithCancel(context.Background())
		h.running, h.stop, h.done = true, cancel, make(chan struct{})
		go h.run(ctx, h.done)
	}
	return s, h.floorLocked(), nil
}

func (h *Hub) unsubscribe(s *Sub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs[s] {
		delete(h.subs, s)
		close(s.C)
	}
	h.idleLocked()
}

// idleLocked stops reading the log when nobody is subscribed; the next subscription
// starts again from the log's newest entry.
func (h *Hub) idleLocked() {
	if len(h.subs) == 0 && h.running {
		h.stop()
		h.running, h.started = false, false
	}
}

// Close drops every subscription and refuses new ones (the server is shutting down).
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	for s := range h.subs {
		delete(h.subs, s)
		close(s.C)
	}
	running, stop, done := h.running, h.stop, h.done
	h.running = false
	h.mu.Unlock()
	if running {
		stop()
		<-done
	}
}

// Floor is the id a stream may resume from: every entry at or below it has been
// delivered (or given up on).
func (h *Hub) Floor() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.floorLocked()
}

func (h *Hub) floorLocked() int64 {
	f := h.high
	for id := range h.gaps {
		f = min(f, id-1)
	}
	return f
}

func (h *Hub) run(ctx context.Context, done chan struct{}) {
	defer close(done)
	every := h.Interval
	if every <= 0 {
		every = 250 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for h.poll(ctx) {
		}
	}
}

// poll reads the log once and delivers what it finds; true when it read a full batch
// and there may be more.
func (h *Hub) poll(ctx context.Context) bool {
	h.mu.Lock()
	after := h.high
	also := make([]int64, 0, len(h.gaps))
	for id := range h.gaps {
		also = append(also, id)
	}
	h.mu.Unlock()
	slices.Sort(also)
	cs, err := h.Changes.ChangesAfter(ctx, after, also, batch)
	if err != nil {
		if ctx.Err() == nil && h.Logger != nil {
			h.Logger.Warn("reading the booking change log", "err", err)
		}
		return false
	}
	now := time.Now()
	wait := h.GapWait
	if wait <= 0 {
		wait = 10 * time.Second
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if ctx.Err() != nil {
		return false // stopped meanwhile; a later run starts afresh
	}
	var fresh []booking.Change
	for _, c := range cs {
		if c.ID > h.high {
			for id := h.high + 1; id < c.ID; id++ {
				if len(h.gaps) < maxGaps {
					h.gaps[id] = now
				}
			}
			h.high = c.ID
		} else if _, ok := h.gaps[c.ID]; !ok {
			continue // delivered already
		}
		delete(h.gaps, c.ID)
		fresh = append(fresh, c)
	}
	for id, since := range h.gaps {
		if now.Sub(since) > wait {
			delete(h.gaps, id)
		}
	}
	floor := h.floorLocked()
	for _, c := range fresh {
		for s := range h.subs {
			if !c.Visible(s.actor) {
				continue
			}
			select {
			case s.C <- Event{Resume: floor, Change: c}:
			default:
				// Too far behind: the stream ends and its client resumes.
				delete(h.subs, s)
				close(s.C)
			}
		}
	}
	h.idleLocked()
	n := 0
	for _, c := range cs {
		if c.ID > after {
			n++
		}
	}
	return n == batch
}
