package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// Targets of paged reads (issue 12): the walk of 100,000 reservations in
// pages of 1,000, and the first page of the open window.
const (
	targetWalkSeconds     = 10
	targetFirstPageMillis = 200
	pagedLimit            = 1000
)

// readPagedScenario walks one office of 100,000 reservations page by
// page over the open window, checking that each reservation comes once
// and in order, and times the first page alone.
func readPagedScenario(ctx context.Context, e *env, r *Report) error {
	events := 100_000
	if e.opt.quick {
		events = 20_000
	}
	client := newHTTPClient(1)
	defer client.CloseIdleConnections()
	offices := benchOffices(1, "bench.local")
	r.Settings = fmt.Sprintf("%d events in one office over 2026, pages of %d, 1 client", events, pagedLimit)
	srv, err := e.seededServer(ctx, r, "read-paged", offices, events)
	if err != nil {
		return err
	}
	defer func() { srv.kill() }()

	list := fmt.Sprintf("%s/api/v1/offices/%s/reservations?from=0001-01-01&to=9999-12-31&limit=%d", srv.base, url.PathEscape(offices[0].Name), pagedLimit)
	type page struct {
		Reservations []struct {
			ID    string `json:"id"`
			Start string `json:"start"`
		} `json:"reservations"`
		Next string `json:"next_page_token"`
	}
	get := func(u string) (page, time.Duration, error) {
		start := time.Now()
		status, body, err := do(ctx, client, http.MethodGet, u, nil)
		took := time.Since(start)
		if err != nil || status != http.StatusOK {
			return page{}, took, fmt.Errorf("GET %s: %d, %v: %.200s", u, status, err, body)
		}
		var p page
		return p, took, json.Unmarshal(body, &p)
	}

	// The first page, alone: the median and the worst of 20.
	var firsts []time.Duration
	for range 20 {
		p, took, err := get(list)
		if err != nil {
			return err
		}
		if len(p.Reservations) != pagedLimit || p.Next == "" {
			return fmt.Errorf("first page: %d reservations, next %q", len(p.Reservations), p.Next)
		}
		firsts = append(firsts, took)
	}
	slices.Sort(firsts)
	worst := firsts[len(firsts)-1]
	r.fact("first page of the open window, median of 20", float64(firsts[len(firsts)/2].Microseconds())/1000, "ms")
	r.check("first page of the open window (worst of 20)", fmt.Sprintf("≤ %d ms", targetFirstPageMillis),
		fmt.Sprintf("%.1f ms", float64(worst.Microseconds())/1000), worst <= targetFirstPageMillis*time.Millisecond, false)

	// The walk.
	e.logf("walking %d reservations in pages of %d", events, pagedLimit)
	seen := make(map[string]bool, events)
	var lastStart, lastID string
	pages, inOrder, slowest := 0, true, time.Duration(0)
	t := time.Now()
	for u := list; ; {
		p, took, err := get(u)
		if err != nil {
			return err
		}
		pages++
		slowest = max(slowest, took)
		for _, res := range p.Reservations {
			if seen[res.ID] {
				r.note("reservation %s came twice", res.ID)
			}
			seen[res.ID] = true
			if res.Start < lastStart || (res.Start == lastStart && res.ID <= lastID) {
				inOrder = false
			}
			lastStart, lastID = res.Start, res.ID
		}
		if p.Next == "" {
			break
		}
		u = list + "&page_token=" + url.QueryEscape(p.Next)
	}
	walk := time.Since(t)
	walkPeak := srv.mem.Peak()
	r.fact("pages walked", float64(pages), "")
	r.fact("slowest page of the walk", float64(slowest.Microseconds())/1000, "ms")
	r.check("reservations seen once each, in order", fmt.Sprintf("%d", events),
		fmt.Sprintf("%d distinct, in order: %v", len(seen), inOrder), len(seen) == events && inOrder, true)
	r.check(fmt.Sprintf("walk of %d reservations in pages of %d", events, pagedLimit), fmt.Sprintf("≤ %d s", targetWalkSeconds),
		fmt.Sprintf("%.2f s", walk.Seconds()), walk <= targetWalkSeconds*time.Second, false)

	// The feed of a month (about a twelfth of the office), and of the
	// year, which holds more than moffman.MaxVisits and is refused.
	for _, u := range []string{
		srv.base + "/api/v1/offices/" + url.PathEscape(offices[0].Name) + "/calendar.ics?from=2026-06-01&to=2026-07-01",
		srv.base + "/api/v1/offices/" + url.PathEscape(offices[0].Name) + "/calendar.ics?from=2026-01-01&to=2027-01-01",
	} {
		start := time.Now()
		status, body, err := do(ctx, client, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		r.note("GET %s: %d, %d KB in %.0f ms", u[len(srv.base):], status, len(body)>>10, float64(time.Since(start).Microseconds())/1000)
	}
	r.check("server RSS peak (VmHWM) after the walk", fmt.Sprintf("≤ %d MB", targetPeakRSSMB), fmt.Sprintf("%.1f MB", mb(walkPeak)), mb(walkPeak) <= targetPeakRSSMB, false)
	r.fact("server RSS peak (VmHWM) after the feeds too", mb(srv.mem.Peak()), "MB")
	return nil
}
