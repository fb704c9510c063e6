package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/posthub/posthub/deploy"
	"github.com/posthub/posthub/internal/jobs"
	"github.com/posthub/posthub/internal/metrics"
	"github.com/posthub/posthub/internal/postgres"
)

// TestFirstScrapeHasEverySeriesTheDashboardsAndAlertsQuery starts `posthub serve` on a
// migrated database with the demo catalogue and scrapes /metrics before anything else
// reaches the server: every metric the Grafana dashboards and the alert rules query
// must already have a sample, so a fresh installation shows zeros, not "no data", and
// rate() has a series to start from. `posthub dev` and `worker` start the same way
// (app.start).
func TestFirstScrapeHasEverySeriesTheDashboardsAndAlertsQuery(t *testing.T) {
	t.Parallel()
	url, _ := demoDB(t)
	addr := freeAddr(t)
	runCtx, stop := context.WithCancel(context.Background())
	var stdout, stderr lockedBuffer
	exited := make(chan int, 1)
	go func() {
		env := map[string]string{"DATABASE_URL": url}
		exited <- run(runCtx, []string{"serve", "--addr", addr}, func(k string) string { return env[k] }, &stdout, &stderr)
	}()
	t.Cleanup(func() {
		stop()
		if code := <-exited; code != 0 {
			t.Errorf("posthub serve exited %d", code)
		}
		if t.Failed() {
			t.Logf("posthub serve\n--- stdout:\n%s--- stderr:\n%s", stdout.String(), stderr.String())
		}
	})

	body := firstScrape(t, "http://"+addr+"/metrics", exited)
	sampled := map[string]bool{} // series names
	series := map[string]bool{}  // name{labels}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s := line[:strings.LastIndexByte(line, ' ')]
		series[s] = true
		sampled[s[:strings.IndexAny(s+"{", "{")]] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}

	dashboards, err := deploy.DashboardQueries()
	if err != nil {
		t.Fatal(err)
	}
	alerts, err := deploy.AlertQueries()
	if err != nil {
		t.Fatal(err)
	}
	queried := map[string][]string{} // metric name → where it is queried
	for _, q := range append(dashboards, alerts...) {
		for _, name := range deploy.MetricNames(q.Expr) {
			queried[name] = append(queried[name], q.Where)
		}
	}
	if len(queried) < 10 {
		t.Fatalf("only %d metric names found in the dashboards and alert rules: %v", len(queried), queried)
	}
	for name, where := range queried {
		if !sampled[name] {
			t.Errorf("%s has no sample on the first scrape; queried by %s", name, strings.Join(slices.Compact(where), "; "))
		}
	}

	// The label sets known in advance, each at zero.
	var want []string
	for _, q := range jobs.Queues {
		for _, st := range rivertype.JobStates() {
			want = append(want, fmt.Sprintf("posthub_river_jobs{queue=%q,state=%q}", q, st))
		}
	}
	for _, r := range []string{"1", "2", "3+"} {
		want = append(want, fmt.Sprintf("posthub_holds{rank=%q}", r))
	}
	for _, e := range eventKinds {
		want = append(want, fmt.Sprintf("posthub_booking_transitions_total{event=%q}", e))
	}
	for _, r := range postgres.RetryReasons {
		want = append(want, fmt.Sprintf("posthub_booking_tx_retries_total{reason=%q}", r))
	}
	for _, c := range []string{metrics.ChannelEmail, metrics.ChannelWebhook} {
		for _, o := range []string{"delivered", "failed"} {
			want = append(want, fmt.Sprintf("posthub_notification_deliveries_total{channel=%q,outcome=%q}", c, o))
		}
	}
	want = append(want,
		`posthub_http_requests_total{code="200",method="GET",route="/metrics"}`,
		`posthub_http_requests_total{code="500",method="POST",route="/api/v1/bookings"}`,
		`posthub_http_request_duration_seconds_bucket{method="POST",route="/api/v1/bookings",le="+Inf"}`,
		`posthub_utilisation_ratio{kind="grading_suite",site="casablanca"}`,
	)
	for _, s := range want {
		if !series[s] {
			t.Errorf("the first scrape lacks %s", s)
		}
	}
}

// firstScrape GETs url as soon as the server accepts connections and returns the body:
// the server's first request.
func firstScrape(t *testing.T, url string, exited <-chan int) []byte {
	t.Helper()
	client := &http.Client{Timeout: time.Minute}
	deadline := time.Now().Add(time.Minute)
	for {
		res, err := client.Get(url)
		if err == nil {
			defer res.Body.Close()
			var b bytes.Buffer
			if _, err := b.ReadFrom(res.Body); err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %d %s", url, res.StatusCode, b.String())
			}
			return b.Bytes()
		}
		select {
		case code := <-exited:
			t.Fatalf("posthub serve exited %d before answering %s", code, url)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
