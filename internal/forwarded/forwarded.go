// Package forwarded tells who sent a request and whether the browser
// reached the service over HTTPS, believing X-Forwarded-For and
// X-Forwarded-Proto only from the proxies the configuration trusts
// (rest_api.trusted_proxies): from anyone else they could be forged.
package forwarded

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Policy is what the configuration says about the way in.
type Policy struct {
	Trusted     []netip.Prefix // proxies whose headers are believed
	PublicHTTPS bool           // rest_api.public_url is https: browsers always come over HTTPS
}

// Origin is where a request came from.
type Origin struct {
	Client string // the client's IP address
	HTTPS  bool   // the browser's connection is HTTPS (to us or to a trusted proxy)
}

type originKey struct{}

// Handler notes each request's Origin for From.
func (p Policy) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o := p.origin(r)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), originKey{}, o)))
	})
}

// From returns the Origin Handler noted, or, for a request that did not
// pass through it, the connection's own.
func From(r *http.Request) Origin {
	if o, ok := r.Context().Value(originKey{}).(Origin); ok {
		return o
	}
	return Origin{Client: peer(r), HTTPS: r.TLS != nil}
}

func (p Policy) origin(r *http.Request) Origin {
	o := Origin{Client: peer(r), HTTPS: r.TLS != nil || p.PublicHTTPS}
	if !p.trusts(o.Client) {
		return o
	}
	if proto := first(r.Header.Values("X-Forwarded-Proto")); proto != "" {
		o.HTTPS = o.HTTPS || strings.EqualFold(proto, "https")
	}
	// Each proxy appends the address it was reached from: the client is
	// the last one that is not a trusted proxy itself.
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if _, err := netip.ParseAddr(hop); err != nil {
			break // garbage: keep the last address known good
		}
		o.Client = hop
		if !p.trusts(hop) {
			break
		}
	}
	return o
}

func (p Policy) trusts(ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, pr := range p.Trusted {
		if pr.Contains(a) {
			return true
		}
	}
	return false
}

// peer is the address of the connection's other end.
func peer(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// first is the first value of a header that may be a list.
func first(values []string) string {
	if len(values) == 0 {
		return ""
	}
	v, _, _ := strings.Cut(values[0], ",")
	return strings.TrimSpace(v)
}
