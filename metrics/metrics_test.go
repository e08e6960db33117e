package metrics_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/metrics"
	"github.com/moffman/moffman/sqlite"
)

// scrape reads /metrics as Prometheus would and parses the text format.
func scrape(t *testing.T, m *metrics.Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics answered %d: %s", rec.Code, rec.Body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("/metrics is not the text format: %v", err)
	}
	return fams
}

// value is the value of the series of family name with exactly labels
// (name=value pairs); ok false when there is no such series.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) (v float64, ok bool) {
	fam := fams[name]
	if fam == nil {
		return 0, false
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, m := range fam.GetMetric() {
		if len(m.GetLabel()) != len(want) {
			continue
		}
		match := true
		for _, l := range m.GetLabel() {
			if want[l.GetName()] != l.GetValue() {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

func wantValue(t *testing.T, fams map[string]*dto.MetricFamily, want float64, name string, labels ...string) {
	t.Helper()
	got, ok := value(fams, name, labels...)
	if !ok {
		t.Errorf("no series %s%v", name, labels)
	} else if got != want {
		t.Errorf("%s%v = %v, want %v", name, labels, got, want)
	}
}

// calendar answers every call with the error set for its method.
type calendar struct{ errs map[string]error }

func (c calendar) Insert(_ context.Context, _ string, ev moffman.Event) (moffman.Event, error) {
	return ev, c.errs["insert"]
}
func (c calendar) Get(context.Context, string, string) (moffman.Event, error) {
	return moffman.Event{}, c.errs["get"]
}
func (c calendar) Patch(context.Context, string, string, moffman.EventPatch) (moffman.Event, error) {
	return moffman.Event{}, c.errs["patch"]
}
func (c calendar) Delete(context.Context, string, string) error { return c.errs["delete"] }
func (c calendar) List(context.Context, string, moffman.ListQuery) (moffman.EventPage, error) {
	return moffman.EventPage{}, c.errs["list"]
}
func (c calendar) Subscribe(context.Context, string) error { return c.errs["subscribe"] }

func TestCalendarCountsCallsByMethodAndOutcome(t *testing.T) {
	m := metrics.New()
	errs := map[string]error{
		"get":    moffman.Errorf(moffman.NotFound, "no such event"),
		"list":   moffman.Errorf(moffman.Unavailable, "the calendar is down"),
		"delete": moffman.Errorf(moffman.Internal, "a bug"),
	}
	cal := m.WrapCalendar(calendar{errs: errs}, "google")
	ctx := context.Background()
	const id = "prague@group.calendar.google.com"
	_, _ = cal.Insert(ctx, id, moffman.Event{})
	_, _ = cal.Patch(ctx, id, "e1", moffman.EventPatch{})
	_, _ = cal.Patch(ctx, id, "e1", moffman.EventPatch{})
	_, _ = cal.Get(ctx, id, "e1")
	_, _ = cal.List(ctx, id, moffman.ListQuery{})
	_ = cal.Delete(ctx, id, "e1")
	_ = cal.Subscribe(ctx, id)

	fams := scrape(t, m)
	const calls = "moffman_backend_calls_total"
	wantValue(t, fams, 1, calls, "system", "google", "method", "events.insert", "outcome", "ok")
	wantValue(t, fams, 2, calls, "system", "google", "method", "events.patch", "outcome", "ok")
	wantValue(t, fams, 1, calls, "system", "google", "method", "events.get", "outcome", "not_found")
	wantValue(t, fams, 1, calls, "system", "google", "method", "events.list", "outcome", "unavailable")
	wantValue(t, fams, 1, calls, "system", "google", "method", "events.delete", "outcome", "internal")
	wantValue(t, fams, 1, calls, "system", "google", "method", "calendarList.insert", "outcome", "ok")
	if _, ok := value(fams, calls, "system", "google", "method", "events.get", "outcome", "ok"); ok {
		t.Error("a failed get is also counted as ok")
	}
	wantValue(t, fams, 2, "moffman_backend_call_duration_seconds", "system", "google", "method", "events.patch")
}

// LastError tells readiness whether the backend answered the last call: an
// Unavailable error sets it, an answer clears it, a bug of ours leaves it.
func TestCalendarLastError(t *testing.T) {
	errs := map[string]error{}
	cal := metrics.New().WrapCalendar(calendar{errs: errs}, "embedded")
	ctx := context.Background()
	if cal.LastError() != nil {
		t.Fatal("LastError before any call")
	}
	errs["list"] = moffman.Errorf(moffman.Unavailable, "the calendar is down")
	_, _ = cal.List(ctx, "c", moffman.ListQuery{})
	if !moffman.IsCode(cal.LastError(), moffman.Unavailable) {
		t.Errorf("after an unreachable backend: %v", cal.LastError())
	}
	errs["delete"] = moffman.Errorf(moffman.Internal, "a bug")
	_ = cal.Delete(ctx, "c", "e")
	if !moffman.IsCode(cal.LastError(), moffman.Unavailable) {
		t.Errorf("an internal error cleared the backend's state: %v", cal.LastError())
	}
	errs["get"] = moffman.Errorf(moffman.NotFound, "no such event")
	_, _ = cal.Get(ctx, "c", "e") // the backend answered, even if with "not found"
	if cal.LastError() != nil {
		t.Errorf("after an answer: %v", cal.LastError())
	}
}

type forms struct{ err error }

func (f *forms) IssueForm(context.Context, moffman.Person, moffman.Event) error { return f.err }

func TestFormsCountDeliveredAndFailed(t *testing.T) {
	m := metrics.New()
	if m.WrapForms(nil) != nil {
		t.Error("WrapForms(nil) is not nil: manual events would wait for a form")
	}
	f := &forms{}
	issuer := m.WrapForms(f)
	ctx := context.Background()
	_ = issuer.IssueForm(ctx, moffman.Person{}, moffman.Event{})
	f.err = moffman.Errorf(moffman.Unavailable, "byroapi answered 503")
	if err := issuer.IssueForm(ctx, moffman.Person{}, moffman.Event{}); !errors.Is(err, f.err) {
		t.Errorf("the error was not passed on: %v", err)
	}
	_ = issuer.IssueForm(ctx, moffman.Person{}, moffman.Event{})

	fams := scrape(t, m)
	wantValue(t, fams, 1, "moffman_forms_total", "result", "delivered")
	wantValue(t, fams, 2, "moffman_forms_total", "result", "failed")
	wantValue(t, fams, 2, "moffman_backend_calls_total", "system", "byroapi", "method", "form", "outcome", "unavailable")
}

type source struct{ err error }

func (s *source) Load(context.Context) (moffman.DirectoryLists, error) {
	return moffman.DirectoryLists{}, s.err
}

func TestSourceCountsReloads(t *testing.T) {
	m := metrics.New()
	if m.WrapSource(nil) != nil {
		t.Error("WrapSource(nil) is not nil: a spreadsheet would seem configured")
	}
	s := &source{}
	src := m.WrapSource(s)
	_, _ = src.Load(context.Background())
	s.err = moffman.Errorf(moffman.Forbidden, "the sheet is not shared")
	_, _ = src.Load(context.Background())

	fams := scrape(t, m)
	wantValue(t, fams, 1, "moffman_config_reloads_total", "result", "ok")
	wantValue(t, fams, 1, "moffman_config_reloads_total", "result", "failed")
	wantValue(t, fams, 1, "moffman_backend_calls_total", "system", "sheets", "method", "values.get", "outcome", "forbidden")
}

func TestRequestsAndRetries(t *testing.T) {
	m := metrics.New()
	m.ObserveRequest("POST /api/v1/reservations", "POST", 200, 3*time.Millisecond)
	m.ObserveRequest("POST /api/v1/reservations", "POST", 409, time.Millisecond)
	m.ObserveRequest("", "GET", 404, time.Millisecond)
	m.ObserveAttempt("calendar", "events.insert", "retry")
	m.ObserveAttempt("calendar", "events.insert", "retry")
	m.ObserveAttempt("calendar", "events.insert", "ok")

	fams := scrape(t, m)
	wantValue(t, fams, 1, "moffman_http_requests_total", "route", "POST /api/v1/reservations", "method", "POST", "status", "200")
	wantValue(t, fams, 1, "moffman_http_requests_total", "route", "POST /api/v1/reservations", "method", "POST", "status", "409")
	wantValue(t, fams, 1, "moffman_http_requests_total", "route", "unmatched", "method", "GET", "status", "404")
	wantValue(t, fams, 2, "moffman_http_request_duration_seconds", "route", "POST /api/v1/reservations", "method", "POST")
	wantValue(t, fams, 2, "moffman_backend_retries_total", "system", "calendar", "method", "events.insert")
}

type syncStatus struct {
	list []moffman.OfficeSyncStatus
	err  error
}

func (s *syncStatus) Status(context.Context) ([]moffman.OfficeSyncStatus, error) {
	return s.list, s.err
}

func TestSyncAndQueueGauges(t *testing.T) {
	m := metrics.New()
	lastRun := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	status := &syncStatus{list: []moffman.OfficeSyncStatus{
		{Office: "prague", LastRun: lastRun, LastDuration: 1500 * time.Millisecond, EventsApproved: 3, FormsDelivered: 2,
			Jobs: moffman.JobStats{Pending: 2, Oldest: time.Now().Add(-90 * time.Second)}},
		{Office: "brno", LastRun: lastRun, LastError: "the calendar is down"},
		{Office: "ostrava"}, // not run yet
	}}
	m.WatchSync(status)

	fams := scrape(t, m)
	wantValue(t, fams, float64(lastRun.Unix()), "moffman_sync_last_run_timestamp_seconds", "office", "prague")
	wantValue(t, fams, 1.5, "moffman_sync_last_duration_seconds", "office", "prague")
	wantValue(t, fams, 1, "moffman_sync_last_success", "office", "prague")
	wantValue(t, fams, 0, "moffman_sync_last_success", "office", "brno")
	wantValue(t, fams, 3, "moffman_manual_events_approved_total", "office", "prague")
	wantValue(t, fams, 2, "moffman_manual_forms_delivered_total", "office", "prague")
	wantValue(t, fams, 2, "moffman_jobs_pending", "office", "prague")
	wantValue(t, fams, 0, "moffman_jobs_pending", "office", "ostrava")
	wantValue(t, fams, 0, "moffman_jobs_oldest_age_seconds", "office", "brno")
	if age, _ := value(fams, "moffman_jobs_oldest_age_seconds", "office", "prague"); age < 90 || age > 90+60 {
		t.Errorf("oldest job age = %v s, want about 90", age)
	}
	if _, ok := value(fams, "moffman_sync_last_success", "office", "ostrava"); ok {
		t.Error("an office not synced yet reports a last success")
	}

	// The gauges are read at scrape time: a later status is what the next scrape shows.
	status.list[0].Jobs = moffman.JobStats{}
	wantValue(t, scrape(t, m), 0, "moffman_jobs_pending", "office", "prague")
}

func TestSyncStatusFailureFailsTheScrape(t *testing.T) {
	m := metrics.New()
	m.WatchSync(&syncStatus{err: moffman.Errorf(moffman.Unavailable, "the store is closed")})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "the store is closed") {
		t.Errorf("/metrics with a failing status: %d %q", rec.Code, rec.Body)
	}
}

// Today's utilisation and the waitlist of offices with a capacity, read
// from the calendar through the sync; unlimited offices add no series.
func TestCapacityGauges(t *testing.T) {
	store, err := sqlite.Open(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	four := 4
	dir := moffman.NewDirectory(moffman.DirectoryLists{Offices: []moffman.Office{
		{Name: "prague", CalendarID: "p", Capacity: &four}, {Name: "brno", CalendarID: "b"},
	}})
	res := &moffman.Reservations{Calendar: store, Directory: dir, Colors: moffman.Colors{Unapproved: "4", Approved: "5"}}
	ctx := context.Background()
	for _, ev := range []moffman.Event{
		{Summary: "A", Start: "2026-11-30", End: "2026-12-01", Private: map[string]string{moffman.PropProcessed: "true"}},
		{Summary: "B", Start: "2026-11-29", End: "2026-12-02", Private: map[string]string{moffman.PropProcessed: "true"}},
		{Summary: "(C)", Start: "2026-11-30", End: "2026-12-01", Private: map[string]string{moffman.PropProcessed: "false"}},
		{Summary: "D", Start: "2026-12-03", End: "2026-12-04", CreatorEmail: "d@acme.com", Private: map[string]string{moffman.PropProcessed: "waitlisted"}},
	} {
		for _, cal := range []string{"p", "b"} {
			if _, err := store.Insert(ctx, cal, ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	m := metrics.New()
	m.WatchCapacity(&moffman.ManualSync{Calendar: store, Directory: dir, Reservations: res, CheckMax: moffman.Shift{Weeks: 2},
		Now: func() time.Time { return time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC) }})
	fams := scrape(t, m)
	wantValue(t, fams, 4, "moffman_office_capacity", "office", "prague")
	wantValue(t, fams, 2, "moffman_office_desks_taken", "office", "prague")
	wantValue(t, fams, 0.5, "moffman_office_utilisation_ratio", "office", "prague")
	wantValue(t, fams, 1, "moffman_waitlist_length", "office", "prague")
	if _, ok := value(fams, "moffman_office_desks_taken", "office", "brno"); ok {
		t.Error("an office without a capacity reports capacity gauges")
	}
}

// Waitlisted jobs, read from the embedded store through the sync's
// status, have their own gauge: a long waitlist neither counts as pending
// nor ages the oldest job.
func TestWaitlistedJobGauges(t *testing.T) {
	store, err := sqlite.Open(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	job := func(id string, step moffman.JobStep, created time.Time) moffman.Job {
		return moffman.Job{CalendarID: "p", EventID: id, OfficeID: "prague", Step: step, Created: created, NextAttempt: now.Add(time.Hour)}
	}
	jobs := []moffman.Job{
		job("waiting1", moffman.StepWaitlisted, now.Add(-10*24*time.Hour)),
		job("waiting2", moffman.StepWaitlisted, now.Add(-9*24*time.Hour)),
		job("fresh", moffman.StepDetected, now.Add(-90*time.Second)),
	}
	if err := store.CommitSync(ctx, "p", jobs, "t"); err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if err := store.SaveJob(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	dir := moffman.NewDirectory(moffman.DirectoryLists{Offices: []moffman.Office{{Name: "prague", CalendarID: "p"}}})
	m := metrics.New()
	m.WatchSync(&moffman.ManualSync{Calendar: store, Store: store, Directory: dir})
	fams := scrape(t, m)
	wantValue(t, fams, 1, "moffman_jobs_pending", "office", "prague")
	wantValue(t, fams, 2, "moffman_jobs_waitlisted", "office", "prague")
	if age, _ := value(fams, "moffman_jobs_oldest_age_seconds", "office", "prague"); age < 90 || age > 90+60 {
		t.Errorf("oldest job age = %v s, want about 90 (the waitlisted ones left out)", age)
	}
}
