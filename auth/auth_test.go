package auth_test

import (
	"context"
	"crypto/sha256"
	"net/http/httptest"
	"testing"

	"github.com/moffman/moffman/auth"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	a := auth.NewAuth([]auth.Token{
		{Name: "reader", SHA256: sha256.Sum256([]byte("r-secret")), Scopes: []auth.Scope{auth.ScopeRead}},
		{Name: "admin", SHA256: sha256.Sum256([]byte("a-secret")), Scopes: []auth.Scope{auth.ScopeAdmin, auth.ScopeRead}},
	})
	for _, c := range []struct {
		secret   string
		scope    auth.Scope
		wantName string
		wantOK   bool
	}{
		{"r-secret", auth.ScopeRead, "reader", true},
		{"r-secret", auth.ScopeAdmin, "reader", false}, // valid, lacking the scope: named
		{"a-secret", auth.ScopeAdmin, "admin", true},
		{"wrong", auth.ScopeRead, "", false},
		{"", auth.ScopeRead, "", false},
	} {
		if name, ok := a.Check(c.secret, c.scope); name != c.wantName || ok != c.wantOK {
			t.Errorf("Check(%q, %s) = %q, %v; want %q, %v", c.secret, c.scope, name, ok, c.wantName, c.wantOK)
		}
	}
	if !a.Enabled() || auth.NewAuth(nil).Enabled() || (*auth.Auth)(nil).Enabled() {
		t.Error("Enabled: want true with tokens only")
	}
}

func TestSignInCookieRoundTrips(t *testing.T) {
	t.Parallel()
	secret := "a token; with = odd, characters\""
	c := auth.SignInCookie(httptest.NewRequest("POST", "/login", nil), secret)
	if !c.HttpOnly || c.MaxAge <= 0 {
		t.Errorf("sign-in cookie %+v: want HttpOnly with a max age", c)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(c)
	if got, ok := auth.CookieToken(r); !ok || got != secret {
		t.Errorf("CookieToken = %q, %v; want the secret back", got, ok)
	}
	if _, ok := auth.CookieToken(httptest.NewRequest("GET", "/", nil)); ok {
		t.Error("CookieToken without a cookie: want false")
	}
	if out := auth.SignOutCookie(r); out.MaxAge >= 0 || out.Name != c.Name {
		t.Errorf("sign-out cookie %+v: want the same cookie deleted", out)
	}
}

func TestNoteToken(t *testing.T) {
	t.Parallel()
	auth.NoteToken(context.Background(), "ignored") // no note: nothing happens
	ctx, noted := auth.WithTokenNote(context.Background())
	if noted() != "" {
		t.Errorf("noted %q before any note", noted())
	}
	auth.NoteToken(ctx, "reader")
	if noted() != "reader" {
		t.Errorf("noted %q, want reader", noted())
	}
}
