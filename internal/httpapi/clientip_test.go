package httpapi

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIPBelievesOnlyTrustedProxies(t *testing.T) {
	t.Parallel()
	s := &Server{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	cases := []struct {
		remote, xff, want string
	}{
		{"203.0.113.7:5555", "", "203.0.113.7"},
		{"203.0.113.7:5555", "198.51.100.1", "203.0.113.7"},             // not a proxy: header ignored
		{"10.0.0.2:5555", "198.51.100.1", "198.51.100.1"},               // the proxy's client
		{"10.0.0.2:5555", "198.51.100.9, 198.51.100.1", "198.51.100.1"}, // a spoofed first hop is ignored
		{"10.0.0.2:5555", "198.51.100.1, 10.0.0.3", "198.51.100.1"},     // two proxies deep
		{"10.0.0.2:5555", "", "10.0.0.2"},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := s.clientIP(r); got != c.want {
			t.Errorf("remote %s, X-Forwarded-For %q: %s, want %s", c.remote, c.xff, got, c.want)
		}
	}
}
