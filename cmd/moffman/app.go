package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/auth"
	"github.com/moffman/moffman/byroapi"
	"github.com/moffman/moffman/config"
	"github.com/moffman/moffman/httpapi"
	"github.com/moffman/moffman/metrics"
	"github.com/moffman/moffman/notify"
	"github.com/moffman/moffman/web"
)

// app is the wired service: newApp builds it, Run runs it until its
// context is done, Close releases what newApp opened.
type app struct {
	cfg      *config.Config
	logger   *slog.Logger
	backend  *backend
	reloader *moffman.Reloader
	manual   *moffman.ManualSync
	notify   *notify.Service // nil: no notifications configured
	server   *http.Server
	open     bool // tokens are not configured: anyone who reaches the API may use it
}

// newApp opens the backend and wires the core, the API and the page to it.
// It starts nothing; on error, what it opened is closed.
func newApp(ctx context.Context, cfg *config.Config, logger *slog.Logger, opts backendOptions) (*app, error) {
	mets := metrics.New()
	b, err := openBackend(ctx, cfg, logger, mets, opts)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, logger: logger, backend: b}
	if err := a.wire(mets); err != nil {
		return nil, errors.Join(err, a.Close())
	}
	return a, nil
}

// writeTimeout bounds writing an answer; the request log counts an
// answer cut by it as failed (httpapi.Server.WriteTimeout).
const writeTimeout = 60 * time.Second

// wire builds the core's services on the backend, measured, and the HTTP
// server in front of them.
func (a *app) wire(mets *metrics.Metrics) error {
	cfg, logger, state := a.cfg, a.logger, a.backend.state
	measured := mets.WrapCalendar(a.backend.calendar, a.backend.system)
	var calendar moffman.Calendar = measured
	directory := moffman.NewDirectory(cfg.DirectoryLists())
	a.reloader = &moffman.Reloader{Source: mets.WrapSource(a.backend.source), Directory: directory, Store: state, Calendar: calendar, Logger: logger}
	colors := moffman.Colors{
		Unapproved: strconv.Itoa(cfg.Calendar.Colors.Unapproved),
		Approved:   strconv.Itoa(cfg.Calendar.Colors.Approved),
		Waitlisted: strconv.Itoa(cfg.Calendar.Colors.Waitlisted),
	}
	health := &moffman.Health{}
	for i, check := range a.backend.checks { // Calendar's and Sheets' credentials
		health.Watch(fmt.Sprintf("%s %d", moffman.ReasonCredentials, i+1), check)
	}
	reservations := &moffman.Reservations{
		Calendar: calendar, Directory: directory, Colors: colors,
		MaxDays: cfg.Calendar.MaxReservationDays, Logger: logger,
		Account: a.backend.account, Health: health, Lock: a.backend.capacityLock,
	}
	forms, err := formIssuer(cfg)
	if err != nil {
		return err
	}
	a.manual = &moffman.ManualSync{
		Calendar: calendar, Store: state, Directory: directory, Colors: colors, Forms: mets.WrapForms(forms),
		CheckMin: cfg.Calendar.CheckingRange.Min, CheckMax: cfg.Calendar.CheckingRange.Max,
		Interval: time.Duration(cfg.General.ManualCalendarCheckInterval) * time.Second,
		Logger:   logger, Holder: a.backend.holder, Health: health,
		// A step must outlast the form request it makes.
		StepTimeout:  max(5*time.Minute, cfg.Forms.Timeout+time.Minute),
		Reservations: reservations,
	}
	// A cancellation or a changed capacity may give waitlisted events their desks.
	reservations.RoomFreed, a.reloader.RoomFreed = a.manual.RoomFreed, a.manual.RoomFreed
	mets.WatchSync(a.manual)
	mets.WatchCapacity(a.manual)
	if err := a.wireNotifications(reservations, mets); err != nil {
		return err
	}
	tokens, err := apiTokens(cfg.RESTAPI.Tokens)
	if err != nil {
		return err
	}
	a.open = len(tokens) == 0
	api := &httpapi.Server{
		Reservations: reservations, Directory: directory, Reloader: a.reloader, Sync: a.manual,
		Notifications: a.notificationStatus,
		Auth:          auth.NewAuth(tokens), Logger: logger,
		Observer: mets, MetricsHandler: mets.Handler(), Proxies: proxyPolicy(cfg),
		Ready: func(ctx context.Context) error {
			if err := state.Ping(ctx); err != nil {
				return fmt.Errorf("the store does not answer: %w", err)
			}
			if err := health.Err(); err != nil {
				return errors.New(moffman.ErrorMessage(err))
			}
			if err := measured.LastError(); err != nil {
				return fmt.Errorf("the calendar backend was unreachable on its last call: %s", moffman.ErrorMessage(err))
			}
			return nil
		},
	}
	// The "who's in" page at / reads the same services and accepts the same tokens.
	api.Web = &web.Handler{Directory: directory, Reservations: reservations, Auth: api.Auth, Logger: logger, PublicURL: publicURL(cfg)}
	api.WriteTimeout = writeTimeout
	a.server = &http.Server{
		Handler:           api.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	return nil
}

// wireNotifications records notifications in the store's outbox when any
// destination is configured; the leader's background work delivers them.
func (a *app) wireNotifications(reservations *moffman.Reservations, mets *metrics.Metrics) error {
	outbox, ok := a.backend.state.(moffman.Outbox)
	svc, err := notify.New(a.cfg.Notifications, outbox, notify.Options{Logger: a.logger})
	if err != nil {
		return err
	}
	if !svc.Enabled() {
		return nil
	}
	if !ok {
		return errors.New("notifications: this store keeps no outbox for them")
	}
	a.notify, reservations.Notifier, a.manual.Notifier = svc, svc, svc
	mets.WatchNotifications(svc)
	return nil
}

// notificationStatus is what /api/v1/sync shows of the deliveries.
func (a *app) notificationStatus(ctx context.Context) (any, error) {
	if a.notify == nil {
		return []notify.DestinationStatus{}, nil
	}
	return a.notify.Status(ctx)
}

// Run loads the lists, listens and serves until ctx is done, with the
// manual-event sync and the periodic reload beside the server; then it
// finishes the requests under way (up to rest_api.shutdown_timeout) and
// returns once every goroutine it started has ended.
func (a *app) Run(ctx context.Context) error {
	if err := a.reloader.Restore(ctx); err != nil {
		return err
	}
	if err := a.reloader.Reload(ctx); err != nil {
		a.logger.Error("initial configuration load failed; continuing with the lists at hand", "error", err)
	}
	addr := net.JoinHostPort(a.cfg.RESTAPI.Addr, strconv.Itoa(a.cfg.RESTAPI.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("rest_api: cannot listen on %s: %w", addr, err)
	}
	if a.open && !isLoopback(ln.Addr()) {
		a.logger.Warn("the API is open to anyone who reaches " + ln.Addr().String() + ": configure rest_api.tokens, or listen on 127.0.0.1")
	}
	a.logger.Info("moffman started", "version", buildVersion(), "backend", a.backend.description,
		"address", a.scheme()+"://"+ln.Addr().String(), "offices", len(a.reloader.Directory.Offices()))

	// The background work stops with ctx, or when the server fails; a sync
	// step under way finishes first (ManualSync runs each step to its end).
	// With replicas on one database only the leader does it; the others
	// serve the API, and follow the lists the leader reloads.
	g, bg := errgroup.WithContext(ctx)
	g.Go(func() error { return a.serve(bg, ln) })
	g.Go(func() error { return a.backend.lead(bg, a.lead) })
	if every := reloadInterval(a.cfg); every > 0 && a.backend.shared {
		g.Go(func() error { restoreEvery(bg, a.reloader, every, a.logger); return nil })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	a.logger.Info("stopped")
	return nil
}

// lead is the background work of the replica that leads: the manual-event
// sync, the deliveries of notifications and the periodic reload, until ctx
// ends.
func (a *app) lead(ctx context.Context) {
	var g errgroup.Group
	g.Go(func() error { return a.manual.Run(ctx) })
	if a.notify != nil {
		g.Go(func() error { return a.notify.Run(ctx) })
	}
	if every := reloadInterval(a.cfg); every > 0 {
		g.Go(func() error { reloadEvery(ctx, a.reloader, every); return nil })
	}
	_ = g.Wait() // neither fails: they log and retry
}

// serve serves HTTP on ln until ctx is done, then shuts the server down
// gracefully.
func (a *app) serve(ctx context.Context, ln net.Listener) error {
	serveErr := make(chan error, 1)
	go func() { serveErr <- a.serveOn(ln) }()
	select {
	case err := <-serveErr:
		return err // Serve returns only on a failure before Shutdown
	case <-ctx.Done():
	}
	timeout := a.cfg.RESTAPI.ShutdownTimeout
	a.logger.Info("shutting down: finishing requests under way", "timeout", timeout)
	shutCtx, done := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer done()
	err := a.server.Shutdown(shutCtx)
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("requests still running after rest_api.shutdown_timeout (%s) were cut off", timeout)
	}
	<-serveErr // http.ErrServerClosed, now that Shutdown has returned
	return err
}

// Close releases the backend. Call it after Run has returned.
func (a *app) Close() error { return a.backend.state.Close() }

// apiTokens turns the configured tokens into the API's hashed tokens.
func apiTokens(list []config.Token) ([]auth.Token, error) {
	var out []auth.Token
	for _, t := range list {
		tok := auth.Token{Name: t.Name}
		if t.Token != "" {
			tok.SHA256 = sha256.Sum256([]byte(t.Token))
		} else if b, err := hex.DecodeString(t.TokenSHA256); err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("rest_api.tokens: token %q: token_sha256 must be 64 hex digits", t.Name)
		} else {
			copy(tok.SHA256[:], b)
		}
		for _, s := range t.Scopes {
			tok.Scopes = append(tok.Scopes, auth.Scope(s))
		}
		out = append(out, tok)
	}
	return out, nil
}

func isLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// formIssuer is the Byroapi client, or nil when forms are not configured
// (manual events are then approved without a form).
func formIssuer(cfg *config.Config) (moffman.FormIssuer, error) {
	f := cfg.Forms
	if f.Template == nil || f.URL == nil {
		return nil, nil
	}
	c, err := byroapi.New(byroapi.Config{
		Template: *f.Template, URL: *f.URL,
		DateFormat: f.DateFormat, AttachmentDateFormat: f.AttachmentDateFormat,
		EndDateCorrective: cfg.Calendar.EndDateCorrective, CCToCreator: f.CCToCreator,
		From: f.Email.From, To: f.Email.To, CC: f.Email.CC,
		Subject: f.Email.Subject, Contents: f.Email.Contents, Attachments: f.Email.Attachments,
		Timeout: f.Timeout, // bounds each request; no client timeout beside it
	}, &http.Client{})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// reloadInterval is how often the spreadsheet lists are reloaded: the
// shorter of the two update intervals, 0 for only at start and on request.
func reloadInterval(cfg *config.Config) time.Duration {
	var every time.Duration
	for _, src := range []config.SheetSource{cfg.Offices.GoogleConfig, cfg.ManualUsers.GoogleConfig} {
		if src.Enabled() && src.UpdateInterval != nil {
			d := time.Duration(*src.UpdateInterval) * time.Second
			if every == 0 || d < every {
				every = d
			}
		}
	}
	return every
}

func reloadEvery(ctx context.Context, r *moffman.Reloader, every time.Duration) {
	tick(ctx, every, func() { _ = r.Refresh(ctx) }) // logged by Refresh; the last good lists stay
}

// restoreEvery reads the lists the leader last saved, so every replica
// serves the same offices and manual users.
func restoreEvery(ctx context.Context, r *moffman.Reloader, every time.Duration, logger *slog.Logger) {
	tick(ctx, every, func() {
		if err := r.Restore(ctx); err != nil && ctx.Err() == nil {
			logger.Warn("reading the lists the leader saved failed; keeping the current ones", "error", err)
		}
	})
}

// tick calls f every interval until ctx is done.
func tick(ctx context.Context, every time.Duration, f func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}
