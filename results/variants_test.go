package results

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/redirlab/redirlab/scenarios"
)

// TestVariantsOf: every variant of a scenario, embedded or a file,
// knows the scenario's whole variant list, base first, and its summary
// lists it; a scenario without variants, and a file that is gone, list
// none.
func TestVariantsOf(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "v.yaml")
	src := `name: v
duration: 2s
servers: [{name: web, count: 2, workers: 2, service: {dist: exp, mean: 10ms}}]
workload: {arrival: {process: poisson, rate: 100/s}}
variants:
  - {name: zeta, set: {policy.threshold: 3}}
  - {name: alpha, set: {policy.threshold: 5}}
`
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "plain.yaml")
	if err := os.WriteFile(plain, []byte(src[:strings.Index(src, "variants:")]), 0o644); err != nil {
		t.Fatal(err)
	}
	gone := filepath.Join(dir, "gone.yaml")
	if err := os.WriteFile(gone, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	expand := func(name string) []*scenarios.Scenario {
		t.Helper()
		sc, err := scenarios.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		vs, err := sc.Expand()
		if err != nil {
			t.Fatal(err)
		}
		return vs
	}
	// asRun is sc loaded again from its scenario.yaml, as merge does.
	asRun := func(sc *scenarios.Scenario) []*scenarios.Scenario {
		t.Helper()
		data, err := sc.YAML()
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), ScenarioFile)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		back, err := scenarios.Parse(path, data)
		if err != nil {
			t.Fatal(err)
		}
		back.Variant = sc.Variant
		return []*scenarios.Scenario{back}
	}
	goneVariants := expand(gone)
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		runs []*scenarios.Scenario
		want []string
	}{
		// An embedded scenario: its variants in file order, base first.
		{"embedded", expand("default"), []string{"base", "no-redirect", "queue-delay", "shed", "adaptive"}},
		// A file: in file order, not by name.
		{"file", expand(file), []string{"base", "zeta", "alpha"}},
		// A scenario without variants: none.
		{"no variants", expand(plain), nil},
		// A variant's scenario.yaml as run (what a merge reads), given its variant: none.
		{"as run", append(asRun(expand(file)[0]), asRun(expand(file)[2])...), nil},
		// A file removed since it was loaded: the list came with the expansion.
		{"file gone", goneVariants, []string{"base", "zeta", "alpha"}},
	} {
		for _, sc := range c.runs {
			if got := VariantsOf(sc); !slices.Equal(got, c.want) {
				t.Errorf("%s, variant %q: %v, want %v", c.name, sc.Variant, got, c.want)
			}
		}
	}
	// The summary of a run of one variant lists them all.
	shed := expand("default")[3]
	r, err := NewRecorder(shed, Sim, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := mustClose(t, r)
	if k, ok := s.ColorIndex(); !ok || k != 3 || !slices.Equal(s.Variants, []string{"base", "no-redirect", "queue-delay", "shed", "adaptive"}) {
		t.Errorf("summary of shed: variants %v, colour index %d %v; want the default's, 3", s.Variants, k, ok)
	}
}
