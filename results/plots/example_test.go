package plots_test

import (
	"fmt"

	"github.com/redirlab/redirlab/results/plots"
)

// Swept values become numbers on the figure's X axis, in one unit.
func ExampleParseValues() {
	xs, unit, numeric := plots.ParseValues([]string{"900/s", "1.2k/s", "90000/min"})
	fmt.Println(xs, unit, numeric)
	// Output: [900 1200 1500] req/s true
}

// The CDF of five latencies: each sample at the fraction of samples at
// or below it.
func ExampleCDF() {
	for _, p := range plots.CDF([]float64{40, 10, 20, 30, 50}, 2000) {
		fmt.Printf("%g ms: %g\n", p.X, p.Y)
	}
	// Output:
	// 10 ms: 0.2
	// 20 ms: 0.4
	// 30 ms: 0.6
	// 40 ms: 0.8
	// 50 ms: 1
}

// After a run, the runner draws its figures; `redirlab plot DIR` does the
// same from the saved files.
func ExampleDraw() {
	files, err := plots.Draw("runs/default/base")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(files)
}
