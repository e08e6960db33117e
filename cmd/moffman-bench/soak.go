package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/googlefake"
)

// soakParams shape one soak run.
type soakParams struct {
	Duration time.Duration // of the request load
	Rate     float64       // requests a second
	InFlight int           // the most requests in flight
	Manual   int           // manual events added during the load
	Offices  int
	Drain    time.Duration // the longest wait, after the load, for the manual events to be done
	// FaultShare of the Calendar calls fail, half with 500, half with 429.
	FaultShare float64
}

func soakScenario(ctx context.Context, e *env, r *Report) error {
	p := soakParams{Duration: e.pick(12*time.Second, 120*time.Second), Rate: 150, InFlight: 64, Manual: 30,
		Offices: 10, Drain: 60 * time.Second, FaultShare: 0.10}
	if !e.opt.quick {
		p.Rate, p.Manual, p.Drain = 300, 300, 3*time.Minute
	}
	if e.opt.rate > 0 {
		p.Rate = e.opt.rate
	}
	if e.opt.clients > 0 {
		p.InFlight = e.opt.clients
	}
	return soak(ctx, e, r, p)
}

// faultInjector makes about share of the calls of some fake methods fail:
// googlefake has no probabilistic fault, so a loop watches the call
// counters and queues one fault (alternately 500 and 429) for every
// 1/share calls seen.
type faultInjector struct {
	fake    *googlefake.Server
	methods []string
	share   float64

	injected int
	calls    int
}

func (f *faultInjector) run(ctx context.Context) {
	last, owed := map[string]int{}, map[string]float64{}
	for _, m := range f.methods {
		last[m] = f.fake.Calls(m)
	}
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, m := range f.methods {
			n := f.fake.Calls(m)
			f.calls += n - last[m]
			owed[m] += float64(n-last[m]) * f.share
			last[m] = n
			for owed[m] >= 1 {
				status := http.StatusInternalServerError
				if f.injected%2 == 1 {
					status = http.StatusTooManyRequests
				}
				f.fake.InjectFault(m, 1, googlefake.Fault{Status: status})
				f.injected++
				owed[m]--
			}
		}
	}
}

// soakWorker is one sender's state; only its goroutine touches it.
type soakWorker struct {
	recs    []reqRecord
	pending []reservation // acknowledged pending, not yet approved
	n       int
}

// soakRun is one soak's moving parts: the fakes, the service (replaced
// by its restart), the senders' records and what the timeline did.
type soakRun struct {
	e        *env
	p        soakParams
	offs     []office
	users    []manualUser
	fake     *googlefake.Server
	byro     *byroFake
	hooks    *hookReceiver // the webhook destination, down for a while
	srv      *server
	workers  []*soakWorker
	faults   *faultInjector
	manual   []manualRecord
	kills    []time.Time
	cap      *capRun       // the office with a capacity (capacity.go)
	downtime time.Duration // kill → listening again
	peak     int64         // the largest VmHWM of the processes
}

// soakTimes are the timeline's moments, from the start of the load.
type soakTimes struct {
	hooksDown, hooksUp time.Duration // the webhook destination refuses everything in between
	down, kill, up     time.Duration // Byroapi down, moffman killed while it is, Byroapi up
	revoke             time.Duration // every access token Google issued is revoked
	unshareFrom        time.Duration // the first office's calendar is unshared from the account
	unshareTo          time.Duration // and shared again
	slowFrom, slowTo   time.Duration // Byroapi answers slowly (within forms.timeout)
}

// slowForm is how long Byroapi takes per form in the slow phase: far
// beyond the usual, well within forms.timeout, so no outcome is unknown.
const slowForm = 3 * time.Second

func soak(ctx context.Context, e *env, r *Report, p soakParams) error {
	at := soakTimes{hooksDown: p.Duration * 10 / 100, hooksUp: p.Duration * 28 / 100, down: p.Duration * 30 / 100, kill: p.Duration * 45 / 100, up: p.Duration * 65 / 100,
		unshareFrom: p.Duration * 40 / 100, unshareTo: p.Duration * 55 / 100,
		revoke: p.Duration * 70 / 100, slowFrom: p.Duration * 75 / 100, slowTo: p.Duration * 85 / 100}
	at.kill = max(at.kill, at.down+time.Second) // Byroapi answered its last form long before: nothing in flight
	at.up = max(at.up, at.kill+time.Second)
	r.Settings = fmt.Sprintf("%s at %.0f req/s (≤ %d in flight), %d offices, %.0f%% of Calendar calls failing (500/429), "+
		"Byroapi down %.1f–%.1f s, SIGKILL + restart at %.1f s (while Byroapi is down: no form in flight), "+
		"the first office's calendar unshared %.1f–%.1f s, Google access tokens revoked at %.1f s, Byroapi slow (%s a form) %.1f–%.1f s, webhook destination down %.1f–%.1f s, %d manual events added; "+
		"an office with %d desks: %d approvals racing for a day in each of 9 rounds, %d manual events waitlisted, %d desks freed for them (one before the SIGKILL)",
		p.Duration, p.Rate, p.InFlight, p.Offices, 100*p.FaultShare, at.down.Seconds(), at.up.Seconds(), at.kill.Seconds(),
		at.unshareFrom.Seconds(), at.unshareTo.Seconds(), at.revoke.Seconds(), slowForm, at.slowFrom.Seconds(), at.slowTo.Seconds(), at.hooksDown.Seconds(), at.hooksUp.Seconds(), p.Manual,
		capDesks, racePeople, waitDays*waitPerDay, waitDays*waitCancelled)
	dir, err := e.scenarioDir("soak")
	if err != nil {
		return err
	}
	fctx, stopFake := context.WithCancel(ctx)
	defer stopFake()
	s := &soakRun{e: e, p: p, offs: benchOffices(p.Offices, "group.calendar.google.com"), users: manualUsers(50)}
	// The office with a capacity stays out of the load's offices: its
	// approvals are the races', answered 409 on purpose.
	s.cap = &capRun{office: capOffice(), users: capUsers(), client: newHTTPClient(racePeople)}
	defer s.cap.client.CloseIdleConnections()
	fake, keyPath, err := startFake(fctx, dir, append(slices.Clone(s.offs), s.cap.office))
	if err != nil {
		return err
	}
	s.fake, s.byro, s.hooks = fake, startByro(), startHooks()
	s.cap.fake = fake
	defer s.byro.Close()
	defer s.hooks.Close()
	s.srv, err = e.launch(ctx, serviceConfig{Dir: dir, Offices: append(slices.Clone(s.offs), s.cap.office),
		ManualUsers: append(slices.Clone(s.users), s.cap.users...), KeyPath: keyPath,
		CalendarURL: fake.CalendarEndpoint(), FormsURL: s.byro.URL, CheckInterval: 1, WebhookURL: s.hooks.URL + "/hook"})
	if err != nil {
		return err
	}
	defer func() { s.srv.kill() }()
	s.cap.base = s.srv.base // the restarted server listens on the same port

	e.logf("soak: %s", r.Settings)
	load, err := s.runLoad(ctx, at)
	if err != nil {
		return err
	}
	r.Loads = append(r.Loads, load)
	e.logf("soak: load done; waiting up to %s for %d manual events to be approved", p.Drain, len(s.manual))
	drained := s.drain(ctx)
	hooksDrained := s.drainHooks(ctx)
	time.Sleep(time.Second) // a repeated form or a late write would come now
	s.peak = max(s.peak, s.srv.mem.Peak())
	if err := s.srv.stop(); err != nil {
		r.note("stopping moffman: %v", err)
	}
	s.report(r, load, drained)
	s.reportHooks(r, hooksDrained)
	return nil
}

// expectedHooks are the event ids that must have been announced: every
// acknowledged registration (reservation.pending) and every manual event
// (manual.approved).
func (s *soakRun) expectedHooks() (pending, manual []string) {
	idOf := map[string]string{} // request_dt → event id
	for _, o := range s.offs {
		for _, ev := range s.fake.Events(o.ID) {
			if ev.ExtendedProperties != nil {
				idOf[ev.ExtendedProperties.Private[moffman.PropRequestDT]] = ev.ID
			}
		}
	}
	for _, wk := range s.workers {
		for _, rec := range wk.recs {
			if rec.Acked && !rec.Approve {
				pending = append(pending, idOf[rec.Key])
			}
		}
	}
	for _, m := range s.manual {
		manual = append(manual, m.ID)
	}
	return pending, manual
}

// drainHooks waits, up to the drain time, until every expected
// notification has reached the webhook destination.
func (s *soakRun) drainHooks(ctx context.Context) time.Duration {
	pending, manual := s.expectedHooks()
	start := time.Now()
	for time.Since(start) < s.p.Drain && ctx.Err() == nil {
		if s.hooks.missing("reservation.pending", pending)+s.hooks.missing("manual.approved", manual) == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

func (s *soakRun) reportHooks(r *Report, drained time.Duration) {
	pending, manual := s.expectedHooks()
	lostPending, lostManual := s.hooks.missing("reservation.pending", pending), s.hooks.missing("manual.approved", manual)
	s.hooks.mu.Lock()
	accepted, refused := s.hooks.accepted, s.hooks.refused
	s.hooks.mu.Unlock()
	r.fact("webhooks accepted / refused while the destination was down", float64(accepted), fmt.Sprintf("/ %d refused", refused))
	r.fact("webhook deliveries repeated under one webhook-id (receivers deduplicate them)", float64(s.hooks.repeats()), "")
	r.fact("notifications drained after the forms", drained.Seconds(), "s")
	r.check("notifications lost: acknowledged registrations without reservation.pending", "0",
		fmt.Sprintf("%d of %d", lostPending, len(pending)), lostPending == 0, true)
	r.check("notifications lost: manual events without manual.approved", "0",
		fmt.Sprintf("%d of %d", lostManual, len(manual)), lostManual == 0, true)
}

// runLoad sends the reservations at a fixed rate while faults are injected,
// manual events are added and the timeline takes Byroapi down and kills
// moffman; it returns when all of that has ended.
func (s *soakRun) runLoad(ctx context.Context, at soakTimes) (*LoadStats, error) {
	client := newHTTPClient(s.p.InFlight)
	defer client.CloseIdleConnections()
	send := s.sender(client, s.srv.base) // the restarted server listens on the same port
	start := time.Now()
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	loadDone := make(chan *LoadStats, 1)
	go func() {
		loadDone <- fixedRate(loadCtx, "moffman → googlefake, fixed rate", s.p.Rate, s.p.InFlight, s.p.Duration, send)
	}()
	s.faults = &faultInjector{fake: s.fake, share: s.p.FaultShare, methods: []string{googlefake.MethodEventsInsert,
		googlefake.MethodEventsPatch, googlefake.MethodEventsGet, googlefake.MethodEventsList}}
	faultCtx, stopFaults := context.WithCancel(ctx)
	var bg sync.WaitGroup
	bg.Go(func() { s.faults.run(faultCtx) })
	var manualErr error
	bg.Go(func() { manualErr = s.addManualEvents(loadCtx, start) })
	bg.Go(func() { s.cap.run(ctx, start, s.p.Duration) })

	terr := s.timeline(ctx, start, at)
	s.byro.setDown(false)
	s.byro.SetLatency(0)
	load := <-loadDone
	stopFaults()
	bg.Wait()
	if terr != nil {
		return nil, terr
	}
	return load, manualErr
}

// sender is the load's operation, at the one server (the restarted one
// listens on the same port).
func (s *soakRun) sender(client *http.Client, base string) op {
	s.workers = newSoakWorkers(s.p.InFlight)
	return reservationSender(s.offs, client, s.workers, func(*soakWorker) string { return base })
}

func newSoakWorkers(n int) []*soakWorker {
	workers := make([]*soakWorker, n)
	for i := range workers {
		workers[i] = &soakWorker{}
	}
	return workers
}

// reservationSender is the soaks' load: each worker registers new
// reservations, approves some it registered, and now and then one never
// registered, recording what was acknowledged. base chooses the server of
// a worker's next request.
func reservationSender(offs []office, client *http.Client, workers []*soakWorker, base func(*soakWorker) string) op {
	gen := newGenerator(offs, 2000, 250, firstDay)
	return func(ctx context.Context, w int) (int, error) {
		wk := workers[w]
		wk.n++
		url := base(wk) + "/api/v1/reservations"
		var res reservation
		approve := false
		switch {
		case wk.n%5 == 0 && len(wk.pending) > 0:
			res, wk.pending, approve = wk.pending[0], wk.pending[1:], true
		case wk.n%20 == 1:
			res, approve = gen.next(), true // approving one never registered
		default:
			res = gen.next()
		}
		status, err := discard(ctx, client, http.MethodPost, url, res.body(approve))
		acked := err == nil && status == http.StatusOK
		wk.recs = append(wk.recs, reqRecord{Key: res.RequestDT, Approve: approve, Acked: acked})
		if acked && !approve {
			wk.pending = append(wk.pending, res)
		}
		return status, err
	}
}

// addManualEvents adds the manual events at the fake, spread over the load.
func (s *soakRun) addManualEvents(ctx context.Context, start time.Time) error {
	today := time.Now().UTC().Truncate(24 * time.Hour)
	for k := range s.p.Manual {
		if !sleepUntil(ctx, start.Add(time.Duration(k)*s.p.Duration/time.Duration(s.p.Manual))) {
			return nil
		}
		m, err := addManual(s.fake, s.offs[k%len(s.offs)].ID, s.users, k, today)
		if err != nil {
			return err
		}
		s.manual = append(s.manual, m)
	}
	return nil
}

// timeline takes Byroapi down, kills and restarts moffman while it is
// down, and brings Byroapi back.
func (s *soakRun) timeline(ctx context.Context, start time.Time, at soakTimes) error {
	if !sleepUntil(ctx, start.Add(at.hooksDown)) {
		return ctx.Err()
	}
	s.hooks.setDown(true)
	s.e.logf("soak: webhook destination down")
	if !sleepUntil(ctx, start.Add(at.hooksUp)) {
		return ctx.Err()
	}
	s.hooks.setDown(false)
	s.e.logf("soak: webhook destination up")
	if !sleepUntil(ctx, start.Add(at.down)) {
		return ctx.Err()
	}
	s.byro.setDown(true)
	s.e.logf("soak: Byroapi down")
	if !sleepUntil(ctx, start.Add(at.unshareFrom)) {
		return ctx.Err()
	}
	s.fake.Unshare(s.offs[0].ID)
	s.e.logf("soak: %s unshared", s.offs[0].ID)
	if !sleepUntil(ctx, start.Add(at.kill)) {
		return ctx.Err()
	}
	s.peak = max(s.peak, s.srv.mem.Peak())
	atKill := s.cap.waitlistedNow()
	s.srv.kill()
	t := time.Now()
	s.cap.mu.Lock()
	s.cap.atKill = atKill
	s.cap.mu.Unlock()
	s.kills = append(s.kills, t)
	s.e.logf("soak: moffman killed (SIGKILL); restarting")
	restarted, err := s.srv.restart(ctx)
	if err != nil {
		return fmt.Errorf("restart after SIGKILL: %w", err)
	}
	s.srv = restarted
	s.downtime = time.Since(t)
	if !sleepUntil(ctx, start.Add(at.unshareTo)) {
		return ctx.Err()
	}
	s.fake.Share(s.offs[0].ID)
	s.e.logf("soak: %s shared again", s.offs[0].ID)
	if !sleepUntil(ctx, start.Add(at.up)) {
		return ctx.Err()
	}
	s.byro.setDown(false)
	s.e.logf("soak: Byroapi up")
	return s.laterPhases(ctx, start, at)
}

// laterPhases revoke Google's access tokens (moffman must refresh and
// repeat, failing nothing) and make Byroapi slow for a while.
func (s *soakRun) laterPhases(ctx context.Context, start time.Time, at soakTimes) error {
	if !sleepUntil(ctx, start.Add(at.revoke)) {
		return ctx.Err()
	}
	s.fake.RevokeTokens()
	s.e.logf("soak: Google access tokens revoked")
	if !sleepUntil(ctx, start.Add(at.slowFrom)) {
		return ctx.Err()
	}
	s.byro.SetLatency(slowForm)
	s.e.logf("soak: Byroapi slow")
	if !sleepUntil(ctx, start.Add(at.slowTo)) {
		return ctx.Err()
	}
	s.byro.SetLatency(0)
	s.e.logf("soak: Byroapi fast again")
	return nil
}

// drain waits, up to the drain time, until every manual event is approved
// and has its form; it returns how long that took.
func (s *soakRun) drain(ctx context.Context) time.Duration {
	keys := make([]formKey, len(s.manual))
	for i, m := range s.manual {
		keys[i] = m.Form
	}
	start := time.Now()
	for time.Since(start) < s.p.Drain && ctx.Err() == nil {
		done := 0
		for _, m := range s.manual {
			if approved(s.fake, m.Calendar, m.ID) {
				done++
			}
		}
		if l := s.capLedger(); done == len(s.manual) && s.byro.delivered(keys) == len(s.manual) &&
			l.Promoted >= l.PromotedExpected && l.FormsMissing == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

// report computes the ledger from what was sent, what the calendars hold
// and what Byroapi accepted, and writes it with the facts into r.
func (s *soakRun) report(r *Report, load *LoadStats, drained time.Duration) {
	in := ledgerInput{Manual: s.manual, Kills: s.kills, CrashWindow: time.Second}
	for _, wk := range s.workers {
		in.Requests = append(in.Requests, wk.recs...)
	}
	for _, o := range s.offs {
		for _, ev := range s.fake.Events(o.ID) {
			ce := calEvent{Calendar: o.ID, ID: ev.ID, Cancelled: ev.Status == moffman.StatusCancelled}
			if ev.ExtendedProperties != nil {
				ce.RequestKey = ev.ExtendedProperties.Private[moffman.PropRequestDT]
				ce.Approved = ev.ExtendedProperties.Private[moffman.PropProcessed] == "true"
			}
			in.Events = append(in.Events, ce)
		}
	}
	var accepted, refused int
	in.Forms, accepted, refused, _ = s.byro.snapshot()
	// The waitlist's forms are the capacity ledger's, not strays.
	cl := s.capLedger()
	for _, d := range s.cap.days {
		for _, m := range d.Manual {
			delete(in.Forms, m.Form)
		}
	}
	l := computeLedger(in)
	r.Ledger, r.Capacity = &l, &cl

	faults := s.faults
	r.fact("fault injection: Calendar calls failed on purpose", float64(faults.injected),
		fmt.Sprintf("of %d calls (%.1f%%; googlefake has no probabilistic fault: a loop queues InjectFault)", faults.calls, 100*float64(faults.injected)/float64(max(faults.calls, 1))))
	if load.Late > 0 {
		r.fact("requests sent > 100 ms behind schedule (the bench could not keep up)", float64(load.Late), "")
	}
	r.fact("moffman down after SIGKILL (kill → listening again)", s.downtime.Seconds(), "s")
	r.fact("forms refused while Byroapi was down", float64(refused), "")
	r.fact("forms accepted", float64(accepted), "")
	r.fact("drain after the load (manual events done)", drained.Seconds(), "s")
	r.fact("server RSS peak (VmHWM, both processes)", mb(s.peak), "MB")
	r.check("reservations lost (acknowledged, not in the calendar)", "0", fmt.Sprint(l.Lost), l.Lost == 0, true)
	r.check("reservations duplicated (> 1 event for one request)", "0", fmt.Sprint(l.Duplicated), l.Duplicated == 0, true)
	r.check("approvals lost (acknowledged, event not approved)", "0", fmt.Sprint(l.ApprovalsLost), l.ApprovalsLost == 0, true)
	r.check("manual events not approved after the drain", "0", fmt.Sprint(l.ManualUnapproved), l.ManualUnapproved == 0, true)
	r.check("manual events approved without a form", "0", fmt.Sprint(l.FormsMissing), l.FormsMissing == 0, true)
	r.check("forms duplicated", "0", fmt.Sprint(l.FormsDuplicated), l.FormsDuplicated == 0, true)
	r.check("forms for no manual event", "0", fmt.Sprint(l.FormsStray), l.FormsStray == 0, true)
	if l.FormsCrashWindow > 0 {
		r.note("%d form(s) repeated in the documented crash window (Byroapi accepted, the process was killed before recording it)", l.FormsCrashWindow)
	}
	s.reportCapacity(r, cl)
}

// capLedger computes the capacity ledger from the calendar now.
func (s *soakRun) capLedger() CapacityLedger {
	forms, _, _, _ := s.byro.snapshot()
	s.cap.mu.Lock()
	defer s.cap.mu.Unlock()
	return computeCapLedger(capInput{Capacity: capDesks, Events: capEvents(s.fake, s.cap.office.ID), Rounds: s.cap.rounds,
		Days: s.cap.days, Forms: forms, Kills: s.kills, CrashWindow: time.Second, AtKill: s.cap.atKill})
}

func (s *soakRun) reportCapacity(r *Report, l CapacityLedger) {
	for _, e := range s.cap.errs {
		r.note("capacity office: %s", e)
	}
	r.check("capacity: steps without the answer they wait for (see the notes)", "0", fmt.Sprint(len(s.cap.errs)), len(s.cap.errs) == 0, true)
	r.check("capacity: days with more desks taken than the capacity", "0", fmt.Sprintf("%d (most taken on a day: %d of %d)", l.DaysOver, l.MostTaken, l.Capacity), l.DaysOver == 0, true)
	r.check("capacity: race approvals without a final 200 or 409", "0", fmt.Sprint(l.Unanswered), l.Unanswered == 0, true)
	r.check("capacity: 409 not naming the day as full", "0", fmt.Sprint(l.RefusedWrongly), l.RefusedWrongly == 0, true)
	r.check("capacity: race days not at min(capacity, people not cancelled)", "0", fmt.Sprintf("%d of %d", l.RaceDaysWrong, l.RaceRounds), l.RaceDaysWrong == 0, true)
	r.check("capacity: approvals answered 200 without a desk at the end", "0", fmt.Sprint(l.AcceptedLost), l.AcceptedLost == 0, true)
	r.check("capacity: approvals answered 409 with a desk at the end", "0", fmt.Sprint(l.RefusedHeld), l.RefusedHeld == 0, true)
	r.check("capacity: a freed desk not given to exactly one of the refused", "0", fmt.Sprint(l.FreedWrong), l.FreedWrong == 0, true)
	r.check("capacity: waitlisted events approved after the freed desks", fmt.Sprint(l.PromotedExpected), fmt.Sprint(l.Promoted), l.Promoted == l.PromotedExpected, true)
	r.check("capacity: approved ahead of an older waitlisted event", "0", fmt.Sprint(l.OutOfOrder), l.OutOfOrder == 0, true)
	r.check("capacity: waitlisted events approved without a form", "0", fmt.Sprint(l.FormsMissing), l.FormsMissing == 0, true)
	r.check("capacity: forms duplicated", "0", fmt.Sprint(l.FormsDuplicated), l.FormsDuplicated == 0, true)
	r.check("capacity: forms for events still waitlisted", "0", fmt.Sprint(l.FormsWaitlisted), l.FormsWaitlisted == 0, true)
	// Not moffman's doing when it misses: the events were detected late.
	r.check("capacity: manual events waitlisted when SIGKILL hit", "> 0", fmt.Sprint(l.WaitlistedAtKill), l.WaitlistedAtKill > 0, false)
	if l.FormsCrashWindow > 0 {
		r.note("capacity: %d form(s) repeated in the documented crash window", l.FormsCrashWindow)
	}
}

// sleepUntil waits for t; false when ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
