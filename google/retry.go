package google

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/auth"
	"google.golang.org/api/googleapi"

	"github.com/moffman/moffman"
)

// caller runs the API operations of one adapter: a deadline per attempt,
// retries of transient failures within the policy, one OnCall per attempt.
// The generated clients of Calendar and Sheets do not retry by themselves
// (they send each request once), so the attempts counted here are all the
// requests made.
type caller struct {
	api    string // "calendar" or "sheets", for OnCall
	name   string // "Google Calendar", for messages
	policy RetryPolicy
	log    *slog.Logger
	onCall func(api, method, outcome string)
}

func newCaller(api, name string, o Options) caller {
	return caller{api: api, name: name, policy: o.Retry.withDefaults(), log: logger(o.Logger), onCall: o.OnCall}
}

// do runs call until it succeeds, fails for good, or the policy runs out.
// call gets the attempt number (from 1) and a context with the attempt's
// deadline, and must send exactly one request. A final non-transient error
// is returned as is, for the adapter to translate; running out of attempts
// or budget, or the caller's ctx ending, gives Unavailable.
func (c caller) do(ctx context.Context, method, what string, call func(ctx context.Context, attempt int) error) error {
	p := c.policy
	start := time.Now()
	bctx, cancel := context.WithTimeout(ctx, p.Budget)
	defer cancel()
	for attempt := 1; ; attempt++ {
		actx, acancel := context.WithTimeout(bctx, p.AttemptTimeout)
		actx, note := withReauthNote(actx)
		err := call(actx, attempt)
		acancel()
		for range note.count() { // repeated with a fresh token inside the attempt
			c.count(method, "retry")
		}
		if err == nil {
			c.count(method, "ok")
			return nil
		}
		retryAfter, ok := transient(err)
		if !ok {
			c.count(method, "error")
			return err
		}
		if ctx.Err() != nil {
			c.count(method, "error")
			return moffman.WrapError(moffman.Unavailable, err, "%s %s (%s) was interrupted: %v", c.name, method, what, ctx.Err())
		}
		delay := retryAfter
		if delay == 0 {
			delay = backoff(p, attempt)
		}
		deadline, _ := bctx.Deadline()
		if attempt >= p.Attempts || bctx.Err() != nil || time.Until(deadline) < delay {
			c.count(method, "error")
			return moffman.WrapError(moffman.Unavailable, err,
				"%s %s (%s) failed after %d attempts in %s, last with %s; try again later",
				c.name, method, what, attempt, time.Since(start).Round(time.Millisecond), describe(err, p.AttemptTimeout))
		}
		c.count(method, "retry")
		c.log.WarnContext(ctx, "retrying a Google API call", "api", c.api, "method", method, "target", what,
			"attempt", attempt, "delay", delay, "error", err)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			c.count(method, "error") // not an attempt, but the operation ends here
			return moffman.WrapError(moffman.Unavailable, err, "%s %s (%s) was interrupted: %v", c.name, method, what, ctx.Err())
		}
	}
}

func (c caller) count(method, outcome string) {
	if c.onCall != nil {
		c.onCall(c.api, method, outcome)
	}
}

// backoff is the full-jitter delay before attempt+1: uniform in
// [0, min(MaxDelay, BaseDelay·2^(attempt-1))], so that many clients
// failing together do not retry together.
func backoff(p RetryPolicy, attempt int) time.Duration {
	d := p.MaxDelay
	if attempt-1 < 30 && p.BaseDelay<<(attempt-1) < d {
		d = p.BaseDelay << (attempt - 1)
	}
	return rand.N(d + 1)
}

// transient reports whether err may go away by itself, and how long the
// server asked to wait (0: not said). Rate limits (429, 403 with a rate
// limit reason), server errors, token endpoint outages, timeouts and
// network errors are transient; everything else Google says is final.
func transient(err error) (time.Duration, bool) {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		if ge.Code == http.StatusTooManyRequests || ge.Code >= 500 ||
			ge.Code == http.StatusForbidden && hasReason(ge, "rateLimitExceeded", "userRateLimitExceeded") {
			return retryAfter(ge.Header, time.Now()), true
		}
		return 0, false
	}
	var ae *auth.Error
	if errors.As(err, &ae) && ae.Response != nil {
		if code := ae.Response.StatusCode; code == http.StatusTooManyRequests || code >= 500 {
			return retryAfter(ae.Response.Header, time.Now()), true
		}
		return 0, false
	}
	// No answer from Google at all: connection refused or reset, timeout,
	// a cut-off body. The caller's own cancellation is checked before.
	return 0, true
}

// retryAfter parses a Retry-After header: delay seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		return max(time.Duration(s)*time.Second, 0)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

func hasReason(ge *googleapi.Error, reasons ...string) bool {
	for _, it := range ge.Errors {
		for _, r := range reasons {
			if it.Reason == r {
				return true
			}
		}
	}
	return false
}

// describe is a short account of a failure for messages.
func describe(err error, attemptTimeout time.Duration) string {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		return googleMessage(ge)
	}
	var ae *auth.Error
	if errors.As(err, &ae) && ae.Response != nil {
		return fmt.Sprintf("HTTP %d from the token endpoint", ae.Response.StatusCode)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("no answer within %s", attemptTimeout)
	}
	return err.Error()
}

// googleMessage is Google's error as "HTTP 400 (invalid): Invalid Value".
func googleMessage(ge *googleapi.Error) string {
	msg := ge.Message
	reason := ""
	if len(ge.Errors) > 0 {
		reason = ge.Errors[0].Reason
		if msg == "" {
			msg = ge.Errors[0].Message
		}
	}
	if msg == "" {
		msg = http.StatusText(ge.Code)
	}
	if reason != "" {
		return fmt.Sprintf("HTTP %d (%s): %s", ge.Code, reason, msg)
	}
	return fmt.Sprintf("HTTP %d: %s", ge.Code, msg)
}

// apiStatus is the HTTP status of Google's error, 0 when err is not one.
func apiStatus(err error) int {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		return ge.Code
	}
	return 0
}
