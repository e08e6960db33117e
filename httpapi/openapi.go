package httpapi

import (
	_ "embed"
	"net/http"
)

// openAPIDocument is the OpenAPI 3.1 description of every route of
// Handler. openapi_test.go keeps it true: it checks that every route in
// server.go is described and validates real requests and answers against it.
//
//go:embed openapi.json
var openAPIDocument []byte

// openAPI serves the description. It is public, like /healthz: it is
// registered without a method so that other methods get the API's 405
// instead of falling through to the token-protected catch-all of /api/.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeProblem(w, r, http.StatusMethodNotAllowed, r.Method+" is not allowed here; use GET")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(openAPIDocument) // net/http drops the body of a HEAD answer
}
