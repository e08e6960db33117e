package web

import (
	"net/http"
	"net/url"

	"github.com/moffman/moffman/auth"
)

// signedIn reports whether the request may see the page: always when no
// tokens are configured, otherwise when its cookie holds a token with the
// read scope. When it may not, signedIn has answered: with the sign-in page
// or a step towards it.
func (h *Handler) signedIn(w http.ResponseWriter, r *http.Request) bool {
	if !h.Auth.Enabled() {
		return true
	}
	if secret, sent := auth.CookieToken(r); sent {
		if name, ok := h.Auth.Check(secret, auth.ScopeRead); ok {
			auth.NoteToken(r.Context(), name)
			return true
		}
		// Revoked or changed since it was stored: forget it.
		http.SetCookie(w, auth.SignOutCookie(r))
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
		layout: layout{Title: siteTitle("Sign in"), CSS: h.css},
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
	name, ok := h.Auth.Check(secret, auth.ScopeRead)
	if !ok {
		msg := "That token is not valid. Check it and try again."
		if name != "" {
			msg = "The token " + name + " lacks the read scope that this page needs."
		}
		h.render(w, r, http.StatusUnauthorized, "login", loginPage{
			layout: layout{Title: siteTitle("Sign in failed"), CSS: h.css}, Next: next, Error: msg,
		})
		return
	}
	auth.NoteToken(r.Context(), name)
	http.SetCookie(w, auth.SignInCookie(r, secret))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, auth.SignOutCookie(r))
	http.Redirect(w, r, "/login", http.StatusSeeOther) // without tokens /login leads on to /
}
