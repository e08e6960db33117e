package web

import (
	"encoding/base64"
	"net/http"
	"net/url"

	"github.com/moffman/moffman/httpapi"
)

// signedIn reports whether the request may see the page: always when no
// tokens are configured, otherwise when its cookie holds a token with the
// read scope. When it may not, signedIn has answered: with the sign-in page
// or a step towards it.
func (h *Handler) signedIn(w http.ResponseWriter, r *http.Request) bool {
	if !h.Auth.Enabled() {
		return true
	}
	c, err := r.Cookie(cookieName)
	if err == nil {
		secret, _ := base64.RawURLEncoding.DecodeString(c.Value)
		if name, ok := h.Auth.Check(string(secret), httpapi.ScopeRead); ok {
			httpapi.NoteToken(r.Context(), name)
			return true
		}
		// Revoked or changed since it was stored: forget it.
		http.SetCookie(w, h.cookie(r, "", -1))
	} else if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		// A SameSite=Strict cookie is not sent when a link on another
		// site leads here. Reloading from this page sends it, and without
		// one the reload lands on the sign-in.
		h.render(w, r, http.StatusOK, "message", messagePage{
			layout:  layout{Title: "Who's in", CSS: h.css},
			Heading: "Who's in", Message: "Opening the page…", Refresh: true,
			Links: []link{{Text: "Continue", URL: safeNext(r.URL.RequestURI())}},
		})
		return false
	}
	http.Redirect(w, r, "/login?next="+url.QueryEscape(safeNext(r.URL.RequestURI())), http.StatusSeeOther)
	return false
}

// loginPage asks for a token.
type loginPage struct {
	layout
	Next  string
	Error string
}

func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request) {
	if !h.Auth.Enabled() {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "login", loginPage{
		layout: layout{Title: "Sign in", CSS: h.css},
		Next:   safeNext(r.URL.Query().Get("next")),
	})
}

// login checks the token once and keeps it in a cookie that scripts cannot
// read and other sites cannot make the browser send.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	if !h.Auth.Enabled() {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	secret := r.PostFormValue("token")
	next := safeNext(r.PostFormValue("next"))
	name, ok := h.Auth.Check(secret, httpapi.ScopeRead)
	if !ok {
		msg := "That token is not valid. Check it and try again."
		if name != "" {
			msg = "The token " + name + " lacks the read scope that this page needs."
		}
		h.render(w, r, http.StatusUnauthorized, "login", loginPage{
			layout: layout{Title: "Sign in", CSS: h.css}, Next: next, Error: msg,
		})
		return
	}
	httpapi.NoteToken(r.Context(), name)
	http.SetCookie(w, h.cookie(r, secret, cookieMaxAge))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, h.cookie(r, "", -1))
	http.Redirect(w, r, "/login", http.StatusSeeOther) // without tokens /login leads on to /
}

// cookie is the token cookie; maxAge < 0 deletes it. The token is
// encoded, as a cookie value cannot hold every character a token may.
func (h *Handler) cookie(r *http.Request, secret string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: cookieName, Value: base64.RawURLEncoding.EncodeToString([]byte(secret)), Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	}
}
