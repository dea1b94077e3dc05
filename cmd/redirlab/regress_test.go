package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redirlab/redirlab/results"
)

// worsen writes a copy of the run in dir whose latencies are all f times
// its own.
func worsen(t *testing.T, dir string, f float64) string {
	t.Helper()
	s, err := results.ReadSummary(dir)
	if err != nil {
		t.Fatal(err)
	}
	l := &s.LatencyMS
	l.Mean, l.P50, l.P90, l.P99, l.P999, l.Max = l.Mean*f, l.P50*f, l.P90*f, l.P99*f, l.P999*f, l.Max*f
	out := t.TempDir()
	data, _ := json.Marshal(s)
	if err := os.WriteFile(filepath.Join(out, results.SummaryFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRegressBothWays: an unchanged run passes; all latencies 15% worse
// fail with exit 1 and a table naming p99; --exact catches a 0.1%
// change; bad input exits 2; the JUnit report parses.
func TestRegressBothWays(t *testing.T) {
	sc := writeFile(t, "tiny.yaml", tiny)
	base := filepath.Join(t.TempDir(), "base")
	if code, _, errs := runCLI(t, "sim", sc, "--quiet", "--no-records", "--out", base); code != 0 {
		t.Fatalf("sim: %d %s", code, errs)
	}
	if code, out, errs := runCLI(t, "regress", "--baseline", base, base); code != exitOK || !strings.Contains(out, "PASS") {
		t.Fatalf("unchanged: %d\n%s%s", code, out, errs)
	}
	worse := worsen(t, base, 1.15)
	code, out, _ := runCLI(t, "regress", "--baseline", base, worse)
	if code != exitJudged || !strings.Contains(out, "latency_ms.p99") || !strings.Contains(out, "+15.0%") || !strings.Contains(out, "FAIL") {
		t.Fatalf("15%% worse: %d\n%s", code, out)
	}
	if code, out, _ := runCLI(t, "regress", "--exact", "--baseline", filepath.Join(base, results.SummaryFile), worsen(t, base, 1.001)); code != exitJudged {
		t.Fatalf("--exact on a 0.1%% change: %d\n%s", code, out)
	}
	if code, out, _ := runCLI(t, "regress", "--tolerance", "latency_ms.mean=20%,latency_ms.p50=20%,latency_ms.p90=20%,latency_ms.p99=20%,latency_ms.p999=20%,latency_ms.max=20%", "--baseline", base, worse); code != exitOK {
		t.Fatalf("within 20%%: %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "regress", "--format", "junit", "--baseline", base, worse)
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Failures int      `xml:"failures,attr"`
		Suites   []struct {
			Cases []struct {
				Name string `xml:"name,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(out), &doc); err != nil || code != exitJudged || doc.Failures == 0 || len(doc.Suites) != 1 {
		t.Fatalf("junit: %d %v %+v\n%s", code, err, doc, out)
	}
	for _, bad := range [][]string{
		{"regress", base},                                                // no baseline
		{"regress", "--baseline", base},                                  // no run
		{"regress", "--baseline", t.TempDir(), base},                     // an empty baseline
		{"regress", "--baseline", base, "--format", "xml", base},         // an unknown format
		{"regress", "--baseline", base, "--tolerance", "p99=lots", base}, // a bad tolerance
	} {
		if code, _, _ := runCLI(t, bad...); code != exitBadInput {
			t.Errorf("%v: exit %d, want %d", bad, code, exitBadInput)
		}
	}
	// --update writes the baseline, which then passes.
	nb := filepath.Join(t.TempDir(), "baseline")
	if code, _, errs := runCLI(t, "regress", "--update", "--baseline", nb, worse); code != 0 {
		t.Fatalf("--update: %d %s", code, errs)
	}
	if code, _, _ := runCLI(t, "regress", "--exact", "--baseline", nb, worse); code != exitOK {
		t.Fatalf("against the updated baseline: %d", code)
	}
}
