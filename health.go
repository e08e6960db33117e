package moffman

import (
	"errors"
	"sort"
	"strings"
	"sync"
)

// ErrOutcomeUnknown marks a request whose answer never came (a timeout, a
// connection cut after the request was sent): it may have been carried
// out. A FormIssuer wraps it so that the sync does not flood the form
// service with repeats (jobs.go).
var ErrOutcomeUnknown = errors.New("the request was sent but its answer never came")

// Reasons the service is not ready, as Health keys them.
const (
	ReasonStore       = "store"       // the state store cannot write
	ReasonCredentials = "credentials" // the calendar backend refuses the credentials
)

// Health records why the service cannot do its work now, for the
// readiness probe. The services Set a reason when something fails and
// Clear it when it works again; checks added with Watch are asked at each
// Err. A nil *Health records nothing. Safe for concurrent use.
type Health struct {
	mu      sync.Mutex
	reasons map[string]string
	checks  map[string]func() error
}

// Set records that the service is not ready for reason, with a message
// for the operator.
func (h *Health) Set(reason, message string) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.reasons == nil {
		h.reasons = make(map[string]string)
	}
	h.reasons[reason] = message
}

// Clear records that reason no longer holds.
func (h *Health) Clear(reason string) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.reasons, reason)
}

// Watch adds a check asked at every Err, e.g. whether the Google
// credentials are refused; a non-nil error makes the service not ready
// under reason.
func (h *Health) Watch(reason string, check func() error) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.checks == nil {
		h.checks = make(map[string]func() error)
	}
	h.checks[reason] = check
}

// Err is nil when the service is ready, else an Unavailable error naming
// every reason.
func (h *Health) Err() error {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	var msgs []string
	for reason, msg := range h.reasons {
		msgs = append(msgs, reason+": "+msg)
	}
	checks := make(map[string]func() error, len(h.checks))
	for reason, check := range h.checks {
		checks[reason] = check
	}
	h.mu.Unlock()
	for reason, check := range checks { // outside the lock: a check may be slow
		if err := check(); err != nil {
			msgs = append(msgs, reason+": "+err.Error())
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	sort.Strings(msgs)
	return Errorf(Unavailable, "%s", strings.Join(msgs, "; "))
}

// storeWrite records whether a write to the state store (or the embedded
// calendar) worked: an Internal error means the store cannot write (disk
// full, read-only, damaged), any success that it can again. It returns err.
func (h *Health) storeWrite(err error) error {
	switch {
	case err == nil:
		h.Clear(ReasonStore)
	case IsCode(err, Internal):
		h.Set(ReasonStore, "the store cannot write: "+err.Error())
	}
	return err
}
