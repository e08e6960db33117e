package httpapi

import (
	_ "embed"
	"net/http"
)

// openAPIDocument is the OpenAPI 3.1 description of every route of
// Handler. openapi_test.go keeps it true: it checks that every route in
// the route table (routes.go) is described and validates real requests and answers against it.
//
//go:embed openapi.json
var openAPIDocument []byte

// openAPI serves the description. It is public, like /healthz.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(openAPIDocument) // net/http drops the body of a HEAD answer
	return nil
}
