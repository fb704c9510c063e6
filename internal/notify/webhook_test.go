package notify_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posthub/posthub/internal/notify"
)

func TestSignVerify(t *testing.T) {
	t.Parallel()
	const secret = "whsec_test"
	now := time.Date(2027, 3, 10, 10, 0, 0, 0, time.UTC)
	body := []byte(`{"event":"confirmed","event_id":"8d1c"}`)
	sig := notify.Sign(secret, now, body)
	if !regexp.MustCompile(`^t=` + strconv.FormatInt(now.Unix(), 10) + `,v1=[0-9a-f]{64}$`).MatchString(sig) {
		t.Fatalf("signature header %q", sig)
	}
	if notify.Sign(secret, now, body) != sig {
		t.Error("signing is not deterministic")
	}
	tamperedTS := strings.Replace(sig, "t="+strconv.FormatInt(now.Unix(), 10), "t="+strconv.FormatInt(now.Unix()+60, 10), 1)
	cases := []struct {
		name    string
		secret  string
		header  string
		body    []byte
		now     time.Time
		wantErr string
	}{
		{"good", secret, sig, body, now, ""},
		{"good, received later within tolerance", secret, sig, body, now.Add(4 * time.Minute), ""},
		{"good, receiver's clock a little behind", secret, sig, body, now.Add(-4 * time.Minute), ""},
		{"parts in another order", secret, strings.Join([]string{strings.Split(sig, ",")[1], strings.Split(sig, ",")[0]}, ","), body, now, ""},
		{"tampered body", secret, sig, []byte(`{"event":"cancelled","event_id":"8d1c"}`), now, "mismatch"},
		{"body with a byte more", secret, sig, append(append([]byte(nil), body...), ' '), now, "mismatch"},
		{"wrong secret", "whsec_other", sig, body, now, "mismatch"},
		{"replayed with another timestamp", secret, tamperedTS, body, now, "mismatch"},
		{"expired", secret, sig, body, now.Add(5*time.Minute + time.Second), "tolerance"},
		{"from the future", secret, sig, body, now.Add(-5*time.Minute - time.Second), "tolerance"},
		{"empty header", secret, "", body, now, "malformed"},
		{"no timestamp", secret, strings.Split(sig, ",")[1], body, now, "malformed"},
		{"no signature", secret, strings.Split(sig, ",")[0], body, now, "malformed"},
		{"bad timestamp", secret, "t=yesterday," + strings.Split(sig, ",")[1], body, now, "malformed"},
		{"truncated signature", secret, sig[:len(sig)-2], body, now, "mismatch"},
	}
	for _, c := range cases {
		err := notify.Verify(c.secret, c.header, c.body, c.now, 5*time.Minute)
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.wantErr)
		}
	}
}

func TestWebhookSenderSends(t *testing.T) {
	t.Parallel()
	const secret = "whsec_test"
	sent := time.Date(2027, 3, 10, 10, 0, 0, 0, time.UTC)
	body := []byte(`{"event":"confirmed"}`)
	status := http.StatusNoContent
	var got *http.Request
	var gotBody []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		gotBody, _ = io.ReadAll(r.Body)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, strings.Repeat("x", 1<<17)) // a long answer is not read in full
	}))
	defer srv.Close()
	s := notify.WebhookSender{Client: srv.Client(), Now: func() time.Time { return sent }}
	if err := s.Send(context.Background(), srv.URL+"/hook", secret, "confirmed", "ev.hook", body); err != nil {
		t.Fatal(err)
	}
	if got.Method != http.MethodPost || got.URL.Path != "/hook" || got.Header.Get("Content-Type") != "application/json" ||
		got.Header.Get(notify.HeaderEvent) != "confirmed" || got.Header.Get(notify.HeaderDelivery) != "ev.hook" ||
		string(gotBody) != string(body) {
		t.Errorf("request %s %s %v %q", got.Method, got.URL, got.Header, gotBody)
	}
	if err := notify.Verify(secret, got.Header.Get(notify.HeaderSignature), gotBody, sent.Add(time.Second), time.Minute); err != nil {
		t.Errorf("signature: %v", err)
	}
	for _, st := range []int{http.StatusMovedPermanently, http.StatusBadRequest, http.StatusGone, http.StatusInternalServerError} {
		status = st
		if err := s.Send(context.Background(), srv.URL, secret, "confirmed", "ev.hook", body); err == nil || !strings.Contains(err.Error(), strconv.Itoa(st)) {
			t.Errorf("answer %d: error %v", st, err)
		}
	}
	srv.Close()
	if err := s.Send(context.Background(), srv.URL, secret, "confirmed", "ev.hook", body); err == nil {
		t.Error("no error sending to a closed server")
	}
}

// Without a client of its own the sender reaches only public addresses: a webhook at
// the hub's loopback is refused as it is dialled, however its URL names it, and
// nothing is sent; with AllowPrivate (dev mode) it goes.
func TestWebhookSenderRefusesNonPublicAddresses(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	ctx := context.Background()
	for _, url := range []string{srv.URL, "http://localhost:" + port + "/hook"} {
		err := notify.WebhookSender{}.Send(ctx, url, "s", "confirmed", "ev.hook", []byte(`{}`))
		if !errors.Is(err, notify.ErrPrivateAddress) {
			t.Errorf("%s: error %v, want ErrPrivateAddress", url, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("%d requests reached the loopback receiver", n)
	}
	if err := (notify.WebhookSender{AllowPrivate: true}).Send(ctx, srv.URL, "s", "confirmed", "ev.hook", []byte(`{}`)); err != nil || hits.Load() != 1 {
		t.Fatalf("with AllowPrivate: %v, %d requests", err, hits.Load())
	}
}

func TestPublicAddress(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]bool{
		"1.1.1.1": true, "196.200.131.10": true, "2a00:1450:4007:80e::200e": true,
		"127.0.0.1": false, "::1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false,
		"169.254.169.254": false, "fe80::1": false, "fd00:ec2::254": false, "100.64.0.1": false, "0.0.0.0": false,
		"::": false, "224.0.0.1": false, "255.255.255.255": false, "198.18.0.1": false, "192.0.2.1": false,
		"::ffff:127.0.0.1": false, "::ffff:8.8.8.8": true, "64:ff9b::a00:1": false, "2001:db8::1": false,
		"0.1.2.3": false, "::127.0.0.1": false, "2002:7f00:1::1": false, "2001:0:4136:e378::1": false, "fec0::1": false, "64:ff9b:1::1": false,
	} {
		if got := notify.PublicAddress(netip.MustParseAddr(addr)); got != want {
			t.Errorf("PublicAddress(%s) = %t, want %t", addr, got, want)
		}
	}
}
