package scenarios

import "testing"

// TestFrontWeightDefault: a front's group gets the documented default
// weight of 1, as any group, so weighted dispatch over fronts works.
func TestFrontWeightDefault(t *testing.T) {
	sc, err := Parse("f.yaml", []byte(`name: f
duration: 1s
servers:
  - {name: front, count: 2, upstream: "http://127.0.0.1:8080"}
workload: {dispatch: weighted, arrival: {process: poisson, rate: 10/s}}
`))
	if err != nil {
		t.Fatal(err)
	}
	if w := sc.Servers[0].Weight; w != 1 {
		t.Fatalf("front weight %g, want the default 1", w)
	}
}
