package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"unicode/utf8"
)

// Report is what one scenario measured.
type Report struct {
	Scenario string          `json:"scenario"`
	Mode     string          `json:"mode"` // "quick" or "full"
	Settings string          `json:"settings"`
	Loads    []*LoadStats    `json:"loads,omitempty"`
	Facts    []Fact          `json:"facts,omitempty"`
	Checks   []Check         `json:"checks,omitempty"`
	Ledger   *Ledger         `json:"ledger,omitempty"`
	Capacity *CapacityLedger `json:"capacity_ledger,omitempty"`
	Notes    []string        `json:"notes,omitempty"`
	Error    string          `json:"error,omitempty"`
}

// Fact is one measured figure.
type Fact struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit,omitempty"`
}

// Check compares a figure with its target. A failed correctness check
// (Hard) makes the bench exit non-zero; a missed performance target is
// reported only.
type Check struct {
	Name   string `json:"name"`
	Target string `json:"target"`
	Value  string `json:"value"`
	OK     bool   `json:"ok"`
	Hard   bool   `json:"correctness"`
}

func (r *Report) fact(name string, v float64, unit string) {
	r.Facts = append(r.Facts, Fact{Name: name, Value: v, Unit: unit})
}

func (r *Report) check(name, target, value string, ok, hard bool) {
	r.Checks = append(r.Checks, Check{Name: name, Target: target, Value: value, OK: ok, Hard: hard})
}

func (r *Report) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// Failed reports whether the scenario broke (error) or found a correctness
// problem.
func (r *Report) Failed() bool {
	if r.Error != "" {
		return true
	}
	for _, c := range r.Checks {
		if c.Hard && !c.OK {
			return true
		}
	}
	return false
}

// print writes the compact tables of one report.
func (r *Report) print(w io.Writer) {
	fmt.Fprintf(w, "\n== %s (%s) %s\n", r.Scenario, r.Mode, r.Settings)
	if len(r.Loads) > 0 {
		// Numbers right-aligned; the run names padded to one width, so
		// they read left-aligned.
		width := len("run")
		for _, l := range r.Loads {
			width = max(width, utf8.RuneCountInString(l.Name))
		}
		pad := func(s string) string { return s + strings.Repeat(" ", width-utf8.RuneCountInString(s)) }
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "  %s\tclients\trequests\treq/s\tp50 ms\tp95 ms\tp99 ms\tp99.9 ms\tmax ms\t errors\n", pad("run"))
		for _, l := range r.Loads {
			fmt.Fprintf(tw, "  %s\t%d\t%d\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t%.1f\t %s\n",
				pad(l.Name), l.Clients, l.Requests, l.RPS, l.P50ms, l.P95ms, l.P99ms, l.P999ms, l.MaxMs, errorText(l))
		}
		tw.Flush()
	}
	if len(r.Facts) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, f := range r.Facts {
			fmt.Fprintf(tw, "  %s\t%s %s\n", f.Name, num(f.Value), f.Unit)
		}
		tw.Flush()
	}
	if l := r.Ledger; l != nil {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "ledger: reservations\tsent\tacknowledged (200)\tfound in the calendar\tlost\tduplicated\tapprovals acknowledged\tapprovals lost\t")
		fmt.Fprintf(tw, "\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", l.ReservationsSent, l.ReservationsAcked, l.Found, l.Lost, l.Duplicated, l.ApprovalsAcked, l.ApprovalsLost)
		fmt.Fprintf(tw, "(requests)\t%d\t%d\t\t\t\t\t\t\n", l.RequestsSent, l.RequestsAcked)
		tw.Flush()
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "ledger: manual events\tadded\tseen\tapproved\tnot approved\tforms delivered\tapproved without form\tforms duplicated\trepeated in the documented crash window\tstray forms\t")
		fmt.Fprintf(tw, "\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", l.ManualAdded, l.ManualSeen, l.ManualApproved, l.ManualUnapproved,
			l.FormsDelivered, l.FormsMissing, l.FormsDuplicated, l.FormsCrashWindow, l.FormsStray)
		tw.Flush()
	}
	if c := r.Capacity; c != nil {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "ledger: capacity races	rounds	approvals	200	409	unanswered	409 not naming a full day	days ≠ min(capacity, people)	200 without desk	409 with desk	freed desk not to one	")
		fmt.Fprintf(tw, "\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", c.RaceRounds, c.Approvals, c.Accepted, c.Refused, c.Unanswered,
			c.RefusedWrongly, c.RaceDaysWrong, c.AcceptedLost, c.RefusedHeld, c.FreedWrong)
		tw.Flush()
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "ledger: capacity waitlist	added	waitlisted at SIGKILL	approved	expected	still waiting	out of order	without form	forms duplicated	repeated in the crash window	forms while waiting	")
		fmt.Fprintf(tw, "\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", c.ManualAdded, c.WaitlistedAtKill, c.Promoted, c.PromotedExpected, c.StillWaitlisted,
			c.OutOfOrder, c.FormsMissing, c.FormsDuplicated, c.FormsCrashWindow, c.FormsWaitlisted)
		tw.Flush()
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "ledger: capacity days	capacity	days with desks taken	most taken	over capacity	\n")
		fmt.Fprintf(tw, "\t%d\t%d\t%d\t%d\t\n", c.Capacity, c.DaysHeld, c.MostTaken, c.DaysOver)
		tw.Flush()
	}
	if len(r.Checks) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  check\ttarget\tmeasured\tresult")
		for _, c := range r.Checks {
			res := "ok"
			switch {
			case !c.OK && c.Hard:
				res = "FAILED"
			case !c.OK:
				res = "MISSED"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", c.Name, c.Target, c.Value, res)
		}
		tw.Flush()
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	if r.Error != "" {
		fmt.Fprintf(w, "  ERROR: %s\n", r.Error)
	}
}

// errorText is "0", or the count with what the failures were.
func errorText(l *LoadStats) string {
	if l.Errors == 0 {
		return "0"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(l.Statuses)) {
		parts = append(parts, fmt.Sprintf("%s×%d", k, l.Statuses[k]))
	}
	return fmt.Sprintf("%d (%s)", l.Errors, strings.Join(parts, ", "))
}

// num prints integers without decimals and others with up to two.
func num(v float64) string {
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.2f", v)
}

// errorsCheck adds one check: no request of any run failed.
func errorsCheck(r *Report) {
	n, runs := 0, 0
	for _, l := range r.Loads {
		n += l.Errors
		if l.Errors > 0 {
			runs++
		}
	}
	r.check("failed requests", "0", fmt.Sprintf("%d (in %d of %d runs)", n, runs, len(r.Loads)), n == 0, false)
}
