package sim_test

import (
	"context"
	"fmt"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
	"github.com/redirlab/redirlab/sim"
)

// Simulate the embedded default scenario (shortened) and read its
// summary. The same scenario and seed always give the same figures.
func ExampleRun() {
	sc, err := scenarios.Load("default", "duration=10s")
	if err != nil {
		fmt.Println(err)
		return
	}
	rec, err := results.NewRecorder(sc, results.Sim, results.Options{}) // no Dir: in memory
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := sim.Run(context.Background(), sc, rec); err != nil {
		fmt.Println(err)
		return
	}
	sum, err := rec.Close()
	if err != nil {
		fmt.Println(err)
		return
	}
	r := sum.Requests
	fmt.Println("every request accounted for:", r.Sent == r.Completed+r.Errors+r.Rejected+r.Shed)
	fmt.Println("some redirected:", sum.Redirects.Total > 0)
	// Output:
	// every request accounted for: true
	// some redirected: true
}
