package httpapi

import (
	"net/http"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/auth"
)

// require lets a request in only with a token that has the scope; without
// tokens configured every request is let in. A feed also accepts the token
// as the query parameter "token", as calendar clients send no headers.
func (s *Server) require(scope auth.Scope, r *http.Request, h http.Header) error {
	if scope == public || !s.Auth.Enabled() {
		return nil
	}
	secret, fromHeader := auth.Bearer(r)
	if !fromHeader && scope == auth.ScopeFeed {
		secret = r.URL.Query().Get("token")
	}
	if secret == "" {
		h.Set("WWW-Authenticate", `Bearer realm="moffman"`)
		return moffman.Errorf(moffman.Unauthorized, "this endpoint needs a token: send the header Authorization: Bearer <token>")
	}
	name, ok := s.Auth.Check(secret, scope)
	if name == "" {
		h.Set("WWW-Authenticate", `Bearer realm="moffman", error="invalid_token"`)
		return moffman.Errorf(moffman.Unauthorized, "the token is not valid")
	}
	auth.NoteToken(r.Context(), name)
	if scope != anyToken && !ok {
		return moffman.Errorf(moffman.Forbidden, "token %s lacks the scope %s that this endpoint needs", name, scope)
	}
	return nil
}
