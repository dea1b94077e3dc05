package scenarios_test

import (
	"fmt"

	"github.com/redirlab/redirlab/scenarios"
)

// Load an embedded scenario, override two settings as --set does, and
// split it into its base and variants.
func ExampleLoad() {
	s, err := scenarios.Load("default", "policy.threshold=4", "duration=5s")
	if err != nil {
		fmt.Println(err)
		return
	}
	all, err := s.Expand()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, v := range all {
		fmt.Printf("%-12s %s %-12s threshold %-4s %v\n", v.Variant, v.Duration, v.Policy.Condition, v.Policy.Threshold.Raw, len(v.Instances()))
	}
	// Output:
	// base         5s queue-length threshold 4    4
	// no-redirect  5s none         threshold 4    4
	// queue-delay  5s queue-delay  threshold 40ms 4
	// shed         5s queue-length threshold 4    4
	// adaptive     5s adaptive     threshold 4    4
}

// A bad value is one precise error naming the file, line and field.
func ExampleParse() {
	_, err := scenarios.Parse("flash.yaml", []byte(`name: flash
duration: 10s
servers:
  - name: web
    count: 2
    service: {dist: exp, mean: 10ms}
    workers: 0
workload:
  arrival: {process: poisson, rate: 900/s}
`))
	fmt.Println(err)
	// Output:
	// flash.yaml:7: servers[0].workers: must be at least 1, got 0
}

// An override that does not fit the file is blamed on the override.
func ExampleParse_set() {
	_, err := scenarios.Load("default", "policy.threshold=40ms")
	fmt.Println(err)
	// Output:
	// embedded:default: --set policy.threshold: queue-length needs a count such as 8, got 40ms
}

func ExampleEmbedded() {
	for _, in := range scenarios.Embedded()[:3] {
		fmt.Println(in.Name)
	}
	// Output:
	// bursty
	// closed-loop
	// default
}
