package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/moffman/moffman/config"
	"github.com/moffman/moffman/google"
	"github.com/moffman/moffman/sqlite"
)

// startChecks are the checks start makes beyond the configuration's own
// (config.Load): the files it reads and what the adapters refuse, made
// without binding a port, writing the store or calling Google. Both
// --check-config and start run them, and every problem is listed at once.
// The store's checks (sqlite.Check) run only for --check-config: at start
// sqlite.Open makes the same checks itself, and running both would read
// the whole file twice.
func startChecks(ctx context.Context, cfg *config.Config, checkStore bool) error {
	var problems []string
	add := func(err error) {
		if err != nil {
			problems = append(problems, err.Error())
		}
	}
	if path := cfg.GoogleAPI.ServiceAccountKeyPath; path != nil {
		add(checkKeyFile(*path))
	}
	_, err := formIssuer(cfg) // parses forms.url and the templates as start does
	add(err)
	switch {
	case cfg.General.DatabaseURL != nil:
		if _, err := pgxpool.ParseConfig(*cfg.General.DatabaseURL); err != nil {
			// pgx's message may repeat the URL, password included.
			add(errors.New("general.database_url: not a valid PostgreSQL connection URL (expected e.g. postgres://moffman@db.example.com/moffman); check its parameters, such as sslmode"))
		}
	case cfg.General.StoragePath != nil && checkStore:
		add(sqlite.Check(ctx, *cfg.General.StoragePath))
	}
	if len(problems) > 0 {
		return fmt.Errorf("invalid configuration:\n%s", strings.Join(problems, "\n"))
	}
	return nil
}

// checkKeyFile checks the service-account key as openBackend will use it.
func checkKeyFile(path string) error {
	key, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("google_api.service_account_key_path: cannot read the key file: %w", err)
	}
	if _, err := google.CheckKey(key); err != nil {
		return fmt.Errorf("google_api.service_account_key_path %s: %w", path, err)
	}
	return nil
}
