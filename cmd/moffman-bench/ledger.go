package main

import (
	"slices"
	"time"
)

// reqRecord is one reservation request the soak sent.
type reqRecord struct {
	Key     string // the reservation's identity: its request_dt, unique per reservation
	Approve bool   // an approval (else a pending registration)
	Acked   bool   // answered 200
}

// calEvent is one event found in a calendar at the end.
type calEvent struct {
	Calendar, ID string
	RequestKey   string // moffman_request_dt; "" for events moffman did not write for a request
	Approved     bool   // event_processed is "true"
	Cancelled    bool
}

// manualRecord is a manual event the soak put into a calendar.
type manualRecord struct {
	Calendar, ID string
	Form         formKey // what its form must carry
}

// ledgerInput is everything the ledger is computed from.
type ledgerInput struct {
	Requests []reqRecord
	Events   []calEvent
	Manual   []manualRecord
	Forms    map[formKey][]time.Time // accepted by Byroapi, in order
	Kills    []time.Time             // when moffman was killed
	// CrashWindow is how long after Byroapi accepted a form a kill can
	// still land before moffman has recorded it (the documented window in
	// which a form may be sent twice).
	CrashWindow time.Duration
}

// Ledger is the soak's account of what was acknowledged and what exists.
type Ledger struct {
	RequestsSent  int `json:"requests_sent"`
	RequestsAcked int `json:"requests_acknowledged"`

	ReservationsSent  int `json:"reservations_sent"`         // distinct reservations with at least one request
	ReservationsAcked int `json:"reservations_acknowledged"` // with at least one 200
	Found             int `json:"found_in_calendar"`         // with at least one event
	Lost              int `json:"lost"`                      // acknowledged, no event
	Duplicated        int `json:"duplicated"`                // more than one event
	ApprovalsAcked    int `json:"approvals_acknowledged"`
	ApprovalsLost     int `json:"approvals_lost"` // approval acknowledged, event not approved

	ManualAdded      int `json:"manual_added"`
	ManualSeen       int `json:"manual_seen"`     // processed by moffman: approved (or still waiting with a form out)
	ManualApproved   int `json:"manual_approved"` // approved in the calendar
	ManualUnapproved int `json:"manual_unapproved"`
	FormsDelivered   int `json:"forms_delivered"` // manual events with at least one form
	FormsMissing     int `json:"forms_missing"`   // approved without a form
	FormsDuplicated  int `json:"forms_duplicated"`
	// FormsCrashWindow are repeats whose first delivery was accepted at
	// most CrashWindow before a kill: the documented window, reported
	// apart rather than hidden.
	FormsCrashWindow int `json:"forms_repeated_in_crash_window"`
	FormsStray       int `json:"forms_stray"` // forms for no manual event
}

// OK reports whether nothing was lost, duplicated or left undone.
func (l Ledger) OK() bool {
	return l.Lost == 0 && l.Duplicated == 0 && l.ApprovalsLost == 0 &&
		l.ManualUnapproved == 0 && l.FormsMissing == 0 && l.FormsDuplicated == 0 && l.FormsStray == 0
}

func computeLedger(in ledgerInput) Ledger {
	var l Ledger
	l.countReservations(in)
	l.countManual(in)
	return l
}

// countReservations counts the REST reservations: sent and acknowledged,
// against the events found for them.
func (l *Ledger) countReservations(in ledgerInput) {
	type resv struct{ sent, acked, approvalAcked bool }
	byKey := map[string]*resv{}
	for _, r := range in.Requests {
		l.RequestsSent++
		v := byKey[r.Key]
		if v == nil {
			v = &resv{}
			byKey[r.Key] = v
		}
		v.sent = true
		if r.Acked {
			l.RequestsAcked++
			v.acked = true
			v.approvalAcked = v.approvalAcked || r.Approve
		}
	}
	type found struct{ events, approved int }
	events := map[string]*found{}
	for _, ev := range in.Events {
		if ev.RequestKey == "" {
			continue
		}
		f := events[ev.RequestKey]
		if f == nil {
			f = &found{}
			events[ev.RequestKey] = f
		}
		f.events++
		if ev.Approved && !ev.Cancelled {
			f.approved++
		}
	}
	for key, v := range byKey {
		l.ReservationsSent++
		f := events[key]
		if f != nil {
			l.Found++
			if f.events > 1 {
				l.Duplicated++
			}
		}
		if v.acked {
			l.ReservationsAcked++
			if f == nil {
				l.Lost++
			}
		}
		if v.approvalAcked {
			l.ApprovalsAcked++
			if f == nil || f.approved == 0 {
				l.ApprovalsLost++
			}
		}
	}
}

// countManual counts the manual events and their forms.
func (l *Ledger) countManual(in ledgerInput) {
	byID := map[[2]string]calEvent{}
	for _, ev := range in.Events {
		byID[[2]string{ev.Calendar, ev.ID}] = ev
	}
	known := map[formKey]bool{}
	for _, m := range in.Manual {
		l.ManualAdded++
		known[m.Form] = true
		ev, ok := byID[[2]string{m.Calendar, m.ID}]
		forms := in.Forms[m.Form]
		if len(forms) > 0 {
			l.FormsDelivered++
		}
		switch {
		case ok && ev.Approved:
			l.ManualApproved++
			l.ManualSeen++
			if len(forms) == 0 {
				l.FormsMissing++
			}
		default:
			l.ManualUnapproved++
			if len(forms) > 0 {
				l.ManualSeen++
			}
		}
		for i := 1; i < len(forms); i++ {
			if inCrashWindow(forms[i-1], forms[i], in.Kills, in.CrashWindow) {
				l.FormsCrashWindow++
			} else {
				l.FormsDuplicated++
			}
		}
	}
	for k, forms := range in.Forms {
		if !known[k] {
			l.FormsStray += len(forms)
		}
	}
}

// inCrashWindow reports whether a repeat (delivered at again) of a form
// first accepted at first is explained by a kill that landed between the
// two, at most window after first.
func inCrashWindow(first, again time.Time, kills []time.Time, window time.Duration) bool {
	return slices.ContainsFunc(kills, func(k time.Time) bool {
		return !k.Before(first) && k.Before(again) && k.Sub(first) <= window
	})
}
