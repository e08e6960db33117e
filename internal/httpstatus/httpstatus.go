// Package httpstatus is the one mapping from the core's error vocabulary
// to HTTP statuses, shared by the REST API and the web page so that both
// answer a failure with the same status.
package httpstatus

import (
	"net/http"

	"github.com/moffman/moffman"
)

var ofCode = map[moffman.Code]int{
	moffman.Invalid:      http.StatusBadRequest,
	moffman.NotFound:     http.StatusNotFound,
	moffman.Conflict:     http.StatusConflict,
	moffman.Gone:         http.StatusGone,
	moffman.Unauthorized: http.StatusUnauthorized,
	moffman.Forbidden:    http.StatusForbidden,
	moffman.Unavailable:  http.StatusServiceUnavailable,
	moffman.Upstream:     http.StatusBadGateway,
	moffman.Internal:     http.StatusInternalServerError,
}

// Of is the HTTP status of an error from the core; 500 for any error
// outside the vocabulary.
func Of(err error) int {
	if status, ok := ofCode[moffman.ErrorCode(err)]; ok {
		return status
	}
	return http.StatusInternalServerError
}
