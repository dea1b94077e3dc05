package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const frontScenario = `name: front
duration: 2s
servers:
  - {name: front, count: 2, workers: 2, upstream: %q}
policy: {condition: queue-delay, threshold: 5ms}
workload:
  arrival: {process: poisson, rate: 100/s}
`

// TestFrontCommands: a scenario with a front runs for real and writes
// backend.csv; sim refuses it pointing at fit; fit turns the run into a
// scenario that simulates; bad input to fit and serve --upstream exits 2.
func TestFrontCommands(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond)
		fmt.Fprintln(w, "backend page")
	}))
	defer backend.Close()
	sc := writeFile(t, "front.yaml", fmt.Sprintf(frontScenario, backend.URL))

	code, _, errs := runCLI(t, "sim", sc, "--quiet", "--out", filepath.Join(t.TempDir(), "s"))
	if code != 2 || !strings.Contains(errs, "servers[0].upstream") || !strings.Contains(errs, "redirlab fit") {
		t.Errorf("sim of a front: exit %d, %q; want 2 naming servers[0].upstream and redirlab fit", code, errs)
	}

	// Only a real run can run it: validate checks it as one.
	if code, out, errs := runCLI(t, "validate", sc); code != 0 || !strings.Contains(out, "ok for real: 2 servers") {
		t.Errorf("validate of a front: exit %d, %q %q", code, out, errs)
	}

	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	if code, _, errs := runCLI(t, "run", sc, "--quiet", "--out", run); code != 0 {
		t.Fatalf("run through fronts: exit %d: %s", code, errs)
	}
	if data, err := os.ReadFile(filepath.Join(run, "backend.csv")); err != nil || strings.Count(string(data), "\n") < 100 {
		t.Fatalf("backend.csv: %v, %d lines; want a row per exchange", err, strings.Count(string(data), "\n"))
	}
	fitted := filepath.Join(dir, "fitted.yaml")
	code, out, errs := runCLI(t, "fit", run, "--out", fitted)
	if code != 0 || !strings.Contains(out, "front") || !strings.Contains(out, "fitted: "+fitted) {
		t.Fatalf("fit: exit %d, %q %q", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "fitted.front.page-ms.txt")); err != nil {
		t.Errorf("the service-time file: %v", err)
	}
	if code, _, errs := runCLI(t, "sim", fitted, "--quiet", "--out", filepath.Join(dir, "sim")); code != 0 {
		t.Errorf("sim of the fitted scenario: exit %d: %s", code, errs)
	}

	simRun := filepath.Join(dir, "plain")
	if code, _, errs := runCLI(t, "sim", writeFile(t, "tiny.yaml", tiny), "--quiet", "--out", simRun); code != 0 {
		t.Fatalf("setup: %d %s", code, errs)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		// A directory that is no run.
		{[]string{"fit", dir, "--out", filepath.Join(dir, "x.yaml")}, "not one run's results directory"},
		// A run without fronts has nothing to fit.
		{[]string{"fit", simRun, "--out", filepath.Join(dir, "x.yaml")}, "has no fronts"},
		// --out exists.
		{[]string{"fit", run, "--out", fitted}, "exists"},
		// --out in a directory that is not there.
		{[]string{"fit", run, "--out", filepath.Join(dir, "nowhere", "x.yaml")}, "is not a directory"},
		// A front's upstream must be a base URL.
		{[]string{"serve", sc, "--server", "front-1", "--manager", "http://127.0.0.1:1", "--upstream", "ftp://x"}, "upstream"},
	} {
		code, _, errs := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tc.args, code, errs, tc.want)
		}
	}
}
