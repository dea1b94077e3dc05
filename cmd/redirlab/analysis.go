package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/redirlab/redirlab/results/plots"
	"github.com/redirlab/redirlab/results/report"
	"github.com/redirlab/redirlab/runner"
	"github.com/redirlab/redirlab/scenarios"
)

func plotCommand() *cli.Command {
	return &cli.Command{
		Name:      "plot",
		Usage:     "(re)draw the plots and report.html of a results directory from its saved data",
		ArgsUsage: "DIR",
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("plot takes one results DIR")
			}
			dir := c.Args().First()
			if _, err := os.Stat(dir); err != nil {
				return usagef("%s: %v", dir, errors.Unwrap(err))
			}
			if !runner.HasResults(dir) {
				return usagef("%s holds no results to plot (no summary.json in it or below it)", dir)
			}
			if err := runner.Redraw(dir); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "report: %s\n", filepath.Join(dir, report.ReportFile))
			return nil
		},
	}
}

// runsOf turns DIR arguments into runs: a run (or its replications)
// stands for itself; a directory of variants stands for its variants; a
// sweep's directory for every run of the sweep.
func runsOf(dirs []string) ([]plots.Run, error) {
	var runs []plots.Run
	for _, d := range dirs {
		if _, err := plots.Replications(d); err == nil {
			runs = append(runs, plots.Run{Name: plots.RunName(d), Dir: d})
			continue
		}
		var vs []plots.Run
		var err error
		if runner.IsSweep(d) {
			vs, err = runner.SweepRuns(d)
		} else {
			vs, err = report.Discover(d)
		}
		if err != nil {
			return nil, usagef("%s: not a results directory: %v", d, err)
		}
		if len(vs) == 0 {
			return nil, usagef("%s: no summary.json, replications or variants in it", d)
		}
		if len(dirs) > 1 {
			for i := range vs {
				vs[i].Name = plots.RunName(d) + "/" + vs[i].Name
			}
		}
		runs = append(runs, vs...)
	}
	// Runs of several directories with one name (base of two scenarios)
	// are told apart by their directories.
	count := map[string]int{}
	for _, r := range runs {
		count[r.Name]++
	}
	for i := range runs {
		if count[runs[i].Name] > 1 {
			runs[i].Name = filepath.Clean(runs[i].Dir)
		}
	}
	return runs, nil
}

func compareCommand() *cli.Command {
	return &cli.Command{
		Name:      "compare",
		Usage:     "compare results directories: a table with the change against the first, and overlay plots",
		ArgsUsage: "DIR [DIR ...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "text | csv | json | markdown"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "also write comparison.csv, overlay plots and report.html here (a new or empty directory, or one compare wrote before)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return usagef("compare takes at least one results DIR")
			}
			if f := c.String("format"); !slices.Contains(report.Formats, f) {
				return usagef("--format %q: want one of %v", f, report.Formats)
			}
			var seen []string
			for _, d := range c.Args().Slice() {
				real, err := filepath.EvalSymlinks(d)
				if err != nil {
					real = d // runsOf says what is wrong with it
				}
				if abs, err := filepath.Abs(real); err == nil {
					real = abs // runs/x and ./runs/x, relative or absolute
				}
				if slices.Contains(seen, real) {
					return usagef("%s is given twice (as %s): compare each results directory once", d, real)
				}
				seen = append(seen, real)
			}
			runs, err := runsOf(c.Args().Slice())
			if err != nil {
				return err
			}
			var t *report.Table
			if out := c.String("out"); out != "" {
				if err := runner.PrepareCompareDir(out); err != nil {
					return err
				}
				t, err = report.WriteComparison(out, runs)
			} else {
				t, err = report.Compare(runs)
			}
			if err != nil {
				return err
			}
			return t.Write(c.App.Writer, c.String("format"))
		},
	}
}

func sweepCommand() *cli.Command {
	return &cli.Command{
		Name:      "sweep",
		Usage:     "run a scenario over a grid of values, e.g. --set workload.arrival.rate=800/s,1000/s,1200/s",
		ArgsUsage: "SCENARIO",
		Flags: append(budgetFlags(), []cli.Flag{
			&cli.StringSliceFlag{Name: "set", Aliases: []string{"s"},
				Usage: "key=v1,v2,... swept (a single value is a plain override, applied with the swept ones; repeat for a grid)"},
			&cli.StringFlag{Name: "mode", Value: "sim", Usage: "sim | real"},
			variantFlag, outFlag, forceFlag, noRecordsFlag, quietFlag,
			shardFlag("run only the i-th of n disjoint shares of the sweep's points (point k, from 0, is share k mod n + 1)"),
		}...),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("sweep takes one SCENARIO")
			}
			mode, err := runner.ParseMode(c.String("mode"))
			if err != nil {
				return usagef("--mode %q: want sim or real", c.String("mode"))
			}
			var axes []runner.Axis
			for _, s := range c.StringSlice("set") {
				a, err := runner.ParseAxis(s)
				if err != nil {
					return usageError{err}
				}
				axes = append(axes, a)
			}
			if !slices.ContainsFunc(axes, runner.Axis.Swept) {
				return usagef("sweep needs a --set key=v1,v2,... with at least two values")
			}
			file := c.Args().First()
			load := func(sets ...string) (*scenarios.Scenario, error) {
				return scenarios.Load(file, sets...)
			}
			shard, err := parseShard(c)
			if err != nil {
				return err
			}
			opts := runner.Options{Mode: mode, NoRecords: c.Bool("no-records"), Variants: c.StringSlice("variant"), Budget: budget(c), Shard: shard}
			// Every point loads and validates, every --variant exists and
			// none of the variants run sets a swept key, before a
			// directory is made or replaced.
			first, err := runner.CheckSweep(load, axes, opts)
			if err != nil {
				return err
			}
			out, made, err := resultsDir(c, first.Name, "sweep")
			if err != nil {
				return err
			}
			opts.Out = out
			if !c.Bool("quiet") && isTerminal(c.App.ErrWriter) {
				opts.Progress = progressPrinter(c.App.ErrWriter)
			}
			start := time.Now()
			table, err := runner.Sweep(c.Context, load, axes, opts)
			if opts.Progress != nil {
				fmt.Fprint(c.App.ErrWriter, "\r\033[K")
			}
			if table != nil {
				printSweep(c.App.Writer, table, axes)
				fmt.Fprintf(c.App.Writer, "swept %d points in %.1fs\n", len(table.Values), time.Since(start).Seconds())
			}
			printResultsDir(c.App.Writer, out, made)
			return err
		},
	}
}

// printSweep prints one row per point and variant (the first replication
// of each; sweep.csv has them all with intervals), led by the settings
// as run: the value of each swept key, and of a plain --set where some
// run had another value than the one given (a variant set its own).
func printSweep(w io.Writer, t *plots.SweepTable, axes []runner.Axis) {
	given := map[string]string{}
	for _, a := range axes {
		if !a.Swept() {
			given[a.Key] = a.Values[0]
		}
	}
	var cols []int
	for k, key := range t.Keys {
		g, plain := given[key]
		shown := !plain
		for _, v := range t.Variants {
			for i := range t.Values {
				shown = shown || v.Setting(i, k) != g
			}
		}
		if shown {
			cols = append(cols, k)
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	if len(cols) == 0 {
		fmt.Fprintf(tw, "%s\t", t.Parameter)
	}
	for _, k := range cols {
		fmt.Fprintf(tw, "%s\t", t.Keys[k])
	}
	fmt.Fprintf(tw, "variant\tp50 ms\tp99 ms\tredirected\tshed\trejected\t\n")
	for i, val := range t.Values {
		for _, vr := range t.Variants {
			if len(cols) == 0 {
				fmt.Fprintf(tw, "%s\t", val)
			}
			for _, k := range cols {
				fmt.Fprintf(tw, "%s\t", vr.Setting(i, k))
			}
			name := vr.Name
			if name == "" {
				name = "base" // as sweep.csv names it
			}
			if i >= len(vr.Points) || len(vr.Points[i]) == 0 {
				fmt.Fprintf(tw, "%s\tfailed\t\t\t\t\t\n", name)
				continue
			}
			s := vr.Points[i][0]
			fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.1f%%\t%.1f%%\t%d\t\n", name, s.LatencyMS.P50, s.LatencyMS.P99, 100*s.Redirects.Rate, 100*rate(s.Requests.Shed, s.Requests.Sent), s.Requests.Rejected)
		}
	}
	tw.Flush()
}
