package auth

import (
	"encoding/base64"
	"net/http"

	"github.com/moffman/moffman/internal/forwarded"
)

// cookieName holds the API token of a signed-in browser.
const cookieName = "moffman_token"

// cookieMaxAge keeps a browser signed in for a month, so people are asked
// for the token once rather than every visit.
const cookieMaxAge = 30 * 24 * 60 * 60

// CookieToken returns the token a signed-in browser sent in its cookie.
func CookieToken(r *http.Request) (string, bool) {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return "", false
	}
	secret, _ := base64.RawURLEncoding.DecodeString(c.Value)
	return string(secret), true
}

// SignInCookie keeps secret in a cookie that scripts cannot read and other
// sites cannot make the browser send. The token is encoded, as a cookie
// value cannot hold every character a token may.
func SignInCookie(r *http.Request, secret string) *http.Cookie {
	return cookie(r, base64.RawURLEncoding.EncodeToString([]byte(secret)), cookieMaxAge)
}

// SignOutCookie deletes the sign-in cookie.
func SignOutCookie(r *http.Request) *http.Cookie { return cookie(r, "", -1) }

// cookie is Secure when the browser came over HTTPS: to us, to a trusted
// proxy, or by rest_api.public_url (see package forwarded).
func cookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: cookieName, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: forwarded.From(r).HTTPS,
	}
}
