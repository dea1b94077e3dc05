package plots

import (
	"slices"
	"testing"

	"github.com/redirlab/redirlab/results"
)

// defaultVariants is the default scenario's variant list, base first.
var defaultVariants = []string{"base", "no-redirect", "queue-delay", "shed", "adaptive"}

// variantSummary is a summary of variant v of a scenario whose
// variants are list.
func variantSummary(scenario, v string, list []string) *results.Summary {
	return &results.Summary{Scenario: scenario, Variant: v, Variants: list, Mode: results.Sim, DurationS: 1,
		Requests: results.RequestCounts{Sent: 1, Completed: 1}, LatencyMS: results.LatencyStats{P50: 1, P90: 1, P99: 1, P999: 1, Max: 1, Mean: 1}}
}

// TestRunColors: a variant's colour is its place in its scenario's
// variant list whichever variants are drawn, and the order given when
// the runs do not say or are not one scenario's variants.
func TestRunColors(t *testing.T) {
	of := func(scenario string, list []string, vs ...string) [][]*results.Summary {
		var out [][]*results.Summary
		for _, v := range vs {
			out = append(out, []*results.Summary{variantSummary(scenario, v, list)})
		}
		return out
	}
	mixed := append(of("default", defaultVariants, "base"), of("other", []string{"base", "shed"}, "shed")...)
	older := of("default", defaultVariants, "base", "shed")
	older[1][0].Variants = nil
	for _, c := range []struct {
		name string
		sums [][]*results.Summary
		want []int
	}{
		// Every variant: their places, which is also the order given.
		{"all", of("default", defaultVariants, defaultVariants...), []int{0, 1, 2, 3, 4}},
		// A subset: shed keeps its colour (3), not no-redirect's (1).
		{"subset", of("default", defaultVariants, "base", "shed", "adaptive"), []int{0, 3, 4}},
		// Given in another order: still by the list.
		{"reordered", of("default", defaultVariants, "adaptive", "base"), []int{4, 0}},
		// Runs of two scenarios (compare of arbitrary directories): the order given.
		{"two scenarios", mixed, []int{0, 1}},
		// The same variant twice (two directories of base): the order given.
		{"variant twice", of("default", defaultVariants, "shed", "shed"), []int{0, 1}},
		// A summary without the list (written before it was kept): the order given.
		{"older summary", older, []int{0, 1}},
		// Scenarios without variants: the order given.
		{"no variants", of("tiny", nil, "", ""), []int{0, 1}},
		// A run without summaries: the order given.
		{"missing", append(of("default", defaultVariants, "shed"), nil), []int{0, 1}},
	} {
		if got := RunColors(c.sums); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestColorsOfSubsetInEveryFigure: a run of base, shed and adaptive
// draws shed in Palette(3) (its place in the default scenario's
// variants) in every comparison figure, the over-time overlay
// included, in its own figures, and in the sweep figures.
func TestColorsOfSubsetInEveryFigure(t *testing.T) {
	names := []string{"base", "shed", "adaptive"}
	want := map[string]int{"base": 0, "shed": 3, "adaptive": 4}
	c := &CompareData{}
	for _, n := range names {
		c.Runs = append(c.Runs, Run{Name: n, Dir: "/nonexistent/" + n})
		c.Summaries = append(c.Summaries, []*results.Summary{variantSummary("default", n, defaultVariants)})
		c.Latencies = append(c.Latencies, []float64{1, 2, 3})
		c.Sent = append(c.Sent, 3)
		c.Seconds = append(c.Seconds, [][]results.Second{{{T: 0, Completed: 3, P99: 3}}})
		c.Scenarios = append(c.Scenarios, nil)
	}
	figs := CompareFigures(c)
	for _, f := range figs {
		if len(f.Lines) != len(names) {
			t.Errorf("%s: %d lines, want %d", f.Name, len(f.Lines), len(names))
			continue
		}
		for _, l := range f.Lines {
			if l.Color != Palette(want[l.Name]) {
				t.Errorf("%s: %s in %v, want Palette(%d)", f.Name, l.Name, l.Color, want[l.Name])
			}
		}
	}
	for _, n := range names {
		// The dir has no comparison.csv above it: the summary decides.
		if got := VariantColor("/nonexistent/"+n, c.Summaries[slices.Index(names, n)][0]); got != want[n] {
			t.Errorf("%s's own figures: Palette(%d), want Palette(%d)", n, got, want[n])
		}
	}
	table := SweepTable{Parameter: "workload.arrival.rate", Values: []string{"900/s", "1100/s"}}
	for i, n := range names {
		s := c.Summaries[i]
		table.Variants = append(table.Variants, SweepVariant{Name: n, Points: [][]*results.Summary{s, s}})
	}
	sweep, err := SweepFigures(table)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range sweep {
		for _, l := range f.Lines {
			if l.Color != Palette(want[l.Name]) {
				t.Errorf("%s: %s in %v, want Palette(%d)", f.Name, l.Name, l.Color, want[l.Name])
			}
		}
	}
}
