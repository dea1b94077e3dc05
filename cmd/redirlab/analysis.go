package main

import (
	"fmt"
	"io"
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
			if err := report.Write(dir); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "report: %s\n", filepath.Join(dir, report.ReportFile))
			return nil
		},
	}
}

// runsOf turns DIR arguments into runs: a run (or its replications)
// stands for itself; a directory of variants stands for its variants.
func runsOf(dirs []string) ([]plots.Run, error) {
	var runs []plots.Run
	for _, d := range dirs {
		if _, err := plots.Replications(d); err == nil {
			runs = append(runs, plots.Run{Name: plots.RunName(d), Dir: d})
			continue
		}
		vs, err := report.Discover(d)
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
	return runs, nil
}

func compareCommand() *cli.Command {
	return &cli.Command{
		Name:      "compare",
		Usage:     "compare results directories: a table with the change against the first, and overlay plots",
		ArgsUsage: "DIR [DIR ...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "text", Usage: "text | csv | json | markdown"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "also write comparison.csv, overlay plots and report.html here"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return usagef("compare takes at least one results DIR")
			}
			if f := c.String("format"); !slices.Contains(report.Formats, f) {
				return usagef("--format %q: want one of %v", f, report.Formats)
			}
			runs, err := runsOf(c.Args().Slice())
			if err != nil {
				return err
			}
			var t *report.Table
			if out := c.String("out"); out != "" {
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
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "set", Aliases: []string{"s"},
				Usage: "key=v1,v2,... swept (a single value is a plain override; repeat for a grid)"},
			&cli.StringFlag{Name: "mode", Value: "sim", Usage: "sim | real"},
			outFlag, forceFlag, noRecordsFlag, quietFlag,
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("sweep takes one SCENARIO")
			}
			mode := runner.Mode(c.String("mode"))
			if mode != runner.Sim && mode != runner.Real {
				return usagef("--mode %q: want sim or real", mode)
			}
			var axes []runner.Axis
			var fixed []string
			for _, s := range c.StringSlice("set") {
				a, err := runner.ParseAxis(s)
				if err != nil {
					return usageError{err}
				}
				if len(a.Values) == 1 {
					fixed = append(fixed, a.Key+"="+a.Values[0])
					continue
				}
				axes = append(axes, a)
			}
			if len(axes) == 0 {
				return usagef("sweep needs a --set key=v1,v2,... with at least two values")
			}
			file := c.Args().First()
			load := func(sets ...string) (*scenarios.Scenario, error) {
				return scenarios.Load(file, append(slices.Clone(fixed), sets...)...)
			}
			base, err := load()
			if err != nil {
				return err
			}
			out, made, err := resultsDir(c, base.Name, "sweep")
			if err != nil {
				return err
			}
			opts := runner.Options{Mode: mode, Out: out, NoRecords: c.Bool("no-records")}
			if !c.Bool("quiet") && isTerminal(c.App.ErrWriter) {
				opts.Progress = progressPrinter(c.App.ErrWriter)
			}
			start := time.Now()
			table, err := runner.Sweep(c.Context, load, axes, opts)
			if opts.Progress != nil {
				fmt.Fprint(c.App.ErrWriter, "\r\033[K")
			}
			if table != nil {
				printSweep(c.App.Writer, table)
			}
			fmt.Fprintf(c.App.Writer, "swept %d points in %.1fs\n", len(tableValues(table)), time.Since(start).Seconds())
			printResultsDir(c.App.Writer, out, made)
			return err
		},
	}
}

func tableValues(t *plots.SweepTable) []string {
	if t == nil {
		return nil
	}
	return t.Values
}

// printSweep prints one row per point and variant (the first replication
// of each; sweep.csv has them all with intervals).
func printSweep(w io.Writer, t *plots.SweepTable) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s\tvariant\tp50 ms\tp99 ms\tredirected\trejected\t\n", t.Parameter)
	for i, v := range t.Values {
		for _, vr := range t.Variants {
			if i >= len(vr.Points) || len(vr.Points[i]) == 0 {
				fmt.Fprintf(tw, "%s\t%s\tfailed\t\t\t\t\n", v, vr.Name)
				continue
			}
			s := vr.Points[i][0]
			fmt.Fprintf(tw, "%s\t%s\t%.2f\t%.2f\t%.1f%%\t%d\t\n", v, vr.Name, s.LatencyMS.P50, s.LatencyMS.P99, 100*s.Redirects.Rate, s.Requests.Rejected)
		}
	}
	tw.Flush()
}
