package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Webhook headers. The signature covers the timestamp and the body, so a captured
// request cannot be replayed later with another timestamp.
const (
	HeaderSignature = "X-Posthub-Signature" // t=<unix>,v1=<hex hmac-sha256>
	HeaderEvent     = "X-Posthub-Event"
	HeaderDelivery  = "Idempotency-Key" // stable per (event, webhook): a retry is recognisable
)

// Sign computes the signature header value for a body sent at ts.
func Sign(secret string, ts time.Time, body []byte) string {
	t := strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(t))
	mac.Write([]byte("."))
	mac.Write(body)
	return "t=" + t + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a signature header against the body, refusing one older than
// tolerance; receivers use it (and so do the tests).
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return fmt.Errorf("malformed signature header")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("signature timestamp outside tolerance")
	}
	if !hmac.Equal([]byte(Sign(secret, time.Unix(sec, 0), body)), []byte("t="+ts+",v1="+sig)) {
		return fmt.Errorf("signature mismatch")
	}
	return nil
}

// WebhookSender posts signed JSON.
type WebhookSender struct {
	// Client, when set, is used as it is (tests pass their server's). Without it the
	// sender dials only public addresses, unless AllowPrivate.
	Client *http.Client
	Now    func() time.Time
	// AllowPrivate lets webhooks reach loopback, private, link-local and other
	// non-public addresses (POSTHUB_WEBHOOK_ALLOW_PRIVATE; a local receiver in dev).
	// Off, an organisation cannot point posthub at the hub's own network — a database,
	// a cloud metadata service — whatever its URL's name resolves to: the address is
	// checked as it is dialled, redirects included.
	AllowPrivate bool
}

// ErrPrivateAddress is a webhook dial refused because the address is not public.
var ErrPrivateAddress = errors.New("webhook address is not public")

// PublicAddress reports whether a webhook may be sent to ip: a global unicast address
// outside the private, shared (CGNAT), benchmarking and documentation ranges.
func PublicAddress(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || !ip.IsGlobalUnicast() || ip.IsPrivate() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (CGNAT)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64, which could reach IPv4 ones
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated)
	netip.MustParsePrefix("2002::/16"),       // 6to4, which embeds IPv4 addresses
	netip.MustParsePrefix("2001::/32"),       // Teredo, likewise
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated)
}

// publicOnly refuses, at dial time, a connection to an address that is not public.
func publicOnly(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrPrivateAddress, address)
	}
	if !PublicAddress(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrPrivateAddress, ap.Addr())
	}
	return nil
}

// The default clients, one per policy, built once so connections are reused.
var (
	publicClient  = sync.OnceValue(func() *http.Client { return webhookClient(publicOnly) })
	privateClient = sync.OnceValue(func() *http.Client { return webhookClient(nil) })
)

func (s WebhookSender) client() *http.Client {
	switch {
	case s.Client != nil:
		return s.Client
	case s.AllowPrivate:
		return privateClient()
	default:
		return publicClient()
	}
}

func webhookClient(control func(network, address string, c syscall.RawConn) error) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, Control: control}
	// No proxy from the environment: the address checked is the one dialled.
	return &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
		DialContext: d.DialContext, TLSHandshakeTimeout: 10 * time.Second, MaxIdleConnsPerHost: 4,
		IdleConnTimeout: 90 * time.Second, ForceAttemptHTTP2: true}}
}

// Send posts body to url; any answer but 2xx is an error, so the job retries.
func (s WebhookSender) Send(ctx context.Context, url, secret, event, deliveryID string, body []byte) error {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	client := s.client()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "posthub-webhooks/1")
	req.Header.Set(HeaderEvent, event)
	req.Header.Set(HeaderDelivery, deliveryID)
	req.Header.Set(HeaderSignature, Sign(secret, now(), body))
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<16))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("webhook answered %d", res.StatusCode)
	}
	return nil
}
