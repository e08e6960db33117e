package web_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/auth"
	"github.com/moffman/moffman/web"
)

func form(values ...string) *strings.Reader {
	v := url.Values{}
	for i := 0; i+1 < len(values); i += 2 {
		v.Set(values[i], values[i+1])
	}
	return strings.NewReader(v.Encode())
}

const formType = "application/x-www-form-urlencoded"

func TestSignInFlow(t *testing.T) {
	t.Parallel()
	srv := site(t, token("reader", auth.ScopeRead), token("writer", auth.ScopeWrite))
	page := "/?office=prague&week=2026-11-30"

	// Without a cookie: to the sign-in, which will come back here.
	resp, _ := send(t, "GET", srv.URL+page, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next="+url.QueryEscape(page) {
		t.Fatalf("no cookie: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// A Strict cookie is not sent when another site links here: a reload
	// from this site sends it.
	resp, body := send(t, "GET", srv.URL+page, nil, "Sec-Fetch-Site", "cross-site")
	if resp.StatusCode != 200 || !strings.Contains(body, `<meta http-equiv="refresh" content="0">`) {
		t.Errorf("cross-site arrival: %d\n%s", resp.StatusCode, body)
	}

	for _, c := range []struct{ secret, want string }{
		{"", "That token is not valid"},
		{"wrong", "That token is not valid"},
		{"writer-secret", "The token writer lacks the read scope"},
	} {
		resp, body := send(t, "POST", srv.URL+"/login", form("token", c.secret, "next", page), "Content-Type", formType)
		if resp.StatusCode != 401 || !strings.Contains(body, c.want) || len(resp.Cookies()) != 0 {
			t.Errorf("sign-in with %q: %d, cookies %v\n%s", c.secret, resp.StatusCode, resp.Cookies(), body)
		}
	}

	resp, _ = send(t, "POST", srv.URL+"/login", form("token", "reader-secret", "next", page), "Content-Type", formType)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != page {
		t.Fatalf("sign-in: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	c := resp.Cookies()[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Secure || c.MaxAge <= 0 {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/, not Secure over plain HTTP, kept", c)
	}
	if strings.Contains(resp.Header.Get("Location"), "secret") || strings.Contains(c.Value, "reader-secret") {
		t.Error("the token shows in a URL or in clear in the cookie")
	}
	cookie := c.Name + "=" + c.Value
	if resp, body := send(t, "GET", srv.URL+page, nil, "Cookie", cookie); resp.StatusCode != 200 || !strings.Contains(body, "Zoe Zed") || !strings.Contains(body, `action="/logout"`) {
		t.Errorf("signed in: %d\n%s", resp.StatusCode, body)
	}

	// Signing out clears the cookie.
	resp, _ = send(t, "POST", srv.URL+"/logout", nil, "Cookie", cookie)
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 || resp.Cookies()[0].MaxAge >= 0 {
		t.Errorf("sign-out: %d %v", resp.StatusCode, resp.Cookies())
	}
	// A cookie with a token that is no longer valid is cleared too.
	resp, _ = send(t, "GET", srv.URL+page, nil, "Cookie", "moffman_token=d3Jvbmc")
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 || resp.Cookies()[0].MaxAge >= 0 {
		t.Errorf("stale cookie: %d %v", resp.StatusCode, resp.Cookies())
	}
	// A bearer token does not open the page: it is for programs.
	if resp, _ := send(t, "GET", srv.URL+page, nil, "Authorization", "Bearer reader-secret"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("bearer: %d", resp.StatusCode)
	}
}

func TestSignInRefusesOtherSites(t *testing.T) {
	t.Parallel()
	srv := site(t, token("reader", auth.ScopeRead))
	resp, _ := send(t, "POST", srv.URL+"/login", form("token", "reader-secret"),
		"Content-Type", formType, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
		t.Errorf("cross-site sign-in: %d %v", resp.StatusCode, resp.Cookies())
	}
	// The return address never leads off the site.
	for _, next := range []string{"//evil.example/?office=x", "https://evil.example/?office=x", "/\\evil.example", "/login?office=x", ""} {
		resp, _ := send(t, "POST", srv.URL+"/login", form("token", "reader-secret", "next", next), "Content-Type", formType)
		if loc := resp.Header.Get("Location"); loc != "/" {
			t.Errorf("next %q: redirected to %q, want /", next, loc)
		}
	}
}

func TestSecureCookieOverTLS(t *testing.T) {
	t.Parallel()
	dir := moffman.NewDirectory(moffman.DirectoryLists{})
	h := &web.Handler{Directory: dir, Auth: auth.NewAuth([]auth.Token{token("reader", auth.ScopeRead)})}
	req := httptest.NewRequest("POST", "https://moffman.example/login", form("token", "reader-secret"))
	req.Header.Set("Content-Type", formType)
	req.TLS = &tls.ConnectionState{}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	c := rec.Result().Cookies()
	if rec.Code != http.StatusSeeOther || len(c) != 1 || !c[0].Secure {
		t.Errorf("over TLS: %d %v, want a Secure cookie", rec.Code, c)
	}
}

func TestOpenWithoutTokens(t *testing.T) {
	t.Parallel()
	srv := site(t)
	if resp, body := send(t, "GET", srv.URL+"/", nil); resp.StatusCode != 200 || strings.Contains(body, `action="/logout"`) || strings.Contains(body, "?token=") {
		t.Errorf("open page: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := send(t, "GET", srv.URL+"/login", nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Errorf("/login without tokens: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// A failed sign-in re-renders the form: its message is there from the
// start, so no alert would be announced. The title says it failed, and the
// field (focused on load) is marked invalid and described by the message.
func TestFailedSignInIsTiedToTheField(t *testing.T) {
	t.Parallel()
	srv := site(t, token("reader", auth.ScopeRead))
	_, page := send(t, "GET", srv.URL+"/login", nil)
	if !strings.Contains(page, "<title>Who&#39;s in: Sign in</title>") || strings.Contains(page, "aria-invalid") || strings.Contains(page, "token-error") {
		t.Errorf("the sign-in page before any attempt:\n%s", page)
	}
	resp, page := send(t, "POST", srv.URL+"/login", form("token", "wrong"), "Content-Type", formType)
	for _, want := range []string{
		"<title>Who&#39;s in: Sign in failed</title>",
		`<p class="error" id="token-error"><strong>Not signed in:</strong> That token is not valid. Check it and try again.</p>`,
		`<input type="password" id="token" name="token" autocomplete="current-password" required autofocus aria-invalid="true" aria-describedby="token-error">`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("failed sign-in (%d) lacks %s:\n%s", resp.StatusCode, want, page)
		}
	}
	if strings.Contains(page, `role="alert"`) {
		t.Error("a message present from load is marked as an alert")
	}
}

// With tokens a link to the feed would show a browser a 401: the page says
// how to subscribe with a feed token, at the address a calendar app needs.
func TestFeedWithTokensExplainsTheFeedToken(t *testing.T) {
	t.Parallel()
	srv := site(t, token("reader", auth.ScopeRead))
	_, page := send(t, "GET", srv.URL+"/?office=prague", nil, "Cookie", signIn(t, srv, "reader-secret"))
	if strings.Contains(page, `href="/api/v1/offices/prague/calendar.ics"`) {
		t.Errorf("the page links to the feed, which answers it 401:\n%s", page)
	}
	want := `<code class="address">` + srv.URL + `/api/v1/offices/prague/calendar.ics?token=<var>your-feed-token</var></code>`
	if !strings.Contains(page, want) || !strings.Contains(page, "<code>feed</code> scope") {
		t.Errorf("the page does not say how to subscribe; want %s in:\n%s", want, page)
	}
}

// Signing in on the way to the occupancy report comes back to it.
func TestSignInReturnsToTheOccupancyReport(t *testing.T) {
	t.Parallel()
	srv := site(t, token("reader", auth.ScopeRead))
	page := "/occupancy?office=prague&from=2026-11-30&to=2026-12-07"
	resp, _ := send(t, "GET", srv.URL+page, nil)
	next := strings.TrimPrefix(resp.Header.Get("Location"), "/login?next=")
	if resp.StatusCode != http.StatusSeeOther || next == resp.Header.Get("Location") {
		t.Fatalf("no cookie: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	next, _ = url.QueryUnescape(next)
	resp, _ = send(t, "POST", srv.URL+"/login", form("token", "reader-secret", "next", next), "Content-Type", formType)
	if loc := resp.Header.Get("Location"); loc != "/occupancy?from=2026-11-30&office=prague&to=2026-12-07" {
		t.Errorf("after the sign-in: to %q", loc)
	}
}
