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

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/runner"
	"github.com/redirlab/redirlab/scenarios"
)

// Exit codes, as docs/design.md states them (and the help text repeats).
const (
	exitOK           = 0
	exitJudged       = 1   // a threshold failed, or the regression gate found a regression
	exitBadInput     = 2   // usage, a scenario, a flag, a file or a results directory
	exitInconclusive = 3   // the run cannot judge the system: the load generator fell behind, too few requests
	exitFailed       = 4   // a run could not run, every request failed, or writing its results failed
	exitInterrupted  = 130 // stopped by a signal; what was measured is written and marked partial
)

// exitDescription is the exit codes for --help.
const exitDescription = "Exit codes: 0 ok; 1 a threshold failed or a regression was found; 2 bad input " +
	"(usage, a scenario, a flag, a file, an --out directory in use); 3 inconclusive (the load generator fell behind, " +
	"too few requests completed); 4 a run could not run, every request failed, or its results could not be written; " +
	"130 interrupted (partial results written)."

// judgedError is a verdict that is not a pass: its exit code is 1 for a
// failed threshold or a regression, 3 when the run could not judge.
type judgedError struct {
	msg          string
	inconclusive bool
}

func (e *judgedError) Error() string { return e.msg }

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
	if _, ok := errors.AsType[*results.BadFile](err); ok {
		return exitBadInput
	}
	if je, ok := errors.AsType[*runner.JudgeError](err); ok {
		switch {
		case je.NothingCompleted:
			return exitFailed
		case len(je.Failed) > 0:
			return exitJudged
		}
		return exitInconclusive
	}
	if je, ok := errors.AsType[*judgedError](err); ok {
		if je.inconclusive {
			return exitInconclusive
		}
		return exitJudged
	}
	if errors.Is(err, context.Canceled) {
		return exitInterrupted
	}
	// urfave/cli's own word that a required flag is missing: its error
	// type is not exported.
	if strings.HasPrefix(err.Error(), "Required flag") {
		return exitBadInput
	}
	return exitFailed
}

func main() { os.Exit(runMain(os.Args)) }

// runMain is main without the exit: the signals, then run.
func runMain(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal stops the run, which then writes what it measured;
	// a second one takes the default action and ends the process at once
	// (every file is written whole, then renamed, so none is left half
	// written under its name).
	go func() {
		<-ctx.Done()
		stop()
	}()
	return run(ctx, args, os.Stdout, os.Stderr)
}

// run is main without the exit, for tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	if len(args) > 1 && !strings.HasPrefix(args[1], "-") && app.Command(args[1]) == nil && args[1] != "help" {
		err := usagef("unknown command %q: one of %s", args[1], commandNames(app))
		fmt.Fprintf(stderr, "redirlab: %v\n", err)
		return exitCode(err)
	}
	err := app.RunContext(ctx, hoistFlags(args))
	if err != nil {
		fmt.Fprintf(stderr, "redirlab: %v\n", err)
	}
	return exitCode(err)
}

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:        "redirlab",
		Usage:       "study redirect-based load distribution among web servers, simulated or for real",
		Description: exitDescription,
		Writer:      stdout,
		ErrWriter:   stderr,
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
			regressCommand(),
			managerCommand(),
			serveCommand(),
			loadgenCommand(),
			mergeCommand(),
			fitCommand(),
		},
	}
	for _, c := range app.Commands {
		c.OnUsageError = app.OnUsageError
	}
	return app
}

func commandNames(app *cli.App) string {
	var names []string
	for _, c := range app.Commands {
		names = append(names, c.Name)
	}
	return strings.Join(names, ", ")
}

// valueFlags are the flags that take a value as the next argument.
var valueFlags = map[string]bool{
	"out": true, "o": true, "set": true, "s": true, "mode": true, "format": true,
	"baseline": true, "listen": true, "server": true, "manager": true, "target": true, "upstream": true,
	"parallel": true, "variant": true, "t": true, "f": true, "tolerance": true,
	"b": true, "token-file": true, "allow": true, "idle-timeout": true, "read-timeout": true,
	"write-timeout": true, "max-send-lag": true, "min-completed": true,
	"max-requests": true, "max-samples": true, "max-seconds": true,
	"shard": true, "start-at": true, "start-timeout": true, "start-lead": true,
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
