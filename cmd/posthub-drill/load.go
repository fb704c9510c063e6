package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// apiClient talks to posthub processes over HTTP on 127.0.0.1.
type apiClient struct {
	http *http.Client
}

func newAPIClient(maxConns int) *apiClient {
	tr := &http.Transport{
		MaxIdleConns:        maxConns * 4,
		MaxIdleConnsPerHost: maxConns,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	return &apiClient{http: &http.Client{Transport: tr, Timeout: 15 * time.Second}}
}

// statusNetErr stands for a request that got no HTTP answer.
const statusNetErr = 0

// call sends one request with a bearer token and decodes a JSON answer into out (when
// 2xx and out is not nil). It returns the status (0 when no answer came) and the body.
func (c *apiClient) call(ctx context.Context, method, url, token string, body, out any) (int, []byte, error) {
	status, _, b, err := c.callHeader(ctx, method, url, token, body, out)
	return status, b, err
}

// callHeader is call that also returns the answer's header (nil when none came).
func (c *apiClient) callHeader(ctx context.Context, method, url, token string, body, out any) (int, http.Header, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return statusNetErr, nil, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return statusNetErr, nil, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return statusNetErr, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, resp.Header, nil, err
	}
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, resp.Header, b, fmt.Errorf("decoding %s %s: %w", method, url, err)
		}
	}
	return resp.StatusCode, resp.Header, b, nil
}

// bookingReq is POST /api/v1/bookings. Overtime books time outside working hours (a
// booking with no working time is refused without it); the drills book overtime only
// as managers, who need no approval for it.
type bookingReq struct {
	ProductionID uuid.UUID   `json:"production_id"`
	ResourceIDs  []uuid.UUID `json:"resource_ids"`
	Start        string      `json:"start"`
	End          string      `json:"end"`
	Status       string      `json:"status"`
	Overtime     bool        `json:"overtime,omitempty"`
}

// slotFunc picks what a drill client books next: the resources, the interval and
// whether it is booked as overtime. Only managers (manager true) are given overtime
// slots.
type slotFunc func(r *rand.Rand, manager bool) (res []uuid.UUID, start, end time.Time, overtime bool)

// bookingResp is what the drills read of a booking answer.
type bookingResp struct {
	ID     uuid.UUID `json:"id"`
	Status string    `json:"status"`
	Start  time.Time `json:"start"`
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// mintTokens makes n API tokens for the demo user role with the CLI, which the limit of
// ten active tokens per user leaves out (a user's own requests cannot exceed it).
func mintTokens(ctx context.Context, h *harness, role, name string, n int) ([]string, error) {
	return cliTokens(ctx, h, demoEmail(role), name, n)
}

// tokenRing hands out tokens round-robin.
type tokenRing struct {
	tokens []string
	next   atomic.Uint64
}

func (r *tokenRing) get() string {
	return r.tokens[int(r.next.Add(1)-1)%len(r.tokens)]
}

// stats counts outcomes and latencies per operation.
type stats struct {
	mu  sync.Mutex
	ops map[string]*opStats
}

type opStats struct {
	byStatus map[int]int
	lat      []time.Duration
	samples  map[int]string // a body per unexpected status
	details  map[string]int // 409 answers by their problem detail
}

func newStats() *stats { return &stats{ops: map[string]*opStats{}} }

func (s *stats) record(op string, status int, d time.Duration, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.ops[op]
	if o == nil {
		o = &opStats{byStatus: map[int]int{}, samples: map[int]string{}, details: map[string]int{}}
		s.ops[op] = o
	}
	o.byStatus[status]++
	if status != statusNetErr {
		o.lat = append(o.lat, d)
	}
	if status == http.StatusConflict {
		var p struct {
			Detail string `json:"detail"`
		}
		_ = json.Unmarshal(body, &p)
		o.details[p.Detail]++
	}
	if (status >= 500 || status == statusNetErr || status == 429 || status == 400 || status == 404 || status == 422) && o.samples[status] == "" {
		o.samples[status] = truncate(body, 300)
	}
}

// total counts requests, and those answered with a status matching pred.
func (s *stats) total(pred func(int) bool) (all, matching int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.ops {
		for st, n := range o.byStatus {
			all += n
			if pred(st) {
				matching += n
			}
		}
	}
	return all, matching
}

// report writes one line per operation: counts by status and latency percentiles.
func (s *stats) report(w io.Writer, elapsed time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.ops))
	for n := range s.ops {
		names = append(names, n)
	}
	sort.Strings(names)
	all := 0
	for _, n := range names {
		o := s.ops[n]
		var parts []string
		codes := make([]int, 0, len(o.byStatus))
		for c := range o.byStatus {
			codes = append(codes, c)
		}
		sort.Ints(codes)
		cnt := 0
		for _, c := range codes {
			label := fmt.Sprint(c)
			if c == statusNetErr {
				label = "no-answer"
			}
			parts = append(parts, fmt.Sprintf("%s×%d", label, o.byStatus[c]))
			cnt += o.byStatus[c]
		}
		all += cnt
		fmt.Fprintf(w, "  %-22s %6d  [%s]  p50 %s  p99 %s  max %s\n", n, cnt, strings.Join(parts, " "),
			fmtMS(percentile(o.lat, 50)), fmtMS(percentile(o.lat, 99)), fmtMS(percentile(o.lat, 100)))
		if len(o.details) > 0 {
			var ds []string
			for d, n := range o.details {
				ds = append(ds, fmt.Sprintf("%q×%d", d, n))
			}
			sort.Strings(ds)
			fmt.Fprintf(w, "  %-22s         409s: %s\n", "", strings.Join(ds, " "))
		}
		for _, c := range codes {
			if smp := o.samples[c]; smp != "" {
				fmt.Fprintf(w, "  %-22s         sample %d: %s\n", "", c, smp)
			}
		}
	}
	if elapsed > 0 {
		fmt.Fprintf(w, "  %-22s %6d  over %s = %.1f requests/s\n", "all", all, elapsed.Round(time.Millisecond), float64(all)/elapsed.Seconds())
	}
}

// percentile returns the p-th percentile (nearest rank) of ds; 0 for none.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(math.Ceil(p/100*float64(len(s)))) - 1
	rank = max(0, min(rank, len(s)-1))
	return s[rank]
}

func fmtMS(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}

func truncate(b []byte, n int) string {
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// addrRing spreads requests over processes round-robin.
type addrRing struct {
	addrs []string
	next  atomic.Uint64
}

func (r *addrRing) get() string { return r.addrs[int(r.next.Add(1)-1)%len(r.addrs)] }

// ackSet remembers the bookings the API acknowledged as confirmed.
type ackSet struct {
	mu  sync.Mutex
	ids map[uuid.UUID]bool
}

func newAckSet() *ackSet { return &ackSet{ids: map[uuid.UUID]bool{}} }

func (a *ackSet) add(id uuid.UUID) {
	a.mu.Lock()
	a.ids[id] = true
	a.mu.Unlock()
}

func (a *ackSet) list() []uuid.UUID {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]uuid.UUID, 0, len(a.ids))
	for id := range a.ids {
		out = append(out, id)
	}
	return out
}

// holdPool is a bounded, shared list of recent holds, for managers to act on.
type holdPool struct {
	mu  sync.Mutex
	ids []uuid.UUID
}

func (h *holdPool) add(id uuid.UUID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ids = append(h.ids, id)
	if len(h.ids) > 200 {
		h.ids = h.ids[len(h.ids)-200:]
	}
}

func (h *holdPool) take(pick func(int) int) (uuid.UUID, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.ids) == 0 {
		return uuid.Nil, false
	}
	i := pick(len(h.ids))
	id := h.ids[i]
	h.ids = append(h.ids[:i], h.ids[i+1:]...)
	return id, true
}
