package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/redirlab/redirlab/gate"
	"github.com/redirlab/redirlab/results"
)

func regressCommand() *cli.Command {
	return &cli.Command{
		Name:  "regress",
		Usage: "CI gate: compare a run's summaries with a baseline's; exit 1 on a regression, 3 when the run cannot judge",
		Description: "DIR is a run, a run with variants or replications, or a sweep; BASELINE a results directory or a summary.json.\n" +
			"A change is a regression when it is beyond its tolerance in the metric's bad direction and, with replications,\n" +
			"significant (paired t-test when seeds match, else Welch; Holm-corrected across a run's metrics).\n" +
			"Without replications the tolerance alone decides. --exact fails on any difference (seeded simulations are deterministic).",
		ArgsUsage: "DIR",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "baseline", Aliases: []string{"b"}, Required: true, Usage: "baseline results directory or summary.json"},
			&cli.StringFlag{Name: "tolerance", Usage: "per metric, e.g. latency_ms.p99=10%,redirects.rate=0.02 (default 10%; 0.02 for rates and utilizations)"},
			&cli.BoolFlag{Name: "exact", Usage: "fail on any difference at all"},
			&cli.BoolFlag{Name: "update", Usage: "rewrite the baseline with DIR's summaries instead of comparing"},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "text, json, junit or markdown"},
			&cli.BoolFlag{Name: "all", Usage: "list every metric compared, not only the headline ones and the changes"},
			&cli.Float64Flag{Name: "max-send-lag", Value: 2, Usage: "send-lag p99 (ms) above which a real run is inconclusive"},
			&cli.Int64Flag{Name: "min-completed", Value: 100, Usage: "completed page requests below which a run is inconclusive"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("regress takes one DIR (the run to judge), got %d arguments", c.NArg())
			}
			dir, baseline := c.Args().First(), c.String("baseline")
			if !slices.Contains(gate.Formats, c.String("format")) {
				return usagef("--format %q: one of %s", c.String("format"), strings.Join(gate.Formats, ", "))
			}
			now, err := gate.Load(dir)
			if err != nil {
				return usagef("%v", err)
			}
			if c.Bool("update") {
				n, err := updateBaseline(baseline, dir, now)
				if err != nil {
					return err
				}
				fmt.Fprintf(c.App.Writer, "baseline %s: %d summaries written from %s\n", baseline, n, dir)
				return nil
			}
			base, err := gate.Load(baseline)
			if err != nil {
				return usagef("--baseline: %v", err)
			}
			tol, err := gate.ParseTolerances(c.String("tolerance"))
			if err == nil {
				err = gate.CheckTolerances(tol)
			}
			if err != nil {
				return usagef("%v", err)
			}
			if !(c.Float64("max-send-lag") > 0) || c.Int64("min-completed") < 0 { // NaN too: it would judge nothing inconclusive
				return usagef("--max-send-lag must be above 0 and --min-completed at least 0")
			}
			rep, err := gate.Regress(base, now, gate.Options{Tolerances: tol, Exact: c.Bool("exact"),
				Health: gate.Health{MaxSendLagP99: c.Float64("max-send-lag"), MinCompleted: c.Int64("min-completed")}})
			if err != nil {
				return usagef("%v", err)
			}
			if err := rep.Write(c.App.Writer, c.String("format"), c.Bool("all")); err != nil {
				return err
			}
			switch rep.Verdict {
			case gate.Fail:
				return &judgedError{msg: fmt.Sprintf("regress: %s regressed against %s", dir, baseline)}
			case gate.Inconclusive:
				return &judgedError{msg: fmt.Sprintf("regress: %s cannot be judged against %s", dir, baseline), inconclusive: true}
			}
			return nil
		},
	}
}

// updateBaseline writes DIR's summaries as the baseline: a summary.json
// file for a single run, else the same tree of summary.json files under
// the baseline directory (only summaries: a baseline is small enough to
// commit). Existing summaries there are replaced.
func updateBaseline(baseline, dir string, runs []gate.Run) (int, error) {
	if strings.HasSuffix(baseline, ".json") {
		if len(runs) != 1 || len(runs[0].Dirs) != 1 {
			return 0, usagef("--update: %s is one summary.json, but %s holds %d runs", baseline, dir, len(runs))
		}
		return 1, copySummary(filepath.Join(runs[0].Dirs[0], results.SummaryFile), baseline)
	}
	if fi, err := os.Stat(baseline); err == nil && fi.IsDir() {
		// Only summaries go: refuse a directory that holds anything else.
		err := filepath.WalkDir(baseline, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || d.Name() == results.SummaryFile {
				return err
			}
			return usagef("--update: %s holds %s, which is not a baseline summary; give a directory of summaries only", baseline, p)
		})
		if err != nil {
			return 0, err
		}
		if err := os.RemoveAll(baseline); err != nil {
			return 0, err
		}
	}
	n := 0
	for _, r := range runs {
		for _, d := range r.Dirs {
			rel, err := filepath.Rel(dir, d)
			if err != nil {
				return n, err
			}
			if err := copySummary(filepath.Join(d, results.SummaryFile), filepath.Join(baseline, rel, results.SummaryFile)); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

func copySummary(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o777); err != nil {
		return err
	}
	tmp := to + ".tmp"
	if err := os.WriteFile(tmp, data, 0o666); err != nil {
		return err
	}
	return os.Rename(tmp, to)
}
