// Package auth holds the API tokens, their scopes and the sign-in cookie
// of the web page: the one place that decides who may do what, used by
// both the REST API (httpapi) and the web page (web).
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"slices"
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
)

// Token is an API token as stored: only its SHA-256 is kept.
type Token struct {
	Name   string
	SHA256 [32]byte
	Scopes []Scope
}

// Auth checks tokens. With no tokens every request is allowed, as the
// Python service allowed them.
type Auth struct {
	tokens []Token
}

// NewAuth returns an Auth over the given tokens.
func NewAuth(tokens []Token) *Auth { return &Auth{tokens: tokens} }

// Enabled reports whether tokens are required.
func (a *Auth) Enabled() bool { return a != nil && len(a.tokens) > 0 }

// Check reports whether secret is a valid token that has the scope. name
// is the token's name whenever the secret is valid, also when it lacks
// the scope.
func (a *Auth) Check(secret string, scope Scope) (name string, ok bool) {
	if a == nil || secret == "" {
		return "", false
	}
	tok, found := a.find(secret)
	if !found {
		return "", false
	}
	return tok.Name, slices.Contains(tok.Scopes, scope)
}

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

// Bearer returns the token of an "Authorization: Bearer" header.
func Bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// noteKey keys the token name a request was allowed with.
type noteKey struct{}

// WithTokenNote returns a context in which NoteToken records a token's
// name, and a function that returns the name noted so far ("" for none):
// the request log names the token without the handlers returning it.
func WithTokenNote(ctx context.Context) (context.Context, func() string) {
	name := new(string)
	return context.WithValue(ctx, noteKey{}, name), func() string { return *name }
}

// NoteToken records the name of the token a request was allowed with, for
// the request log; without WithTokenNote it does nothing.
func NoteToken(ctx context.Context, name string) {
	if p, ok := ctx.Value(noteKey{}).(*string); ok {
		*p = name
	}
}
