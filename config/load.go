package config

import (
	"os"
	"strings"

	"github.com/moffman/moffman"
)

// LoadOptions are the layers above the embedded defaults.
type LoadOptions struct {
	// File is the user's YAML file (--config); "" for none.
	File string
	// Environ is the environment as os.Environ returns it. Every MOFFMAN_
	// variable sets a key, and ${oc_env:NAME} in File is looked up here.
	// Passed in rather than read so that tests do not touch the process.
	Environ []string
	// Args are the configuration options, "--rest-api--port", "9000" or
	// "--rest-api--port=9000", without the program's own flags (see
	// SplitArgs).
	Args []string
}

// Load builds the configuration from the defaults, the file, the
// environment and the options, later ones winning, and checks it. The
// error is a *moffman.Error with code Invalid whose message has one line
// per problem, each starting with the key (or the variable, option or
// file) at fault.
func Load(opts LoadOptions) (*Config, error) {
	var file []byte
	if opts.File != "" {
		b, err := os.ReadFile(opts.File)
		if err != nil {
			return nil, moffman.WrapError(moffman.Invalid, err, "cannot read the configuration file")
		}
		file = b
	}
	return loadBytes(opts.File, file, opts)
}

// load does Load's work on the file's bytes (the fuzz test's entry).
func loadBytes(fileName string, file []byte, opts LoadOptions) (*Config, error) {
	values := map[string]value{}
	var p problems
	readYAML(Template, "defaults.yaml", nil, values, &p)
	if len(p.lines) > 0 {
		return nil, moffman.Errorf(moffman.Internal, "embedded defaults: %s", strings.Join(p.lines, "\n"))
	}
	env := environ(opts.Environ)
	if fileName != "" {
		readYAML(file, fileName, env, values, &p)
	}
	readEnv(env, values, &p)
	readArgs(opts.Args, values, &p)

	c := new(Config)
	bad := decodeAll(c, values, &p)
	c.validate(bad, &p)
	if len(p.lines) > 0 {
		return nil, &moffman.Error{Code: moffman.Invalid, Message: strings.Join(p.lines, "\n")}
	}
	return c, nil
}
