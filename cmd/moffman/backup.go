package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/moffman/moffman/config"
	"github.com/moffman/moffman/sqlite"
)

// runBackup is "moffman backup [--config FILE] [options] FILE": a
// consistent copy of the embedded store at general.storage_path, taken
// while the service runs.
func runBackup(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	own, overrides := config.SplitArgs(args)
	fs := flag.NewFlagSet("moffman backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	configFile := fs.String("config", "", "configuration file (YAML)")
	if err := fs.Parse(own); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return nil
		}
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("moffman backup needs one argument, the file to write the copy to, e.g. moffman backup --config moffman.yaml moffman-2026-12-02.db")
	}
	dest := fs.Arg(0)
	cfg, err := config.Load(config.LoadOptions{File: *configFile, Environ: environ, Args: overrides})
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%v", err)
	}
	switch {
	case cfg.General.DatabaseURL != nil:
		return errors.New("general.database_url is set: the state is in PostgreSQL; back it up with pg_dump")
	case cfg.General.StoragePath == nil:
		return errors.New("general.storage_path is null: the store is kept in memory and there is no file to back up")
	}
	if err := sqlite.Backup(ctx, *cfg.General.StoragePath, dest); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s to %s\n", *cfg.General.StoragePath, dest)
	return nil
}
