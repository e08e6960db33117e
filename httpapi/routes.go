package httpapi

import (
	"net/http"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/auth"
)

// handlerFunc is a handler that returns its failure instead of writing it:
// Handler wraps each one once, and the wrapper answers the error as
// problem details (see writeError).
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// route is one entry of the API: where it is served, the scope a token
// needs for it and what serves it.
type route struct {
	method  string // "" for every method
	path    string // a ServeMux path: wildcards in braces
	scope   auth.Scope
	handler handlerFunc
}

// Two scopes that are not a token's: anyToken lets every valid token in,
// for answers that reveal nothing, like 404 and 405; public needs none.
const (
	anyToken auth.Scope = ""
	public   auth.Scope = "(public)"
)

// routes is the route table: Handler registers it on the mux and the
// OpenAPI test checks that openapi.json describes it. A path under /api/
// answers the methods it does not list with 405.
func (s *Server) routes() []route {
	routes := []route{
		{"POST", "/api/v1/reservations", auth.ScopeWrite, s.postReservation},
		{"GET", "/api/v1/offices", auth.ScopeRead, s.getOffices},
		{"GET", "/api/v1/offices/{office_id}/reservations", auth.ScopeRead, s.listReservations("office_id", (*moffman.Reservations).ListPage)},
		{"GET", "/api/v1/offices/{office_id}/reservations/{id}", auth.ScopeRead, s.getReservation},
		{"DELETE", "/api/v1/offices/{office_id}/reservations/{id}", auth.ScopeWrite, s.deleteReservation},
		{"GET", "/api/v1/offices/{office_id}/attendance", auth.ScopeRead, s.getAttendance},
		{"GET", "/api/v1/offices/{office_id}/availability", auth.ScopeRead, s.getAvailability},
		{"GET", "/api/v1/offices/{office_id}/calendar.ics", auth.ScopeFeed, s.getFeed},
		{"GET", "/api/v1/offices/{office_id}/occupancy.csv", auth.ScopeRead, s.getOccupancyCSV},
		{"GET", "/api/v1/people/{email}/reservations", auth.ScopeRead, s.listReservations("email", (*moffman.Reservations).PersonPage)},
		{"GET", "/api/v1/sync", auth.ScopeAdmin, s.getSync},
		{"POST", "/api/v1/sync/jobs/{calendar_id}/{event_id}/retry", auth.ScopeAdmin, s.retryJob},
		{"GET", "/api/v1/config_update", auth.ScopeAdmin, s.configUpdate},
		{"POST", "/api/v1/config_update", auth.ScopeAdmin, s.configUpdate},
		{"GET", "/api/v1/openapi.json", public, s.openAPI},
		{"", "/api/", anyToken, notFound("no such endpoint: ")},
		{"GET", "/healthz", public, s.healthz},
		{"GET", "/readyz", public, s.readyz},
		{"", "/", public, notFound("no such page: ")},
	}
	if s.MetricsHandler != nil {
		routes = append(routes, route{"GET", "/metrics", public, serve(s.MetricsHandler)})
	}
	if s.Web != nil { // the page checks its sign-in itself
		routes = append(routes,
			route{"GET", "/{$}", public, serve(s.Web)},
			route{"GET", "/occupancy", public, serve(s.Web)},
			route{"GET", "/occupancy.csv", public, serve(s.Web)},
			route{"", "/login", public, serve(s.Web)},
			route{"POST", "/logout", public, serve(s.Web)},
			route{"GET", "/static/", public, serve(s.Web)},
		)
	}
	return routes
}

// notFound answers 404 for any path under the one it is registered at.
func notFound(prefix string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		return moffman.Errorf(moffman.NotFound, "%s%s", prefix, r.URL.Path)
	}
}

// serve mounts a plain handler in the table.
func serve(h http.Handler) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		h.ServeHTTP(w, r)
		return nil
	}
}
