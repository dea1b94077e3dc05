package sim

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
)

// runToDir simulates sc through a results.Recorder writing to dir and
// returns summary.json's bytes.
func runToDir(t testing.TB, sc *scenarios.Scenario, dir string, noRecords bool) (*results.Summary, []byte) {
	t.Helper()
	rec, err := results.NewRecorder(sc, results.Sim, results.Options{Dir: dir, NoRecords: noRecords})
	if err != nil {
		t.Fatal(err)
	}
	if err := Run(context.Background(), sc, rec); err != nil {
		t.Fatal(err)
	}
	sum, err := rec.Close()
	if err != nil {
		t.Fatal(err)
	}
	if dir == "" {
		return sum, nil
	}
	data, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	return sum, data
}

// TestSummaryByteIdentical: the same scenario and seed give a
// byte-identical summary.json (and requests.csv); another seed does not.
func TestSummaryByteIdentical(t *testing.T) {
	for _, name := range []string{"default", "testdata/bench.yaml"} {
		sc, err := scenarios.Load(name, "duration=8s")
		if err != nil {
			t.Fatal(err)
		}
		scs, err := sc.Expand()
		if err != nil {
			t.Fatal(err)
		}
		sc = scs[len(scs)-1] // the last variant (or the scenario itself)
		a, b := t.TempDir(), t.TempDir()
		sumA, ja := runToDir(t, sc, a, false)
		_, jb := runToDir(t, sc, b, false)
		if !bytes.Equal(ja, jb) {
			t.Errorf("%s: summary.json differs between two runs:\n%s\n%s", name, ja, jb)
		}
		ca, _ := os.ReadFile(filepath.Join(a, "requests.csv"))
		cb, _ := os.ReadFile(filepath.Join(b, "requests.csv"))
		if len(ca) == 0 || !bytes.Equal(ca, cb) {
			t.Errorf("%s: requests.csv empty (%d bytes) or different between two runs", name, len(ca))
		}
		if sumA.Requests.Sent == 0 || sumA.Requests.Sent != sumA.Requests.Completed+sumA.Requests.Errors+sumA.Requests.Rejected+sumA.Requests.Shed {
			t.Errorf("%s: request counts %+v", name, sumA.Requests)
		}
		sc.Seed++
		_, jc := runToDir(t, sc, t.TempDir(), false)
		if bytes.Equal(ja, jc) {
			t.Errorf("%s: seeds %d and %d give the same summary", name, sc.Seed-1, sc.Seed)
		}
	}
}

// BenchmarkSim100Servers measures the simulator's speed on the
// scenario of testdata/bench.yaml, shortened to 100 s of virtual time
// (about 900 k page requests) per iteration, through a results.Recorder
// with NoRecords as `redirlab sim --no-records` uses it. It reports
// simulated page requests per wall-clock second.
func BenchmarkSim100Servers(b *testing.B) {
	sc, err := scenarios.Load("testdata/bench.yaml", "duration=100s")
	if err != nil {
		b.Fatal(err)
	}
	var reqs int64
	start := time.Now()
	for b.Loop() {
		sum, _ := runToDir(b, sc, "", true)
		reqs += sum.Requests.Sent
	}
	b.ReportMetric(float64(reqs)/time.Since(start).Seconds(), "req/s")
	b.ReportMetric(float64(reqs)/float64(b.N), "req/op")
}

// TestEmbeddedScenarios runs every embedded scenario and each of its
// variants in full and checks the summary's accounting.
func TestEmbeddedScenarios(t *testing.T) {
	for _, info := range scenarios.Embedded() {
		sc, err := scenarios.Load(info.Name)
		if err != nil {
			t.Fatal(err)
		}
		scs, err := sc.Expand()
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range scs {
			sum, _ := runToDir(t, v, "", true)
			r := sum.Requests
			t.Logf("%s/%s: sent %d completed %d errors %d (timeouts %d) rejected %d, p50 %.1f ms p99 %.1f ms, redirect rate %.3f",
				info.Name, v.Variant, r.Sent, r.Completed, r.Errors, r.Timeouts, r.Rejected, sum.LatencyMS.P50, sum.LatencyMS.P99, sum.Redirects.Rate)
			if r.Sent == 0 || r.Sent != r.Completed+r.Errors+r.Rejected+r.Shed || r.Completed == 0 {
				t.Errorf("%s/%s: request counts %+v", info.Name, v.Variant, r)
			}
			for _, s := range sum.Servers {
				if s.Utilization < 0 || s.Utilization > 1.0001 {
					t.Errorf("%s/%s: server %s utilisation %.3f", info.Name, v.Variant, s.Name, s.Utilization)
				}
			}
		}
	}
}
