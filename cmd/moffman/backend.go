package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/moffman/moffman"
	"github.com/moffman/moffman/caldav"
	"github.com/moffman/moffman/config"
	"github.com/moffman/moffman/google"
	"github.com/moffman/moffman/metrics"
	"github.com/moffman/moffman/postgres"
	"github.com/moffman/moffman/sqlite"
)

// backend is what moffman stores on, as openBackend chose it from the
// configuration.
type backend struct {
	state       stateStore              // sync tokens, jobs, the last good lists
	calendar    moffman.Calendar        // the office calendars
	source      moffman.DirectorySource // the spreadsheet lists; nil: only the static lists
	system      string                  // the calendar's label in the metrics
	description string                  // how the start-up line names the calendar
	account     string                  // the account the calendar backend acts as, for messages
	// checks report conditions readiness must show, such as credentials
	// the calendar refuses; each returns nil while all is well.
	checks []func() error
	// lead runs work (the manual sync, the periodic reload) whenever this
	// replica leads, until ctx ends: at once and always with a store of
	// one process, under a lease in the database when replicas share it.
	lead func(ctx context.Context, work func(ctx context.Context)) error
	// holder names this replica in the lease and in job claims.
	holder string
	// shared: other replicas may use the same store, so the lists the
	// leader reloads reach the others through it.
	shared bool
	// capacityLock serialises approvals per office across the replicas
	// sharing the store; nil: an in-process lock, right for one process.
	capacityLock moffman.CapacityLock
}

// leaseName is the lease of the background work.
const leaseName = "background"

// backendOptions are settings only tests change.
type backendOptions struct {
	leaseTTL time.Duration // 0: postgres.DefaultLeaseTTL
}

// stateStore is the store moffman keeps its own state in.
type stateStore interface {
	moffman.StateStore
	Ping(ctx context.Context) error // for readiness
	Close() error
}

// openBackend chooses and opens the backend: this is the one place that
// knows which configuration keys select which adapter. The state (and the
// embedded calendars) live in PostgreSQL when general.database_url is set,
// else in the SQLite store at general.storage_path;
// google_api.service_account_key_path puts the calendars (and the
// spreadsheet lists) at Google instead. The caller closes b.state.
func openBackend(ctx context.Context, cfg *config.Config, logger *slog.Logger, mets *metrics.Metrics, opts backendOptions) (*backend, error) {
	b, err := openStore(ctx, cfg, logger, opts)
	if err != nil {
		return nil, err
	}
	store := b.state

	switch {
	case cfg.GoogleAPI.ServiceAccountKeyPath != nil:
		err = b.openGoogle(ctx, cfg, logger, mets)
	case cfg.CalDAV.URL != nil:
		err = b.openCalDAV(ctx, cfg, logger)
	case cfg.Offices.GoogleConfig.Enabled() || cfg.ManualUsers.GoogleConfig.Enabled():
		logger.Warn("a spreadsheet is configured (google_config), but without google_api.service_account_key_path it cannot be read; only the static lists are used")
	}
	if err != nil {
		return nil, errors.Join(err, store.Close())
	}
	return b, nil
}

// openStore opens the store of moffman's own state, which also holds the
// calendars unless another calendar backend is configured.
func openStore(ctx context.Context, cfg *config.Config, logger *slog.Logger, opts backendOptions) (*backend, error) {
	if cfg.General.DatabaseURL != nil {
		pg, err := postgres.Open(ctx, *cfg.General.DatabaseURL, postgres.WithLogger(logger))
		if err != nil {
			return nil, err
		}
		holder := postgres.NewHolderID()
		return &backend{state: pg, calendar: pg, system: "postgres", description: "PostgreSQL",
			holder: holder, shared: true, lead: leadUnderLease(pg.Lease(leaseName, holder, opts.leaseTTL), holder, logger),
			capacityLock: pg.CapacityLock()}, nil
	}
	path := ""
	if cfg.General.StoragePath != nil {
		path = *cfg.General.StoragePath
	}
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	warnPythonStore(logger, path)
	return &backend{state: store, calendar: store, system: "embedded", description: "embedded store (" + describeStorage(path) + ")",
		lead: leadAlone}, nil
}

// leadAlone runs the work at once: a SQLite file has one process.
func leadAlone(ctx context.Context, work func(context.Context)) error {
	work(ctx)
	return nil
}

// leadUnderLease runs the work only while this replica holds the lease,
// logging when it takes and loses the lead.
func leadUnderLease(lease *postgres.Lease, holder string, logger *slog.Logger) func(context.Context, func(context.Context)) error {
	return func(ctx context.Context, work func(context.Context)) error {
		return lease.Lead(ctx, func(leadCtx context.Context, token int64) {
			logger.Info("leading the background work", "holder", holder, "lease_token", token)
			work(leadCtx)
			if ctx.Err() == nil {
				logger.Warn("lost the lead; serving the API only until the lease is free again", "holder", holder, "lease_token", token)
			} else {
				logger.Info("giving up the lead: shutting down", "holder", holder, "lease_token", token)
			}
		})
	}
}

// openGoogle puts the calendars at Google Calendar and, when a spreadsheet
// is configured, reads the lists from Google Sheets.
func (b *backend) openGoogle(ctx context.Context, cfg *config.Config, logger *slog.Logger, mets *metrics.Metrics) error {
	keyPath := *cfg.GoogleAPI.ServiceAccountKeyPath
	key, err := os.ReadFile(keyPath)
	if err != nil {
		return fmt.Errorf("google_api.service_account_key_path: cannot read the key file: %w", err)
	}
	opts := google.Options{
		KeyJSON: key, CalendarEndpoint: cfg.GoogleAPI.CalendarEndpoint, SheetsEndpoint: cfg.GoogleAPI.SheetsEndpoint,
		Logger: logger, OnCall: mets.ObserveAttempt,
	}
	gcal, err := google.NewCalendar(ctx, opts)
	if err != nil {
		return fmt.Errorf("google_api.service_account_key_path %s: %w", keyPath, err)
	}
	b.calendar, b.system, b.account = gcal, "google", gcal.Account()
	b.checks = append(b.checks, gcal.CredentialsError)
	b.description = "Google Calendar as " + gcal.Account() + " at " + cfg.GoogleAPI.CalendarEndpoint
	offices, users := sheetRange(cfg.Offices.GoogleConfig), sheetRange(cfg.ManualUsers.GoogleConfig)
	if offices == (google.SheetRange{}) && users == (google.SheetRange{}) {
		return nil
	}
	sheets, err := google.NewSheets(ctx, opts, offices, users)
	if err != nil {
		return err
	}
	b.source = sheets
	b.checks = append(b.checks, sheets.CredentialsError)
	return nil
}

// openCalDAV puts the calendars on a CalDAV server; the state stays in
// the store.
func (b *backend) openCalDAV(ctx context.Context, cfg *config.Config, logger *slog.Logger) error {
	cal, err := caldav.New(ctx, caldav.Options{URL: *cfg.CalDAV.URL, Username: cfg.CalDAV.Username,
		Password: cfg.CalDAV.Secret, Logger: logger})
	if err != nil {
		return err
	}
	b.calendar, b.system = cal, "caldav"
	b.description = "CalDAV at " + *cfg.CalDAV.URL
	if cfg.Offices.GoogleConfig.Enabled() || cfg.ManualUsers.GoogleConfig.Enabled() {
		logger.Warn("a spreadsheet is configured (google_config), but without google_api.service_account_key_path it cannot be read; only the static lists are used")
	}
	return nil
}

// warnPythonStore says so when the Python service's dbm files lie next to
// the storage path: moffman does not read them.
func warnPythonStore(logger *slog.Logger, path string) {
	if path == "" {
		return
	}
	for _, ext := range []string{".dat", ".dir", ".db", ".pag"} {
		if _, err := os.Stat(path + ext); err == nil {
			logger.Warn("found " + path + ext + ", likely the Python moffman's dbm store; moffman does not read it: the first sync lists the checking range instead")
			return
		}
	}
}

func describeStorage(path string) string {
	if path == "" {
		return "in memory"
	}
	return path
}

func sheetRange(s config.SheetSource) google.SheetRange {
	if !s.Enabled() {
		return google.SheetRange{}
	}
	return google.SheetRange{SpreadsheetID: *s.SheetID, Range: *s.Range}
}
