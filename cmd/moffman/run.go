package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/moffman/moffman/config"
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
  moffman backup [--config FILE] [...] FILE            copy the embedded store to FILE while it runs
  moffman --version | --help

Every configuration key can also be set with an environment variable
(MOFFMAN_REST_API__PORT=9000) or an option (--rest-api--port 9000).
Later layers win: defaults < --config file < environment < options.
`

// run is the whole program; main only supplies the process's context,
// arguments, environment and output streams.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "backup" {
		return runBackup(ctx, args[1:], environ, stdout, stderr)
	}
	return runWith(ctx, args, environ, stdout, stderr, backendOptions{})
}

// runWith is run with settings only tests change.
func runWith(ctx context.Context, args, environ []string, stdout, stderr io.Writer, opts backendOptions) error {
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
	if err := startChecks(ctx, cfg, *checkConfig); err != nil {
		return err
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
	a, err := newApp(ctx, cfg, logger, opts)
	if err != nil {
		return err
	}
	err = a.Run(ctx)
	return errors.Join(err, a.Close())
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
