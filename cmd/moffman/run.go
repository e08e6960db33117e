package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/auth"
	"github.com/moffman/moffman/byroapi"
	"github.com/moffman/moffman/config"
	"github.com/moffman/moffman/google"
	"github.com/moffman/moffman/httpapi"
	"github.com/moffman/moffman/metrics"
	"github.com/moffman/moffman/sqlite"
	"github.com/moffman/moffman/web"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}

const usage = `moffman keeps the planned office attendance of teams working from several offices.

Usage:
  moffman [--config FILE] [--section--key VALUE ...]   run the service
  moffman --get-config-template FILE                   write the commented default configuration
  moffman --check-config [--config FILE] [...]         validate and print the effective configuration
  moffman --version | --help

Every configuration key can also be set with an environment variable
(MOFFMAN_REST_API__PORT=9000) or an option (--rest-api--port 9000).
Later layers win: defaults < --config file < environment < options.
`

// run is the whole program; main only supplies the process's context,
// arguments, environment and output streams.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	own, overrides := config.SplitArgs(args)
	fs := flag.NewFlagSet("moffman", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	configFile := fs.String("config", "", "configuration file (YAML)")
	templateFile := fs.String("get-config-template", "", "write the commented default configuration to `FILE` (- for standard output) and exit")
	checkConfig := fs.Bool("check-config", false, "validate the configuration, print it with secrets masked, and exit")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(own); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; see moffman --help", fs.Arg(0))
	}
	switch {
	case *showVersion:
		fmt.Fprintln(stdout, "moffman", buildVersion())
		return nil
	case *templateFile != "":
		return writeTemplate(*templateFile, stdout)
	}

	cfg, err := config.Load(config.LoadOptions{File: *configFile, Environ: environ, Args: overrides})
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%v", err)
	}
	if *checkConfig {
		out, err := cfg.Masked()
		if err != nil {
			return err
		}
		_, err = stdout.Write(out)
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.SlogLevel()}))
	return serve(ctx, cfg, logger)
}

func writeTemplate(path string, stdout io.Writer) error {
	if path == "-" {
		_, err := stdout.Write(config.Template)
		return err
	}
	if err := os.WriteFile(path, config.Template, 0o644); err != nil {
		return fmt.Errorf("writing the configuration template: %w", err)
	}
	return nil
}

// serve wires the service together and runs it until ctx is done.
func serve(ctx context.Context, cfg *config.Config, logger *slog.Logger) error {
	storagePath := ""
	if cfg.General.StoragePath != nil {
		storagePath = *cfg.General.StoragePath
	}
	store, err := sqlite.Open(ctx, storagePath)
	if err != nil {
		return err
	}
	defer store.Close()
	for _, ext := range []string{".dat", ".dir", ".db", ".pag"} {
		if _, err := os.Stat(storagePath + ext); storagePath != "" && err == nil {
			logger.Warn("found " + storagePath + ext + ", likely the Python moffman's dbm store; moffman does not read it: the first sync lists the checking range instead")
			break
		}
	}

	mets := metrics.New()
	var calendar moffman.Calendar = store
	backend, system := "embedded store ("+describeStorage(storagePath)+")", "embedded"
	var source moffman.DirectorySource
	if cfg.GoogleAPI.ServiceAccountKeyPath != nil {
		keyPath := *cfg.GoogleAPI.ServiceAccountKeyPath
		key, err := os.ReadFile(keyPath)
		if err != nil {
			return fmt.Errorf("google_api.service_account_key_path: cannot read the key file: %w", err)
		}
		opts := google.Options{
			KeyJSON: key, CalendarEndpoint: cfg.GoogleAPI.CalendarEndpoint, SheetsEndpoint: cfg.GoogleAPI.SheetsEndpoint,
			Logger: logger, OnCall: func(api, method, outcome string) { mets.ObserveAttempt(api, method, outcome) },
		}
		gcal, err := google.NewCalendar(ctx, opts)
		if err != nil {
			return fmt.Errorf("google_api.service_account_key_path %s: %w", keyPath, err)
		}
		calendar, system = gcal, "google"
		backend = "Google Calendar as " + gcal.Account() + " at " + cfg.GoogleAPI.CalendarEndpoint
		if offices, users := sheetRange(cfg.Offices.GoogleConfig), sheetRange(cfg.ManualUsers.GoogleConfig); offices != (google.SheetRange{}) || users != (google.SheetRange{}) {
			if source, err = google.NewSheets(ctx, opts, offices, users); err != nil {
				return err
			}
		}
	} else if cfg.Offices.GoogleConfig.Enabled() || cfg.ManualUsers.GoogleConfig.Enabled() {
		logger.Warn("a spreadsheet is configured (google_config), but without google_api.service_account_key_path it cannot be read; only the static lists are used")
	}

	measured := mets.WrapCalendar(calendar, system)
	calendar = measured
	source = mets.WrapSource(source)

	directory := moffman.NewDirectory(cfg.DirectoryLists())
	reloader := &moffman.Reloader{Source: source, Directory: directory, Store: store, Calendar: calendar, Logger: logger}
	if err := reloader.Restore(ctx); err != nil {
		return err
	}
	if err := reloader.Reload(ctx); err != nil {
		logger.Error("initial configuration load failed; continuing with the lists at hand", "error", err)
	}
	colors := moffman.Colors{
		Unapproved: strconv.Itoa(cfg.Calendar.Colors.Unapproved),
		Approved:   strconv.Itoa(cfg.Calendar.Colors.Approved),
	}
	reservations := &moffman.Reservations{
		Calendar: calendar, Directory: directory, Colors: colors,
		MaxDays: cfg.Calendar.MaxReservationDays, Logger: logger,
	}
	forms, err := formIssuer(cfg)
	if err != nil {
		return err
	}
	forms = mets.WrapForms(forms)
	manual := &moffman.ManualSync{
		Calendar: calendar, Store: store, Directory: directory, Colors: colors, Forms: forms,
		CheckMin: cfg.Calendar.CheckingRange.Min, CheckMax: cfg.Calendar.CheckingRange.Max,
		Interval: time.Duration(cfg.General.ManualCalendarCheckInterval) * time.Second,
		Logger:   logger,
	}
	mets.WatchSync(manual)
	tokens, err := apiTokens(cfg.RESTAPI.Tokens)
	if err != nil {
		return err
	}
	api := &httpapi.Server{
		Reservations: reservations, Directory: directory, Reloader: reloader, Sync: manual,
		Auth: auth.NewAuth(tokens), Logger: logger,
		Observer: mets, MetricsHandler: mets.Handler(),
		Ready: func(ctx context.Context) error {
			if err := store.Ping(ctx); err != nil {
				return fmt.Errorf("the store does not answer: %w", err)
			}
			if err := measured.LastError(); err != nil {
				return fmt.Errorf("the calendar backend was unreachable on its last call: %s", moffman.ErrorMessage(err))
			}
			return nil
		},
	}
	// The "who's in" page at / reads the same services and accepts the same tokens.
	api.Web = &web.Handler{Directory: directory, Reservations: reservations, Auth: api.Auth, Logger: logger}

	addr := net.JoinHostPort(cfg.RESTAPI.Addr, strconv.Itoa(cfg.RESTAPI.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("rest_api: cannot listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           api.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if len(tokens) == 0 && !isLoopback(ln.Addr()) {
		logger.Warn("the API is open to anyone who reaches " + ln.Addr().String() + ": configure rest_api.tokens, or listen on 127.0.0.1")
	}
	logger.Info("moffman started", "version", buildVersion(), "backend", backend,
		"address", "http://"+ln.Addr().String(), "offices", len(directory.Offices()))

	// The background work stops with ctx; a sync step under way finishes
	// first (ManualSync runs each step to its end).
	bg, stopBackground := context.WithCancel(ctx)
	defer stopBackground()
	var wg sync.WaitGroup
	wg.Go(func() { _ = manual.Run(bg) })
	if every := reloadInterval(cfg); every > 0 {
		wg.Go(func() { reloadEvery(bg, reloader, every) })
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err = <-serveErr:
	case <-ctx.Done():
		logger.Info("shutting down: finishing requests under way", "timeout", cfg.RESTAPI.ShutdownTimeout)
		shutCtx, done := context.WithTimeout(context.Background(), cfg.RESTAPI.ShutdownTimeout)
		err = srv.Shutdown(shutCtx)
		done()
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("requests still running after rest_api.shutdown_timeout (%s) were cut off", cfg.RESTAPI.ShutdownTimeout)
		}
	}
	stopBackground()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	if err == nil {
		logger.Info("stopped")
	}
	return err
}

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

func describeStorage(path string) string {
	if path == "" {
		return "in memory"
	}
	return path
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
	}, &http.Client{Timeout: byroapi.DefaultTimeout})
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
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = r.Refresh(ctx) // logged by Refresh; the last good lists stay
		}
	}
}

func sheetRange(s config.SheetSource) google.SheetRange {
	if !s.Enabled() {
		return google.SheetRange{}
	}
	return google.SheetRange{SpreadsheetID: *s.SheetID, Range: *s.Range}
}
