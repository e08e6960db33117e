package main

import (
	"net"
	"net/netip"
	"strings"

	"github.com/moffman/moffman/config"
	"github.com/moffman/moffman/internal/forwarded"
)

// serveOn serves on ln, over HTTPS when rest_api.tls is set (the files
// were checked when the configuration was loaded).
func (a *app) serveOn(ln net.Listener) error {
	if t := a.cfg.RESTAPI.TLS; t.Enabled() {
		return a.server.ServeTLS(ln, *t.CertFile, *t.KeyFile)
	}
	return a.server.Serve(ln)
}

// scheme is how the start-up line names the address.
func (a *app) scheme() string {
	if a.cfg.RESTAPI.TLS.Enabled() {
		return "https"
	}
	return "http"
}

// proxyPolicy is rest_api.trusted_proxies and rest_api.public_url as the
// request handling needs them; validation has checked the CIDRs.
func proxyPolicy(cfg *config.Config) forwarded.Policy {
	var p forwarded.Policy
	for _, cidr := range cfg.RESTAPI.TrustedProxies {
		if pr, err := netip.ParsePrefix(strings.TrimSpace(cidr)); err == nil {
			p.Trusted = append(p.Trusted, pr)
		}
	}
	p.PublicHTTPS = cfg.RESTAPI.PublicURL != nil && strings.HasPrefix(*cfg.RESTAPI.PublicURL, "https://")
	return p
}

// publicURL is rest_api.public_url, "" when unset.
func publicURL(cfg *config.Config) string {
	if cfg.RESTAPI.PublicURL == nil {
		return ""
	}
	return *cfg.RESTAPI.PublicURL
}
