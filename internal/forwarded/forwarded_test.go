package forwarded_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/moffman/moffman/internal/forwarded"
)

func TestOriginBelievesOnlyTrustedProxies(t *testing.T) {
	t.Parallel()
	policy := forwarded.Policy{Trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
	for _, c := range []struct {
		name, remote, xff, proto string
		tls                      bool
		policy                   forwarded.Policy
		want                     forwarded.Origin
	}{
		{"direct", "198.51.100.7:5000", "", "", false, policy, forwarded.Origin{Client: "198.51.100.7"}},
		{"direct TLS", "198.51.100.7:5000", "", "", true, policy, forwarded.Origin{Client: "198.51.100.7", HTTPS: true}},
		{"trusted proxy", "10.1.2.3:5000", "203.0.113.9", "https", false, policy, forwarded.Origin{Client: "203.0.113.9", HTTPS: true}},
		{"trusted IPv6 proxy", "[::1]:5000", "203.0.113.9", "http", false, policy, forwarded.Origin{Client: "203.0.113.9"}},
		{"chain of trusted proxies", "10.1.2.3:5000", "192.0.2.1, 203.0.113.9, 10.9.9.9", "https", false, policy, forwarded.Origin{Client: "203.0.113.9", HTTPS: true}},
		{"untrusted sender forging headers", "198.51.100.7:5000", "203.0.113.9", "https", false, policy, forwarded.Origin{Client: "198.51.100.7"}},
		{"no proxies trusted", "10.1.2.3:5000", "203.0.113.9", "https", false, forwarded.Policy{}, forwarded.Origin{Client: "10.1.2.3"}},
		{"garbage hop", "10.1.2.3:5000", "203.0.113.9, not-an-ip", "", false, policy, forwarded.Origin{Client: "10.1.2.3"}},
		{"public https URL", "198.51.100.7:5000", "", "", false, forwarded.Policy{PublicHTTPS: true}, forwarded.Origin{Client: "198.51.100.7", HTTPS: true}},
	} {
		var got forwarded.Origin
		h := c.policy.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = forwarded.From(r) }))
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if c.proto != "" {
			r.Header.Set("X-Forwarded-Proto", c.proto)
		}
		if c.tls {
			r.TLS = &tls.ConnectionState{}
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got != c.want {
			t.Errorf("%s: origin %+v, want %+v", c.name, got, c.want)
		}
	}
}
