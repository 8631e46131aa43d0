// Package cli builds the polder command line. Each command lives in its own
// file and only turns flags into an options struct and calls a service
// package; it holds no logic of its own.
package cli

import (
	"fmt"
	"io"
	"log/slog"
	"os"

	ucli "github.com/urfave/cli/v2"
)

// Version is set at build time with -ldflags "-X ...cli.Version=...".
var Version = "dev"

// UsageError marks errors caused by how polder was invoked (bad flags, bad
// config) so that main can exit with status 2.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usagef(format string, a ...any) error { return &UsageError{fmt.Errorf(format, a...)} }

// New returns the polder application.
func New() *ucli.App {
	return &ucli.App{
		Name:                 "polder",
		Usage:                "network security monitoring appliance: sensor, event store, web UI",
		Version:              Version,
		EnableBashCompletion: true,
		Flags: []ucli.Flag{
			&ucli.BoolFlag{Name: "verbose", Usage: "log debug messages"},
			&ucli.BoolFlag{Name: "json-logs", Usage: "log as JSON lines instead of text"},
			&ucli.StringFlag{Name: "dir", Aliases: []string{"d"}, Usage: "instance directory `DIR`"},
		},
		Commands: []*ucli.Command{
			sensorCommand(),
			rulesCommand(),
			userCommand(),
		},
		ExitErrHandler: func(*ucli.Context, error) {}, // main decides exit codes
		OnUsageError: func(_ *ucli.Context, err error, _ bool) error {
			return &UsageError{err}
		},
	}
}

func sensorCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "sensor",
		Usage: "run the IDS sensor on an interface or a capture file",
		Subcommands: []*ucli.Command{
			sensorReadCommand(),
			sensorRunCommand(),
			sensorReloadRulesCommand(),
			sensorCtlCommand(),
		},
	}
}

// logger builds the process logger from the global flags.
func logger(c *ucli.Context, w io.Writer) *slog.Logger {
	lvl := slog.LevelInfo
	if c.Bool("verbose") {
		lvl = slog.LevelDebug
	}
	o := &slog.HandlerOptions{Level: lvl}
	if c.Bool("json-logs") {
		return slog.New(slog.NewJSONHandler(w, o))
	}
	return slog.New(slog.NewTextHandler(w, o))
}

var stderr io.Writer = os.Stderr
