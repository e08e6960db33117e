package httpapi

import (
	"context"
	"net/http"

	"github.com/moffman/moffman"
)

// Check reports whether secret is a valid token that has the scope, for
// callers that carry the token elsewhere than in a header (the web page
// keeps it in a cookie). name is the token's name whenever the secret is
// valid, also when it lacks the scope.
func (a *Auth) Check(secret string, scope Scope) (name string, ok bool) {
	if a == nil || secret == "" {
		return "", false
	}
	tok, found := a.find(secret)
	if !found {
		return "", false
	}
	return tok.Name, tok.has(scope)
}

// NoteToken names the token of a request in the request log, for handlers
// mounted in the API's routes that check tokens themselves.
func NoteToken(ctx context.Context, name string) { setTokenName(ctx, name) }

// StatusOf is the HTTP status of an error from the core, by the table the
// API answers with, so that other handlers answer the same status.
func StatusOf(err error) int {
	if status, ok := statusOf[moffman.ErrorCode(err)]; ok {
		return status
	}
	return http.StatusInternalServerError
}
