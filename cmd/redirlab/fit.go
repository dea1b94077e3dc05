package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/redirlab/redirlab/runner"
)

// fitCommand is redirlab fit: a run through fronts into a scenario the
// simulator can run.
func fitCommand() *cli.Command {
	return &cli.Command{
		Name:      "fit",
		Usage:     "turn the results of a run through fronts (servers with an upstream) into a scenario serving the measured backend times, to simulate",
		ArgsUsage: "DIR",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Required: true, Usage: "the fitted scenario file to write (its service-time files go beside it)"},
			&cli.BoolFlag{Name: "force", Usage: "replace --out and its service-time files when they exist"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("fit takes one results DIR")
			}
			out := c.String("out")
			if _, err := os.Stat(out); err == nil && !c.Bool("force") {
				return usagef("--out %s exists; choose another file, or --force to replace it", out)
			}
			if st, err := os.Stat(filepath.Dir(out)); err != nil || !st.IsDir() {
				return usagef("--out %s: %s is not a directory", out, filepath.Dir(out))
			}
			fit, err := runner.Fit(c.Args().First(), out)
			if err != nil {
				return err
			}
			w := c.App.Writer
			fmt.Fprintf(w, "%10s %8s %8s %7s %9s %9s %9s  %s\n", "group", "pages", "objects", "failed", "mean ms", "p50 ms", "p99 ms", "backend")
			for _, g := range fit.Groups {
				fmt.Fprintf(w, "%10s %8d %8d %7d %9.3f %9.3f %9.3f  %s\n", g.Name, g.Pages, g.Objects, g.Failed,
					ms(g.Mean), ms(g.P50), ms(g.P99), g.Upstream)
				if g.Failed > 0 {
					fmt.Fprintf(c.App.ErrWriter, "redirlab: fit: group %s: %d backend exchanges failed, timed out or were canceled; the fitted service leaves them out\n", g.Name, g.Failed)
				}
			}
			fmt.Fprintf(w, "network.rtt %.3f ms (the time outside the service of a request that found a worker free, from %d requests answered at their first hop)\n", ms(fit.RTT), fit.Direct)
			fmt.Fprintf(w, "fitted: %s (simulate it: redirlab sim %s)\n", fit.Scenario, fit.Scenario)
			return nil
		},
	}
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / 1e6 }
