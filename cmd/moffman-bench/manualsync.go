package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/googlefake"
)

// manualUsers returns n manual users for moffman's configuration.
func manualUsers(n int) []manualUser {
	out := make([]manualUser, n)
	for i := range out {
		out[i] = manualUser{ID: fmt.Sprintf("manual%04d@bench.example", i), FirstName: "Manual",
			LastName: fmt.Sprintf("User%04d", i), EmployeeNumber: fmt.Sprint(10000 + i)}
	}
	return out
}

// addManual puts manual event k into calendar cal, created by one of the
// manual users. Events get distinct (creator, start, end), so that each
// form tells which event it is for, and fall into moffman's default
// checking range (today .. today+13 days, UTC).
func addManual(fake *googlefake.Server, cal string, users []manualUser, k int, today time.Time) (manualRecord, error) {
	u := users[k%len(users)]
	slot := k / len(users)
	start := today.AddDate(0, 0, slot%13)
	end := start.AddDate(0, 0, 1+slot/13)
	id, err := fake.AddManualEvent(cal, u.ID, googlefake.ManualEvent{Summary: "office", Start: start.Format(moffman.DateLayout), End: end.Format(moffman.DateLayout)})
	if err != nil {
		return manualRecord{}, err
	}
	// date_to is the last day: end shifted by calendar.end_date_corrective (default -1 day).
	return manualRecord{Calendar: cal, ID: id, Form: formKey{u.ID, start.Format(moffman.DateLayout), end.AddDate(0, 0, -1).Format(moffman.DateLayout)}}, nil
}

// approved reports whether moffman has approved the event at the fake.
func approved(fake *googlefake.Server, cal, id string) bool {
	ev, ok := fake.Event(cal, id)
	return ok && ev.ExtendedProperties != nil && ev.ExtendedProperties.Private[moffman.PropProcessed] == "true"
}

// officeSync is one office of GET /api/v1/sync.
type officeSync struct {
	OfficeID       string     `json:"office_id"`
	LastRun        *time.Time `json:"last_run"`
	LastDurationMS int64      `json:"last_duration_ms"`
	LastResult     string     `json:"last_result"`
	LastError      string     `json:"last_error"`
	FullSync       bool       `json:"full_sync"`
	EventsSeen     int        `json:"events_seen"`
	ManualDetected int        `json:"manual_detected"`
}

func getSync(ctx context.Context, client *http.Client, base string) ([]officeSync, error) {
	status, body, err := do(ctx, client, http.MethodGet, base+"/api/v1/sync", nil)
	if err != nil || status != http.StatusOK {
		return nil, fmt.Errorf("GET /api/v1/sync: status %d, %v: %s", status, err, body)
	}
	var got struct {
		Offices []officeSync `json:"offices"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		return nil, fmt.Errorf("GET /api/v1/sync: %w", err)
	}
	return got.Offices, nil
}

// syncRun summarises one sync run from GET /api/v1/sync: the longest
// office, the wall time from the first office's start to the last one's
// end, the events seen and the list pages they need (2,500 a page).
type syncRun struct {
	done                   bool // every office has run
	maxOffice, wall        time.Duration
	eventsSeen, pages, bad int
}

func summariseSync(list []officeSync) syncRun {
	s := syncRun{done: len(list) > 0}
	var first, last time.Time
	for _, o := range list {
		if o.LastRun == nil {
			s.done = false
			continue
		}
		if o.LastResult != "ok" {
			s.bad++
		}
		d := time.Duration(o.LastDurationMS) * time.Millisecond
		s.maxOffice = max(s.maxOffice, d)
		if first.IsZero() || o.LastRun.Before(first) {
			first = *o.LastRun
		}
		if end := o.LastRun.Add(d); end.After(last) {
			last = end
		}
		s.eventsSeen += o.EventsSeen
		s.pages += max(1, (o.EventsSeen+2499)/2500)
	}
	s.wall = last.Sub(first)
	return s
}

// seedManualSync seeds the fake with the manual events and the others,
// and returns the manual events and their forms.
func seedManualSync(r *Report, fake *googlefake.Server, offs []office, users []manualUser, manual, others int) ([]manualRecord, []formKey, error) {
	t := time.Now()
	today := time.Now().UTC().Truncate(24 * time.Hour)
	plan, keys, err := seedManual(fake, offs, users, manual, today)
	if err != nil {
		return nil, nil, err
	}
	if err := seedOthers(fake, offs, others, today); err != nil {
		return nil, nil, err
	}
	r.fact("seeding the fake (AddManualEvent)", time.Since(t).Seconds(), "s")
	r.note("the %d other events are seeded with googlefake.AddManualEvent under creators who are not manual users (the fake has no direct method for moffman's own events)", others)
	return plan, keys, nil
}

// seedManual puts n manual events by the manual users into the offices
// and returns them and their forms.
func seedManual(fake *googlefake.Server, offs []office, users []manualUser, n int, today time.Time) ([]manualRecord, []formKey, error) {
	var plan []manualRecord
	var keys []formKey
	for k := range n {
		m, err := addManual(fake, offs[k%len(offs)].ID, users, k, today)
		if err != nil {
			return nil, nil, err
		}
		plan = append(plan, m)
		keys = append(keys, m.Form)
	}
	return plan, keys, nil
}

// seedOthers fills the calendars with n events people who are not manual
// users put in (moffman must skip them). googlefake has no direct method
// for moffman's own events; AddManualEvent under other creators is the
// fast way to fill the calendars.
func seedOthers(fake *googlefake.Server, offs []office, n int, today time.Time) error {
	for i := range n {
		start := today.AddDate(0, 0, -7+i%20)
		if _, err := fake.AddManualEvent(offs[i%len(offs)].ID, fmt.Sprintf("colleague%04d@bench.example", i%3000), googlefake.ManualEvent{
			Summary: "office", Start: start.Format(moffman.DateLayout), End: start.AddDate(0, 0, 1).Format(moffman.DateLayout)}); err != nil {
			return err
		}
	}
	return nil
}

// waitApproved waits until every planned event is approved and its form
// delivered, and returns the time since t0; an error after deadline.
func waitApproved(fake *googlefake.Server, byro *byroFake, srv *server, plan []manualRecord, keys []formKey, t0, deadline time.Time) (time.Duration, error) {
	for {
		n := 0
		for _, m := range plan {
			if approved(fake, m.Calendar, m.ID) {
				n++
			}
		}
		if n == len(plan) && byro.delivered(keys) == len(plan) {
			return time.Since(t0), nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("after %s only %d of %d manual events are approved and %d forms delivered; moffman's log:\n%s",
				time.Since(t0).Round(time.Millisecond), n, len(plan), byro.delivered(keys), srv.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkForms checks that each planned event got one form and nothing else
// did; accepted is the number of forms the fake took.
func checkForms(r *Report, forms map[formKey][]time.Time, accepted int, keys []formKey) {
	dups, stray := formCounts(forms, keys)
	r.check("forms: exactly one per event", fmt.Sprintf("%d forms", len(keys)), fmt.Sprintf("%d forms, %d repeated", accepted, dups), accepted == len(keys) && dups == 0, true)
	r.check("forms for no manual event", "0", fmt.Sprint(stray), stray == 0, true)
}

// formCounts counts the repeated forms and those for no planned event.
func formCounts(forms map[formKey][]time.Time, keys []formKey) (dups, stray int) {
	for k, f := range forms {
		if len(f) > 1 {
			dups += len(f) - 1
		}
		if !slices.Contains(keys, k) {
			stray += len(f)
		}
	}
	return dups, stray
}

// waitSyncDone polls the sync status until a run has finished, for a
// minute from t1 at the most.
func waitSyncDone(ctx context.Context, client *http.Client, base string, t1 time.Time) (syncRun, error) {
	for {
		status, err := getSync(ctx, client, base)
		if err != nil {
			return syncRun{}, err
		}
		if run := summariseSync(status); run.done {
			return run, nil
		}
		if time.Since(t1) > time.Minute {
			return syncRun{}, fmt.Errorf("the quiet sync run did not finish within a minute")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// manualSyncScenario: offices full of events, some of them new manual
// ones; the time until moffman has approved all with one form each; then a
// quiet run after a restart.
func manualSyncScenario(ctx context.Context, e *env, r *Report) error {
	const offices, manual, target = 100, 1000, 10 * time.Second
	perOffice := 2000
	if e.opt.quick {
		perOffice = 200
	}
	r.Settings = fmt.Sprintf("%d offices × %d events, %d of them new manual events by %d known manual users", offices, perOffice, manual, 100)
	dir, err := e.scenarioDir("manual-sync")
	if err != nil {
		return err
	}
	fctx, stopFake := context.WithCancel(ctx)
	defer stopFake()
	offs := benchOffices(offices, "group.calendar.google.com")
	fake, keyPath, err := startFake(fctx, dir, offs)
	if err != nil {
		return err
	}
	byro := startByro()
	defer byro.Close()
	users := manualUsers(100)

	e.logf("seeding %d events at the fake", offices*perOffice)
	plan, keys, err := seedManualSync(r, fake, offs, users, manual, offices*perOffice-manual)
	if err != nil {
		return err
	}

	if _, err := e.moffmanBin(ctx); err != nil { // built before the clock starts
		return err
	}
	client := newHTTPClient(4)
	defer client.CloseIdleConnections()

	e.logf("starting moffman; waiting for %d approvals with forms", manual)
	before := snapshotCalls(fake)
	t0 := time.Now()
	srv, err := e.launch(ctx, serviceConfig{Dir: dir, Offices: offs, ManualUsers: users, KeyPath: keyPath,
		CalendarURL: fake.CalendarEndpoint(), FormsURL: byro.URL,
		CheckInterval: 3600}) // one run at start; the quiet run comes from a restart
	if err != nil {
		return err
	}
	defer func() { srv.kill() }()
	ready := time.Since(t0)
	elapsed, err := waitApproved(fake, byro, srv, plan, keys, t0, t0.Add(max(6*target, time.Minute)))
	if err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond) // a repeated form would come now
	first := snapshotCalls(fake).sub(before)
	forms, accepted, _, _ := byro.snapshot()
	status, err := getSync(ctx, client, srv.base)
	if err != nil {
		return err
	}
	run1 := summariseSync(status)
	reportFirstRun(r, ready, run1, first, srv)
	r.check(fmt.Sprintf("%d manual events approved with forms (from process start)", manual), fmt.Sprintf("≤ %s", target),
		fmt.Sprintf("%.2f s", elapsed.Seconds()), elapsed <= target, false)
	checkForms(r, forms, accepted, keys)
	r.check("offices whose sync failed", "0", fmt.Sprint(run1.bad), run1.bad == 0, true)

	return quietRun(ctx, e, r, srv, fake, byro, client, accepted)
}

// quietRun restarts moffman and checks that its sync run only lists:
// accepted is the number of forms the fake took before.
func quietRun(ctx context.Context, e *env, r *Report, srv *server, fake *googlefake.Server, byro *byroFake, client *http.Client, accepted int) error {
	e.logf("quiet run: restart, one incremental listing per office")
	if err := srv.stop(); err != nil {
		r.note("stopping moffman: %v", err)
	}
	before := snapshotCalls(fake)
	t1 := time.Now()
	restarted, err := srv.restart(ctx)
	if err != nil {
		return err
	}
	defer restarted.kill()
	run2, err := waitSyncDone(ctx, client, restarted.base, t1)
	if err != nil {
		return err
	}
	quiet := snapshotCalls(fake).sub(before)
	_, acceptedAfter, _, _ := byro.snapshot()
	reportQuietRun(r, run2, quiet, acceptedAfter-accepted)
	return nil
}

// reportFirstRun records the figures of the first sync run.
func reportFirstRun(r *Report, ready time.Duration, run syncRun, calls callSnapshot, srv *server) {
	r.fact("moffman start → listening", ready.Seconds(), "s")
	r.fact("first sync run (all offices, full listing)", run.wall.Seconds(), "s")
	r.fact("first sync: events seen", float64(run.eventsSeen), "")
	r.fact("first sync: slowest office", run.maxOffice.Seconds(), "s")
	r.fact("calls: events.list / events.get / events.patch", float64(calls[googlefake.MethodEventsList]),
		fmt.Sprintf("/ %d / %d", calls[googlefake.MethodEventsGet], calls[googlefake.MethodEventsPatch]))
	r.fact("server RSS peak (VmHWM)", mb(srv.mem.Peak()), "MB")
}

// reportQuietRun checks that the run after a restart only listed: calls
// are the fake's calls during it, forms the forms it sent.
func reportQuietRun(r *Report, run syncRun, calls callSnapshot, forms int) {
	r.fact("quiet run: events seen (moffman's own approvals)", float64(run.eventsSeen), "")
	r.check("quiet run: events.list calls", fmt.Sprintf("= %d (one per office + pages)", run.pages),
		fmt.Sprint(calls[googlefake.MethodEventsList]), calls[googlefake.MethodEventsList] == run.pages, false)
	r.check("quiet run: duration (first office start → last office end)", "≤ 1 s",
		fmt.Sprintf("%.3f s (slowest office %d ms)", run.wall.Seconds(), run.maxOffice.Milliseconds()), run.wall <= time.Second, false)
	work := calls[googlefake.MethodEventsGet] + calls[googlefake.MethodEventsPatch] + forms
	r.check("quiet run: events.get + events.patch + forms", "0", fmt.Sprint(work), work == 0, true)
	r.check("quiet run: offices whose sync failed", "0", fmt.Sprint(run.bad), run.bad == 0, true)
}
