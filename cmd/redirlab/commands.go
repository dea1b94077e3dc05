package main

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/redirlab/redirlab/plan"
	"github.com/redirlab/redirlab/results/report"
	"github.com/redirlab/redirlab/runner"
	"github.com/redirlab/redirlab/scenarios"
)

var (
	outFlag = &cli.StringFlag{Name: "out", Aliases: []string{"o"},
		Usage: "results directory (default runs/SCENARIO-MODE-TIME, or runs/SCENARIO-sweep-TIME for a sweep; a new or empty one)"}
	setFlag = &cli.StringSliceFlag{Name: "set", Aliases: []string{"s"},
		Usage: "override a scenario field by dotted path, e.g. policy.threshold=4 (repeatable)"}
	noRecordsFlag = &cli.BoolFlag{Name: "no-records",
		Usage: "skip requests.csv (the summary still counts every request)"}
	variantFlag = &cli.StringSliceFlag{Name: "variant",
		Usage: "run only this variant (base is the file as written; repeatable)"}
	quietFlag = &cli.BoolFlag{Name: "quiet", Aliases: []string{"q"},
		Usage: "no progress line"}
	forceFlag = &cli.BoolFlag{Name: "force",
		Usage: "replace the --out directory when it holds earlier results (only a redirlab results directory is ever removed)"}
)

// resultsDir makes the results directory of a run: --out, refused when
// it holds anything unless --force replaces earlier results there, or
// else a new runs/<scenario>-<label>-<time>, suffixed -2, -3, ... when
// that is taken. made says whether it was created here.
func resultsDir(c *cli.Context, name, label string) (dir string, made bool, err error) {
	if out := c.String("out"); out != "" {
		made, err := runner.PrepareDir(out, c.Bool("force"))
		return out, made, err
	}
	dir, err = runner.NewDir("runs", fmt.Sprintf("%s-%s-%s", runner.SafeName(name), label, time.Now().Format("20060102-150405")))
	return dir, err == nil, err
}

// printResultsDir prints where the results are, when there are any; a
// directory made for a run that left nothing in it is removed.
func printResultsDir(w io.Writer, dir string, made bool) {
	if runner.HasResults(dir) {
		fmt.Fprintf(w, "results: %s\n", dir)
	} else if made {
		os.Remove(dir) // only if empty
	}
}

// loadScenario reads the optional SCENARIO argument (default: the
// embedded default) with --set overrides applied.
func loadScenario(c *cli.Context) (*scenarios.Scenario, error) {
	if c.NArg() > 1 {
		return nil, usagef("%s takes at most one SCENARIO, got %d arguments", c.Command.Name, c.NArg())
	}
	return scenarios.Load(c.Args().First(), c.StringSlice("set")...)
}

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run a scenario on real servers on 127.0.0.1 with real HTTP browsers",
		ArgsUsage: "[SCENARIO]",
		Flags:     append([]cli.Flag{outFlag, forceFlag, setFlag, variantFlag, noRecordsFlag, quietFlag}, budgetFlags()...),
		Action:    func(c *cli.Context) error { return execute(c, runner.Real) },
	}
}

func simCommand() *cli.Command {
	return &cli.Command{
		Name:      "sim",
		Usage:     "simulate a scenario (discrete-event, virtual time)",
		ArgsUsage: "[SCENARIO]",
		Flags:     append([]cli.Flag{outFlag, forceFlag, setFlag, variantFlag, noRecordsFlag, quietFlag}, budgetFlags()...),
		Action:    func(c *cli.Context) error { return execute(c, runner.Sim) },
	}
}

// execute is run and sim: load, run every variant, print the table.
func execute(c *cli.Context, mode runner.Mode) error {
	sc, err := loadScenario(c)
	if err != nil {
		return err
	}
	return runScenario(c, sc, mode, nil, mode.String())
}

// runScenario runs sc's variants (against targets already running, if
// given), prints one row per run and where the results are. label names
// the default results directory, runs/<scenario>-<label>-<time>.
func runScenario(c *cli.Context, sc *scenarios.Scenario, mode runner.Mode, targets []string, label string) error {
	return runScenarioWith(c, sc, mode, targets, label, nil)
}

// runScenarioWith is runScenario with more options set by with.
func runScenarioWith(c *cli.Context, sc *scenarios.Scenario, mode runner.Mode, targets []string, label string, with func(*runner.Options)) error {
	if err := checkVariants(sc, c.StringSlice("variant")); err != nil {
		return err
	}
	out, made, err := resultsDir(c, sc.Name, label)
	if err != nil {
		return err
	}
	opts := runner.Options{Mode: mode, Out: out, Targets: targets,
		NoRecords: c.Bool("no-records"), Variants: c.StringSlice("variant"), Budget: budget(c)}
	if with != nil {
		with(&opts)
	}
	if !c.Bool("quiet") && isTerminal(c.App.ErrWriter) {
		opts.Progress = progressPrinter(c.App.ErrWriter)
		opts.WriteProgress = writeProgressPrinter(c.App.ErrWriter, out)
	}
	start := time.Now()
	res, err := runner.Run(c.Context, sc, opts)
	wall := time.Since(start)
	if opts.Progress != nil {
		fmt.Fprint(c.App.ErrWriter, "\r\033[K")
	}
	printResults(c.App.Writer, res)
	printNotes(c.App.Writer, res)
	printThresholds(c.App.Writer, res)
	if mode == runner.Sim {
		// Simulation speed counts the simulations alone (summed over runs,
		// so it is per core), not the plots and reports drawn after them.
		var sent int64
		var busy time.Duration
		for _, r := range res {
			if r.Summary != nil {
				sent += r.Summary.Requests.Sent
				busy += r.RunTime
			}
		}
		if sent > 0 {
			fmt.Fprintf(c.App.Writer, "simulated %d page requests in %.2fs of simulation (%.0f requests/s per core); %.2fs in all\n",
				sent, busy.Seconds(), float64(sent)/busy.Seconds(), wall.Seconds())
		}
	}
	printResultsDir(c.App.Writer, out, made)
	if err == nil && c.Context.Err() != nil {
		err = fmt.Errorf("interrupted after the runs: their results are written: %w", c.Context.Err())
	}
	return err
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progressPrinter redraws one status line per update.
func progressPrinter(w io.Writer) func(runner.Progress) {
	return func(p runner.Progress) {
		fmt.Fprintf(w, "\r\033[K%s  %v/%v  %.0f req/s  p99 %.1fms  redirected %.1f%%",
			p.Run, p.Elapsed.Truncate(time.Second), p.Total, p.RPS, p.P99MS, 100*p.RedirectRate)
	}
}

// writeProgressPrinter redraws one status line per file written under out.
func writeProgressPrinter(w io.Writer, out string) func(report.Progress) {
	return func(p report.Progress) {
		name, err := filepath.Rel(out, p.File)
		if err != nil {
			name = p.File
		}
		fmt.Fprintf(w, "\r\033[Kwriting figures and reports: %d files, %.1fs  %s", p.Files, p.Elapsed.Seconds(), name)
	}
}

// printNotes prints each note of the runs' summaries once, with the runs
// it is about (where a figure comes from, an interval the tool chose).
func printNotes(w io.Writer, res []runner.Result) {
	var notes []string
	about := map[string][]string{}
	for _, r := range res {
		if r.Summary == nil {
			continue
		}
		for _, n := range r.Summary.Notes {
			if _, ok := about[n]; !ok {
				notes = append(notes, n)
			}
			about[n] = append(about[n], cmp.Or(r.Name, r.Summary.Scenario))
		}
	}
	for _, n := range notes {
		fmt.Fprintf(w, "note (%s): %s\n", strings.Join(about[n], ", "), n)
	}
}

// rate is n of sent, 0 when nothing was sent.
func rate(n, sent int64) float64 {
	if sent == 0 {
		return 0
	}
	return float64(n) / float64(sent)
}

// printResults prints one row per run, and nothing when no run was made.
func printResults(w io.Writer, res []runner.Result) {
	if len(res) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tsent\tp50 ms\tp99 ms\tmean ms\tredirected\tshed\tthroughput/s\trejected\terrors\t")
	for _, r := range res {
		s := r.Summary
		if s == nil {
			continue
		}
		name := r.Name
		if name == "" {
			name = s.Scenario
		}
		if s.Partial {
			name += fmt.Sprintf(" (partial: %.1fs, %d interrupted)", s.DurationS, s.Requests.Interrupted)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f\t%.2f\t%.1f%%\t%.1f%%\t%.0f\t%d\t%d\t\n", name, s.Requests.Sent,
			s.LatencyMS.P50, s.LatencyMS.P99, s.LatencyMS.Mean, 100*s.Redirects.Rate, 100*rate(s.Requests.Shed, s.Requests.Sent), s.ThroughputRPS,
			s.Requests.Rejected, s.Requests.Errors)
	}
	tw.Flush()
}

func validateCommand() *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check a scenario file as sim (or, with --real, run) would before it starts; print its runs and what they will note about their settings",
		ArgsUsage: "SCENARIO",
		Flags: append([]cli.Flag{setFlag, variantFlag,
			&cli.BoolFlag{Name: "real", Usage: "check it as redirlab run would (a scenario with fronts is always checked so)"}},
			budgetFlags()...),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("validate takes one SCENARIO")
			}
			sc, err := loadScenario(c)
			if err != nil {
				return err
			}
			want := c.StringSlice("variant")
			if err := checkVariants(sc, want); err != nil {
				return err
			}
			runs, err := sc.Expand()
			if err != nil {
				return err
			}
			if len(want) > 0 {
				runs = slices.DeleteFunc(runs, func(r *scenarios.Scenario) bool { return !slices.Contains(want, r.Variant) })
			}
			// What sim would refuse before it starts (a setting without
			// effect, a run too large), validate refuses too; a scenario
			// with fronts only runs for real, so it is checked as run.
			mode := runner.Sim
			if c.Bool("real") || sc.HasUpstream() {
				mode = runner.Real
			}
			if err := runner.CheckScenario(sc, mode, want, budget(c)); err != nil {
				return err
			}
			var names []string
			for _, r := range runs {
				if r.Variant != "" {
					names = append(names, r.Variant)
				}
			}
			fmt.Fprintf(c.App.Writer, "%s: ok for %s: %d servers, %d run(s)", sc.File, mode, len(sc.Instances()), len(runs))
			if len(names) > 0 {
				fmt.Fprintf(c.App.Writer, " (%s)", strings.Join(names, ", "))
			}
			fmt.Fprintln(c.App.Writer)
			// What each run will note about its settings, as sim and run
			// print it after their table.
			for _, r := range runs {
				for _, n := range runner.Notes(r, mode) {
					fmt.Fprintf(c.App.Writer, "note (%s): %s\n", cmp.Or(r.Variant, r.Name), n)
				}
			}
			return nil
		},
	}
}

func scenariosCommand() *cli.Command {
	return &cli.Command{
		Name:  "scenarios",
		Usage: "list the embedded scenarios",
		Action: func(c *cli.Context) error {
			tw := tabwriter.NewWriter(c.App.Writer, 0, 0, 2, ' ', 0)
			for _, e := range scenarios.Embedded() {
				fmt.Fprintf(tw, "%s\t%s\n", e.Name, question(e.Description))
			}
			return tw.Flush()
		},
	}
}

// checkVariants rejects --variant names the scenario does not have.
func checkVariants(sc *scenarios.Scenario, want []string) error {
	runs, err := sc.Expand()
	if err != nil {
		return err
	}
	var names []string
	for _, r := range runs {
		names = append(names, r.Variant)
	}
	for _, w := range want {
		if !slices.Contains(names, w) {
			return usagef("--variant %q: %s has %s", w, sc.File, strings.Join(names, ", "))
		}
	}
	return nil
}

// question is a description's first sentence: the question the scenario
// answers (`redirlab validate` and the report show the rest).
func question(desc string) string {
	if i := strings.IndexAny(desc, "?."); i >= 0 {
		return desc[:i+1]
	}
	return desc
}

// budgetFlags raise the limits a run's size is checked against before it
// starts.
func budgetFlags() []cli.Flag {
	return []cli.Flag{
		&cli.Float64Flag{Name: "max-requests", Value: plan.DefaultBudget.MaxRequests, Usage: "refuse runs of more page requests than this", Action: positiveLimit("max-requests")},
		&cli.Float64Flag{Name: "max-samples", Value: plan.DefaultBudget.MaxSamples, Usage: "refuse runs of more server samples than this", Action: positiveLimit("max-samples")},
		&cli.Float64Flag{Name: "max-seconds", Value: plan.DefaultBudget.MaxSeconds, Usage: "refuse runs longer than this many seconds (warmup + duration)", Action: positiveLimit("max-seconds")},
	}
}

// positiveLimit refuses a budget flag that is not a positive number
// (+Inf lifts the limit): NaN compares false with everything and turned
// the guard off, and zero or less was taken for the default.
func positiveLimit(name string) func(*cli.Context, float64) error {
	return func(_ *cli.Context, v float64) error {
		if !(v > 0) {
			return usagef("--%s %v: want a positive number", name, v)
		}
		return nil
	}
}

func budget(c *cli.Context) plan.Budget {
	return plan.Budget{MaxRequests: c.Float64("max-requests"), MaxSamples: c.Float64("max-samples"), MaxSeconds: c.Float64("max-seconds")}
}

// printThresholds prints each variant's thresholds once, failures first.
func printThresholds(w io.Writer, res []runner.Result) {
	seen := map[string]bool{}
	for _, r := range res {
		if r.Summary == nil || len(r.Summary.Thresholds) == 0 || seen[r.Variant] {
			continue
		}
		seen[r.Variant] = true
		name := cmp.Or(r.Variant, r.Summary.Scenario)
		for _, t := range r.Summary.Thresholds {
			line := fmt.Sprintf("threshold %s: %s %s: %s", name, t.Metric, t.Threshold, t.Verdict)
			if t.Why != "" {
				line += " (" + t.Why + ")"
			}
			fmt.Fprintln(w, line)
		}
	}
}
