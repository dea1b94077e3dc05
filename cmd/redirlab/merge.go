package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/redirlab/redirlab/runner"
)

func mergeCommand() *cli.Command {
	return &cli.Command{
		Name:      "merge",
		Usage:     "merge the results directories of the shards of one run (loadgen --shard i/n) into one, as one generator would have written it",
		ArgsUsage: "DIR...",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Required: true, Usage: "the merged results directory (new or empty)"},
			forceFlag,
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return usagef("merge takes the shards' results DIRs")
			}
			out := c.String("out")
			for _, d := range c.Args().Slice() {
				if within(d, out) {
					return usagef("--out %s holds the shard %s: write the merge elsewhere", out, d)
				}
			}
			made, err := runner.PrepareDir(out, c.Bool("force"))
			if err != nil {
				return err
			}
			sum, err := runner.Merge(c.Context, c.Args().Slice(), out)
			if sum != nil {
				printResults(c.App.Writer, []runner.Result{{Name: "merged", Summary: sum}})
				printNotes(c.App.Writer, []runner.Result{{Name: "merged", Summary: sum}})
				fmt.Fprintf(c.App.Writer, "merged %d shards\n", len(sum.Merge.Shards))
			}
			printResultsDir(c.App.Writer, out, made)
			return err
		},
	}
}

// within reports whether dir is out or lies under it.
func within(dir, out string) bool {
	a, err1 := filepath.Abs(dir)
	b, err2 := filepath.Abs(out)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(b, a)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
