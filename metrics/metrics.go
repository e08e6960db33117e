// Package metrics exposes moffman's Prometheus metrics. It decorates the
// core's ports (Calendar, FormIssuer, DirectorySource) so that every
// backend is measured the same way, and reads the sync status at scrape
// time, so the core knows nothing of Prometheus.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/moffman/moffman"
)

// Metrics holds moffman's collectors in their own registry.
type Metrics struct {
	reg *prometheus.Registry

	requests       *prometheus.CounterVec
	requestSeconds *prometheus.HistogramVec
	calls          *prometheus.CounterVec
	callSeconds    *prometheus.HistogramVec
	retries        *prometheus.CounterVec
	forms          *prometheus.CounterVec
	reloads        *prometheus.CounterVec
}

// New returns metrics registered in a fresh registry, with the Go runtime
// and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moffman_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"route", "method", "status"}),
		requestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "moffman_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route", "method"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moffman_backend_calls_total", Help: "Calls to outside systems (calendar, sheets, byroapi) by method and outcome.",
		}, []string{"system", "method", "outcome"}),
		callSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "moffman_backend_call_duration_seconds", Help: "Latency of calls to outside systems, retries included.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
		}, []string{"system", "method"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moffman_backend_retries_total", Help: "Retried attempts of calls to outside systems.",
		}, []string{"system", "method"}),
		forms: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moffman_forms_total", Help: "Form requests to Byroapi by result (delivered, failed).",
		}, []string{"result"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "moffman_config_reloads_total", Help: "Reloads of the spreadsheet lists by result.",
		}, []string{"result"}),
	}
	m.reg.MustRegister(m.requests, m.requestSeconds, m.calls, m.callSeconds, m.retries, m.forms, m.reloads,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveRequest records one HTTP request; route is the matched pattern.
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.requestSeconds.WithLabelValues(route, method).Observe(d.Seconds())
}

// ObserveAttempt records one attempt of a call as the Google adapter makes
// it: outcome "retry" counts a retried attempt.
func (m *Metrics) ObserveAttempt(system, method, outcome string) {
	if outcome == "retry" {
		m.retries.WithLabelValues(system, method).Inc()
	}
}

// observe records one call to an outside system.
func (m *Metrics) observe(system, method string, start time.Time, err error) {
	outcome := "ok"
	if err != nil {
		outcome = string(moffman.ErrorCode(err))
	}
	m.calls.WithLabelValues(system, method, outcome).Inc()
	m.callSeconds.WithLabelValues(system, method).Observe(time.Since(start).Seconds())
}

// SyncStatus is what the manual-event sync reports.
type SyncStatus interface {
	Status(ctx context.Context) ([]moffman.OfficeSyncStatus, error)
}

// WatchSync exposes the sync status (runs, durations, job queue, forms) as
// gauges read at scrape time.
func (m *Metrics) WatchSync(s SyncStatus) {
	m.reg.MustRegister(&syncCollector{status: s})
}

var (
	syncLastRun = prometheus.NewDesc("moffman_sync_last_run_timestamp_seconds",
		"When the office's last manual-event sync ran.", []string{"office"}, nil)
	syncDuration = prometheus.NewDesc("moffman_sync_last_duration_seconds",
		"How long the office's last sync took.", []string{"office"}, nil)
	syncOK = prometheus.NewDesc("moffman_sync_last_success",
		"1 when the office's last sync succeeded, 0 when it failed.", []string{"office"}, nil)
	syncApproved = prometheus.NewDesc("moffman_manual_events_approved_total",
		"Manual events approved since start.", []string{"office"}, nil)
	syncForms = prometheus.NewDesc("moffman_manual_forms_delivered_total",
		"Approval forms delivered since start.", []string{"office"}, nil)
	jobsPending = prometheus.NewDesc("moffman_jobs_pending",
		"Manual-event jobs not finished yet, the waitlisted ones left out.", []string{"office"}, nil)
	jobsWaitlisted = prometheus.NewDesc("moffman_jobs_waitlisted",
		"Manual-event jobs waiting for a desk in a full office (no form sent yet).", []string{"office"}, nil)
	jobsNeedsOperator = prometheus.NewDesc("moffman_jobs_needs_operator",
		"Manual-event jobs waiting for an operator: their form requests had no answer.", []string{"office"}, nil)
	jobsOldest = prometheus.NewDesc("moffman_jobs_oldest_age_seconds",
		"Age of the oldest unfinished job, waitlisted ones left out (0 when none).", []string{"office"}, nil)
)

type syncCollector struct{ status SyncStatus }

func (c *syncCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{syncLastRun, syncDuration, syncOK, syncApproved, syncForms, jobsPending, jobsWaitlisted, jobsNeedsOperator, jobsOldest} {
		ch <- d
	}
}

func (c *syncCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list, err := c.status.Status(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(jobsPending, err)
		return
	}
	now := time.Now()
	for _, s := range list {
		gauge := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, s.Office)
		}
		if !s.LastRun.IsZero() {
			gauge(syncLastRun, float64(s.LastRun.Unix()))
			gauge(syncDuration, s.LastDuration.Seconds())
			ok := 1.0
			if s.LastError != "" {
				ok = 0
			}
			gauge(syncOK, ok)
		}
		ch <- prometheus.MustNewConstMetric(syncApproved, prometheus.CounterValue, float64(s.EventsApproved), s.Office)
		ch <- prometheus.MustNewConstMetric(syncForms, prometheus.CounterValue, float64(s.FormsDelivered), s.Office)
		gauge(jobsPending, float64(s.Jobs.Pending))
		gauge(jobsWaitlisted, float64(s.Jobs.Waitlisted))
		gauge(jobsNeedsOperator, float64(len(s.Jobs.NeedsOperator)))
		age := 0.0
		if !s.Jobs.Oldest.IsZero() {
			age = now.Sub(s.Jobs.Oldest).Seconds()
		}
		gauge(jobsOldest, age)
	}
}

// CapacityStatus is what the offices with a capacity report.
type CapacityStatus interface {
	Capacity(ctx context.Context) ([]moffman.OfficeCapacity, error)
}

// WatchCapacity exposes today's utilisation and the waitlist of every
// office with a capacity or closures, read at scrape time; offices without
// add no series.
func (m *Metrics) WatchCapacity(s CapacityStatus) {
	m.reg.MustRegister(&capacityCollector{status: s})
}

var (
	officeCapacity = prometheus.NewDesc("moffman_office_capacity",
		"Desks of the office (offices with a capacity only).", []string{"office"}, nil)
	officeApproved = prometheus.NewDesc("moffman_office_desks_taken",
		"Desks taken today: approved attendance and manual events given a desk.", []string{"office"}, nil)
	officeUtilisation = prometheus.NewDesc("moffman_office_utilisation_ratio",
		"Desks taken today over the capacity (1 when closed or the capacity is 0).", []string{"office"}, nil)
	officeWaitlist = prometheus.NewDesc("moffman_waitlist_length",
		"Manual events waiting for a desk, from today to the end of the checking range.", []string{"office"}, nil)
)

type capacityCollector struct{ status CapacityStatus }

func (c *capacityCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{officeCapacity, officeApproved, officeUtilisation, officeWaitlist} {
		ch <- d
	}
}

func (c *capacityCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list, err := c.status.Capacity(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(officeWaitlist, err)
		return
	}
	for _, o := range list {
		gauge := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, o.Office)
		}
		gauge(officeApproved, float64(o.Approved))
		gauge(officeWaitlist, float64(o.Waitlisted))
		if o.Capacity != nil {
			gauge(officeCapacity, float64(*o.Capacity))
		}
		switch {
		case o.Closed || (o.Capacity != nil && *o.Capacity == 0):
			gauge(officeUtilisation, 1)
		case o.Capacity != nil:
			gauge(officeUtilisation, float64(o.Approved)/float64(*o.Capacity))
		}
	}
}
