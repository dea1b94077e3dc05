// Command redirlab runs redirect-based load distribution experiments:
// simulated or on real HTTP servers, from scenario files.
//
// This file turns flags into config structs and errors into exit codes;
// everything else lives in the packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/redirlab/redirlab/runner"
	"github.com/redirlab/redirlab/scenarios"
)

// Exit codes, as DESIGN.md states them (and the help text repeats).
const (
	exitOK       = 0
	exitFailed   = 1 // a run, or writing its results, failed
	exitBadInput = 2 // usage or scenario errors
)

// usageError marks an error as the user's input being wrong (exit 2).
type usageError struct{ error }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// exitCode maps an error to the documented exit code.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var se *scenarios.Error
	var ue usageError
	var ie *runner.InputError
	if errors.As(err, &se) || errors.As(err, &ue) || errors.As(err, &ie) {
		return exitBadInput
	}
	return exitFailed
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args, os.Stdout, os.Stderr))
}

// run is main without the exit, for tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	err := app.RunContext(ctx, hoistFlags(args))
	if err != nil {
		fmt.Fprintf(stderr, "redirlab: %v\n", err)
	}
	return exitCode(err)
}

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:  "redirlab",
		Usage: "study redirect-based load distribution among web servers, simulated or for real",
		Description: "Exit codes: 0 ok; 1 a run, or writing its results, failed; 2 bad input " +
			"(usage, a scenario, an --out directory in use).",
		Writer:    stdout,
		ErrWriter: stderr,
		// Usage errors (unknown flags, missing arguments) exit 2, not 1.
		OnUsageError: func(c *cli.Context, err error, isSubcommand bool) error {
			return usageError{err}
		},
		ExitErrHandler: func(*cli.Context, error) {}, // run() owns exiting
		// --set values may hold commas (sweep lists); never split them.
		DisableSliceFlagSeparator: true,
		Commands: []*cli.Command{
			runCommand(),
			simCommand(),
			validateCommand(),
			scenariosCommand(),
			sweepCommand(),
			compareCommand(),
			plotCommand(),
			managerCommand(),
			serveCommand(),
			loadgenCommand(),
		},
	}
	for _, c := range app.Commands {
		c.OnUsageError = app.OnUsageError
	}
	return app
}

// valueFlags are the flags that take a value as the next argument.
var valueFlags = map[string]bool{
	"out": true, "o": true, "set": true, "s": true, "mode": true, "format": true,
	"baseline": true, "listen": true, "server": true, "manager": true, "target": true,
	"parallel": true, "variant": true, "t": true, "f": true, "tolerance": true,
}

// hoistFlags moves a subcommand's flags in front of its positional
// arguments, so that `redirlab sim my.yaml --set k=v` means what it says:
// urfave/cli stops reading flags at the first positional argument.
func hoistFlags(args []string) []string {
	if len(args) < 3 {
		return args
	}
	out := append([]string(nil), args[:2]...) // program, subcommand
	var flags, pos []string
	rest := args[2:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			pos = append(pos, rest[i:]...)
			break
		}
		if len(a) > 1 && a[0] == '-' {
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && valueFlags[name] && i+1 < len(rest) {
				i++
				flags = append(flags, rest[i])
			}
			continue
		}
		pos = append(pos, a)
	}
	return append(append(out, flags...), pos...)
}
