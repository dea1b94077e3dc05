package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/redirlab/redirlab/results"
)

// TestThresholdsExit: a threshold a run misses fails it (exit 1) and is
// named, with the verdict in summary.json; one it meets passes; a setting
// without effect and a run past its budget are bad input.
func TestThresholdsExit(t *testing.T) {
	strict := writeFile(t, "strict.yaml", tiny+"thresholds:\n  latency_ms.p99: \"< 1ms\"\n  requests.rejected: \"== 0\"\n")
	out := filepath.Join(t.TempDir(), "strict")
	code, stdout, stderr := runCLI(t, "sim", strict, "--quiet", "--no-records", "--out", out)
	if code != exitJudged || !strings.Contains(stdout, "threshold tiny: latency_ms.p99 < 1ms: fail") || !strings.Contains(stderr, "latency_ms.p99") {
		t.Fatalf("< 1ms: exit %d\n%s%s", code, stdout, stderr)
	}
	s, err := results.ReadSummary(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Thresholds) != 2 || s.Thresholds[0].Verdict != "fail" || s.Thresholds[1].Verdict != "pass" {
		t.Fatalf("summary thresholds %+v", s.Thresholds)
	}
	loose := writeFile(t, "loose.yaml", tiny+"thresholds:\n  latency_ms.p99: \"< 10s\"\n")
	if code, stdout, _ := runCLI(t, "sim", loose, "--quiet", "--no-records", "--out", filepath.Join(t.TempDir(), "loose")); code != exitOK || !strings.Contains(stdout, "pass") {
		t.Fatalf("< 10s: exit %d\n%s", code, stdout)
	}
	// Replications judge on the confidence bound.
	reps := writeFile(t, "reps.yaml", tiny+"replications: 3\nthresholds:\n  latency_ms.p99: \"< 10s\"\n")
	out = filepath.Join(t.TempDir(), "reps")
	if code, _, errs := runCLI(t, "sim", reps, "--quiet", "--no-records", "--out", out); code != exitOK {
		t.Fatalf("replications: exit %d %s", code, errs)
	}
	if s, err := results.ReadSummary(filepath.Join(out, "rep-2")); err != nil || len(s.Thresholds) != 1 || s.Thresholds[0].Bound <= s.Thresholds[0].Value {
		t.Fatalf("replication's thresholds: %+v %v", s, err)
	}
	for _, bad := range [][]string{
		{"sim", loose, "--set", "workload.arrival.from=100/s"}, // ramp's field under poisson
		{"sim", loose, "--set", "duration=1000000h"},           // past the budget
		{"sim", loose, "--set", "workload.arrival.rate=1e12/s"},
		{"sim", loose, "--set", "duration=10s", "--max-requests", "10"}, // a budget made smaller
	} {
		if code, _, errs := runCLI(t, append(bad, "--quiet", "--out", filepath.Join(t.TempDir(), "x"))...); code != exitBadInput {
			t.Errorf("%v: exit %d, want %d (%s)", bad, code, exitBadInput, errs)
		}
	}
}
