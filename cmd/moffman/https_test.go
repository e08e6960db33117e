package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files
// and returns their paths and the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "moffman test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ = x509.ParseCertificate(der)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, cert
}

const readerToken = "reader-token-0123456789"

const signInConfig = `
offices:
  office_list:
    - {name: prague, id: prague@group.calendar.google.com}
general: {storage_path: null}
rest_api:
  addr: 127.0.0.1
  port: 0
  tokens: [{name: reader, token: ` + readerToken + `, scopes: [read]}]
`

// signIn posts the token to /login and returns the sign-in cookie.
func signIn(t *testing.T, client *http.Client, base string, header ...string) *http.Cookie {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{"token": {readerToken}, "next": {"/"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	noFollow := *client
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "moffman_token" {
			return c
		}
	}
	t.Fatalf("sign-in answered %d without the cookie", resp.StatusCode)
	return nil
}

func TestServesHTTPSWithTheConfiguredCertificate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile, cert := selfSigned(t, dir)
	cfg := writeConfig(t, dir, signInConfig)
	base, _, _ := startService(t, []string{"--config", cfg, "--rest-api--tls--cert-file", certFile, "--rest-api--tls--key-file", keyFile}, nil)
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("start-up line names %s, want an https:// address", base)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(base + "/healthz")
	if err != nil {
		t.Fatalf("HTTPS request: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil || !resp.TLS.PeerCertificates[0].Equal(cert) {
		t.Errorf("GET /healthz over HTTPS: %d, served certificate is not the configured one", resp.StatusCode)
	}
	if c := signIn(t, client, base); !c.Secure || !c.HttpOnly {
		t.Errorf("cookie over HTTPS: Secure=%v HttpOnly=%v, want both", c.Secure, c.HttpOnly)
	}
	// Plain HTTP on the HTTPS port gets nowhere.
	if resp, err := http.Get("http://" + strings.TrimPrefix(base, "https://") + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP was served on the HTTPS port")
		}
	}
}

func TestCookieAndClientBehindProxies(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name       string
		args       []string
		wantSecure bool
		wantClient string
	}{
		{"trusted proxy", []string{"--rest-api--trusted-proxies", `["127.0.0.1/32"]`}, true, "client=203.0.113.9"},
		{"untrusted proxy", []string{"--rest-api--trusted-proxies", `["10.0.0.0/8"]`}, false, "client=127.0.0.1"},
		{"no proxies", nil, false, "client=127.0.0.1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			cfg := writeConfig(t, dir, signInConfig)
			base, logs, _ := startService(t, append([]string{"--config", cfg}, c.args...), nil)
			cookie := signIn(t, http.DefaultClient, base, "X-Forwarded-Proto", "https", "X-Forwarded-For", "203.0.113.9")
			if cookie.Secure != c.wantSecure {
				t.Errorf("Secure = %v, want %v", cookie.Secure, c.wantSecure)
			}
			if !strings.Contains(logs.String(), "path=/login status=303") || !strings.Contains(logs.String(), c.wantClient) {
				t.Errorf("request log lacks %s:\n%s", c.wantClient, logs)
			}
		})
	}
}

func TestPublicURLMarksCookieSecureAndMakesLinks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := writeConfig(t, dir, signInConfig)
	base, _, _ := startService(t, []string{"--config", cfg, "--rest-api--public-url", "https://moffman.example.com/"}, nil)
	cookie := signIn(t, http.DefaultClient, base)
	if !cookie.Secure {
		t.Error("with an https public_url the cookie is not Secure")
	}
	req, _ := http.NewRequest("GET", base+"/?office=prague", nil)
	req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body := new(strings.Builder)
	_, _ = io.Copy(body, resp.Body)
	// With tokens the page gives the feed's address to subscribe to with a
	// feed token, whole, as calendar apps need it.
	if !strings.Contains(body.String(), `<code class="address">https://moffman.example.com/api/v1/offices/prague/calendar.ics?token=`) {
		t.Errorf("the page's feed address does not start with public_url:\n%s", body)
	}
}
