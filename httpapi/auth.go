package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// Scope is what a token may do.
type Scope string

// The scopes of API tokens. A token has only the scopes it lists.
const (
	ScopeRead  Scope = "read"  // list and read reservations and offices
	ScopeWrite Scope = "write" // register, approve and cancel reservations
	ScopeAdmin Scope = "admin" // reload the configuration, see the sync status
	ScopeFeed  Scope = "feed"  // calendar feeds, which take ?token= as calendar clients send no headers

	anyScope Scope = "" // any valid token: for answers that reveal nothing, like 404 and 405
)

// Token is an API token as stored: only its SHA-256 is kept.
type Token struct {
	Name   string
	SHA256 [32]byte
	Scopes []Scope
}

// Auth checks bearer tokens. With no tokens every request is allowed, as
// the Python service allowed them.
type Auth struct {
	tokens []Token
}

// NewAuth returns an Auth over the given tokens.
func NewAuth(tokens []Token) *Auth { return &Auth{tokens: tokens} }

// Enabled reports whether tokens are required.
func (a *Auth) Enabled() bool { return a != nil && len(a.tokens) > 0 }

// find returns the token whose hash matches secret. Every token is
// compared, in constant time, so timing tells nothing about which matched.
func (a *Auth) find(secret string) (Token, bool) {
	sum := sha256.Sum256([]byte(secret))
	var found Token
	ok := 0
	for _, t := range a.tokens {
		if subtle.ConstantTimeCompare(sum[:], t.SHA256[:]) == 1 {
			found, ok = t, 1
		}
	}
	return found, ok == 1
}

func (t Token) has(s Scope) bool {
	for _, have := range t.Scopes {
		if have == s {
			return true
		}
	}
	return false
}

// require wraps h so that it runs only for a token with the scope. A feed
// also accepts the token as the query parameter "token".
func (s *Server) require(scope Scope, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.Auth.Enabled() {
			h(w, r)
			return
		}
		secret, fromHeader := bearer(r)
		if !fromHeader && scope == ScopeFeed {
			secret = r.URL.Query().Get("token")
		}
		if secret == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="moffman"`)
			writeProblem(w, r, http.StatusUnauthorized, "this endpoint needs a token: send the header Authorization: Bearer <token>")
			return
		}
		name, ok := s.Auth.Check(secret, scope)
		if name == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="moffman", error="invalid_token"`)
			writeProblem(w, r, http.StatusUnauthorized, "the token is not valid")
			return
		}
		setTokenName(r.Context(), name)
		if scope != anyScope && !ok {
			writeProblem(w, r, http.StatusForbidden, "token "+name+" lacks the scope "+string(scope)+" that this endpoint needs")
			return
		}
		h(w, r)
	}
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// requestInfo carries what the request log needs to know from inside the
// handlers.
type requestInfo struct {
	tokenName string
}

type infoKey struct{}

func setTokenName(ctx context.Context, name string) {
	if info, ok := ctx.Value(infoKey{}).(*requestInfo); ok {
		info.tokenName = name
	}
}
