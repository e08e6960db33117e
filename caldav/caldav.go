// Package caldav adapts a CalDAV server (Radicale, Xandikos, Nextcloud,
// SOGo, Baïkal, …) to moffman's Calendar port, through emersion/go-webdav
// and emersion/go-ical.
//
// An office's calendar id is its calendar collection: a path under the
// configured URL ("office" or "alice/office"), an absolute path on the same
// server ("/dav/calendars/alice/office/"), or a full URL on that server.
// An event is the resource <id>.ics holding one VEVENT; see ical.go for the
// mapping of its fields.
//
// Cancelling an event does not remove its resource: it is rewritten with
// STATUS:CANCELLED, as Google keeps cancelled events. So Get still returns
// it (cancelled), its id stays used (Insert answers Conflict), and every
// CalDAV client shows it as cancelled. A resource someone else removes is
// reported by incremental listings as a cancelled event; Get then answers
// NotFound, and its id can be used again.
//
// Writes are conditional: If-None-Match: * on Insert, If-Match with the
// ETag just read on Patch and Delete, which start again from a fresh read
// when another client wrote in between.
package caldav

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/emersion/go-webdav/caldav"

	"github.com/moffman/moffman"
)

// Options configure the adapter.
type Options struct {
	// URL is the base of calendar ids (caldav.url), e.g.
	// https://cloud.example.com/remote.php/dav/calendars/moffman/.
	URL string
	// Username and Password are sent as HTTP basic authentication; both
	// empty sends none.
	Username, Password string
	// HTTPClient sends the requests; nil uses one with a 30 s timeout.
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// Calendar is moffman.Calendar over CalDAV. It is safe for concurrent use.
type Calendar struct {
	base *url.URL // ends in "/"
	http doer
	dav  *caldav.Client
	log  *slog.Logger
	now  func() time.Time
}

var _ moffman.Calendar = (*Calendar)(nil)

// New builds the client. It sends no request: a wrong URL or password
// shows at the first call (Subscribe, when the offices are loaded). ctx is
// taken for symmetry with the other adapters' constructors.
func New(ctx context.Context, o Options) (*Calendar, error) {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, moffman.Errorf(moffman.Invalid, "caldav.url: expected an absolute http(s) URL, got %q", o.URL)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	d := doer{client: hc, username: o.Username, password: o.Password}
	dav, err := caldav.NewClient(d, u.String())
	if err != nil {
		return nil, moffman.WrapError(moffman.Invalid, err, "caldav.url %q", o.URL)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Calendar{base: u, http: d, dav: dav, log: log, now: time.Now}, nil
}

// collection returns the path of a calendar collection, ending in "/".
func (c *Calendar) collection(calendarID string) (string, error) {
	ref, err := url.Parse(calendarID)
	if err != nil || calendarID == "" {
		return "", moffman.Errorf(moffman.Invalid, "calendar id %q is not a path or URL of a CalDAV calendar", calendarID)
	}
	u := c.base.ResolveReference(ref)
	if u.Scheme != c.base.Scheme || u.Host != c.base.Host {
		// The password must not go to another server.
		return "", moffman.Errorf(moffman.Invalid,
			"calendar id %q is not on the CalDAV server of caldav.url (%s://%s)", calendarID, c.base.Scheme, c.base.Host)
	}
	p := u.Path
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p, nil
}

// Servers keep resources as files, whose names are at most 255 bytes; an
// id longer than maxNameLen (Google allows 1024 characters) is stored under
// its hash, with the id itself in UID. (Only a removal by another client,
// which comes without the data, then reports the hashed name as the id;
// moffman's own ids are 26 or 32 characters.)
const (
	maxNameLen   = 128
	hashedPrefix = "moffman-sha256-"
)

// resource returns the path of an event's resource in a collection.
func resource(collection, eventID string) string {
	return collection + resourceName(eventID) + ".ics"
}

func resourceName(eventID string) string {
	if len(eventID) <= maxNameLen {
		return url.PathEscape(eventID)
	}
	sum := sha256.Sum256([]byte(eventID))
	return hashedPrefix + hex.EncodeToString(sum[:])
}

// eventIDOf returns the event id of a resource path, false for a resource
// not named *.ics. A hashed name gives the id in uid, when it matches.
func eventIDOf(p, uid string) (string, bool) {
	name := p[strings.LastIndex(p, "/")+1:]
	id, ok := strings.CutSuffix(name, ".ics")
	if strings.HasPrefix(id, hashedPrefix) && resourceName(uid) == id {
		return uid, true
	}
	return id, ok && id != ""
}

// doer sends requests with basic authentication and turns every answer
// that is not 2xx into a *statusError, so that the status of a failed
// go-webdav call can be read (its own error type is internal).
type doer struct {
	client             *http.Client
	username, password string
}

func (d doer) Do(req *http.Request) (*http.Response, error) {
	if d.username != "" || d.password != "" {
		req.SetBasicAuth(d.username, d.password)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return nil, &statusError{Method: req.Method, Path: req.URL.Path, Code: resp.StatusCode, Body: string(body)}
}

// statusError is an HTTP answer other than 2xx.
type statusError struct {
	Method, Path string
	Code         int
	Body         string
}

func (e *statusError) Error() string {
	msg := strings.Join(strings.Fields(e.Body), " ")
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return fmt.Sprintf("%s %s: %d %s %s", e.Method, e.Path, e.Code, http.StatusText(e.Code), msg)
}

// statusOf returns the HTTP status of a failed request, 0 when none came.
func statusOf(err error) int {
	var se *statusError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

// fail translates an error of a request about what ("event x in calendar
// y") into the core's vocabulary.
func fail(err error, what string) error {
	var se *statusError
	switch {
	case err == nil:
		return nil
	case moffman.ErrorCode(err) != moffman.Internal:
		return err // already translated
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return moffman.WrapError(moffman.Unavailable, err, "CalDAV request for %s was interrupted", what)
	case !errors.As(err, &se):
		var ne net.Error
		if errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) {
			return moffman.WrapError(moffman.Unavailable, err, "CalDAV server unreachable (%s); try again later", what)
		}
		return moffman.WrapError(moffman.Upstream, err, "CalDAV server answered something moffman cannot read (%s)", what)
	}
	switch {
	case se.Code == http.StatusUnauthorized:
		return moffman.WrapError(moffman.Upstream, err,
			"CalDAV server refused the credentials (%s): check caldav.username and caldav.password", what)
	case se.Code == http.StatusForbidden:
		return moffman.WrapError(moffman.Upstream, err,
			"CalDAV server denies caldav.username access (%s): share the calendar with it", what)
	case se.Code == http.StatusNotFound:
		return moffman.WrapError(moffman.NotFound, err, "%s not found", what)
	case se.Code == http.StatusTooManyRequests || se.Code >= 500:
		return moffman.WrapError(moffman.Unavailable, err, "CalDAV server failed (%s); try again later", what)
	}
	return moffman.WrapError(moffman.Upstream, err, "CalDAV server refused the request (%s)", what)
}
