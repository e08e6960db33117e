package metrics

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/moffman/moffman"
)

// Calendar measures every call of a moffman.Calendar and remembers whether
// the backend answered the last one, for readiness.
type Calendar struct {
	moffman.Calendar
	m        *Metrics
	system   string
	lastDown atomic.Value // error of the last call when the backend was unreachable, else nil-error holder
}

type errHolder struct{ err error }

// WrapCalendar decorates c; system names it in the metrics ("google" or "embedded").
func (m *Metrics) WrapCalendar(c moffman.Calendar, system string) *Calendar {
	w := &Calendar{Calendar: c, m: m, system: system}
	w.lastDown.Store(errHolder{})
	return w
}

// LastError is the error of the last call if the backend could not be
// reached (Unavailable), nil otherwise.
func (c *Calendar) LastError() error { return c.lastDown.Load().(errHolder).err }

func (c *Calendar) done(method string, start time.Time, err error) {
	c.m.observe(c.system, method, start, err)
	switch {
	case moffman.IsCode(err, moffman.Unavailable):
		c.lastDown.Store(errHolder{err})
	case err == nil || moffman.ErrorCode(err) != moffman.Internal:
		c.lastDown.Store(errHolder{})
	}
}

func (c *Calendar) Insert(ctx context.Context, calendarID string, ev moffman.Event) (moffman.Event, error) {
	start := time.Now()
	out, err := c.Calendar.Insert(ctx, calendarID, ev)
	c.done("events.insert", start, err)
	return out, err
}

func (c *Calendar) Get(ctx context.Context, calendarID, eventID string) (moffman.Event, error) {
	start := time.Now()
	out, err := c.Calendar.Get(ctx, calendarID, eventID)
	c.done("events.get", start, err)
	return out, err
}

func (c *Calendar) Patch(ctx context.Context, calendarID, eventID string, p moffman.EventPatch) (moffman.Event, error) {
	start := time.Now()
	out, err := c.Calendar.Patch(ctx, calendarID, eventID, p)
	c.done("events.patch", start, err)
	return out, err
}

func (c *Calendar) Delete(ctx context.Context, calendarID, eventID string) error {
	start := time.Now()
	err := c.Calendar.Delete(ctx, calendarID, eventID)
	c.done("events.delete", start, err)
	return err
}

func (c *Calendar) List(ctx context.Context, calendarID string, q moffman.ListQuery) (moffman.EventPage, error) {
	start := time.Now()
	out, err := c.Calendar.List(ctx, calendarID, q)
	c.done("events.list", start, err)
	return out, err
}

func (c *Calendar) Subscribe(ctx context.Context, calendarID string) error {
	start := time.Now()
	err := c.Calendar.Subscribe(ctx, calendarID)
	c.done("calendarList.insert", start, err)
	return err
}

// FormIssuer measures form deliveries.
type FormIssuer struct {
	moffman.FormIssuer
	m *Metrics
}

// WrapForms decorates f; nil stays nil (no forms configured).
func (m *Metrics) WrapForms(f moffman.FormIssuer) moffman.FormIssuer {
	if f == nil {
		return nil
	}
	return &FormIssuer{FormIssuer: f, m: m}
}

func (f *FormIssuer) IssueForm(ctx context.Context, p moffman.Person, ev moffman.Event) error {
	start := time.Now()
	err := f.FormIssuer.IssueForm(ctx, p, ev)
	f.m.observe("byroapi", "form", start, err)
	result := "delivered"
	if err != nil {
		result = "failed"
	}
	f.m.forms.WithLabelValues(result).Inc()
	return err
}

// DirectorySource measures spreadsheet reloads.
type DirectorySource struct {
	moffman.DirectorySource
	m *Metrics
}

// WrapSource decorates s; nil stays nil (no spreadsheet configured).
func (m *Metrics) WrapSource(s moffman.DirectorySource) moffman.DirectorySource {
	if s == nil {
		return nil
	}
	return &DirectorySource{DirectorySource: s, m: m}
}

func (s *DirectorySource) Load(ctx context.Context) (moffman.DirectoryLists, error) {
	start := time.Now()
	l, err := s.DirectorySource.Load(ctx)
	s.m.observe("sheets", "values.get", start, err)
	result := "ok"
	if err != nil {
		result = "failed"
	}
	s.m.reloads.WithLabelValues(result).Inc()
	return l, err
}
