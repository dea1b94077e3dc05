package sim

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/redirlab/redirlab/arrival"
	"github.com/redirlab/redirlab/dist"
	"github.com/redirlab/redirlab/model"
	"github.com/redirlab/redirlab/scenarios"
)

// naiveLatencies is a reference for the no-redirect case, computed without
// any event queue: the same arrival times, random dispatch and service
// draws as the simulator (same seeded streams), then each server as a FIFO
// with c workers: a request starts when it has arrived and the earliest
// worker is free, in arrival order.
func naiveLatencies(t *testing.T, sc *scenarios.Scenario) []time.Duration {
	t.Helper()
	n, c := sc.Servers[0].Count, sc.Servers[0].Workers
	proc, err := arrival.New(sc.Workload.Arrival, sc.Warmup+sc.Duration, rand.New(rand.NewPCG(sc.Seed, model.StreamArrivals)))
	if err != nil {
		t.Fatal(err)
	}
	browsers := rand.New(rand.NewPCG(sc.Seed, model.StreamDispatch))
	svc, err := dist.New(sc.Servers[0].Service)
	if err != nil {
		t.Fatal(err)
	}
	free := make([][]time.Duration, n) // when each worker is next free
	for i := range free {
		free[i] = make([]time.Duration, c)
	}
	half := sc.Network.RTT / 2
	var out []time.Duration
	for id := uint64(0); ; id++ {
		at, ok := proc.Next()
		if !ok {
			return out
		}
		i := browsers.IntN(n)
		reach := at + half
		w := 0
		for k := range free[i] {
			if free[i][k] < free[i][w] {
				w = k
			}
		}
		start := max(reach, free[i][w])
		free[i][w] = start + svc.Quantile(dist.Uniform(sc.Seed, id, 0))
		out = append(out, free[i][w]+sc.Network.Overhead+half-at)
	}
}

// TestAgainstNaiveReference: without redirects, every page request's
// latency equals the naive reference's to the nanosecond, over random
// cluster sizes, worker counts, loads, rtts and seeds.
func TestAgainstNaiveReference(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	for trial := 0; trial < 40; trial++ {
		n, c := 1+r.IntN(5), 1+r.IntN(3)
		load := 0.3 + 0.65*r.Float64()
		mean := 10 * ms
		rate := load * float64(n*c) / mean.Seconds()
		sc := baseScenario(n, c, mean, rate, time.Duration(3000/rate*float64(time.Second)))
		sc.Seed = r.Uint64()
		sc.Network.RTT = time.Duration(r.IntN(3)) * 2 * ms
		sc.Network.Overhead = time.Duration(r.IntN(2)) * 100 * time.Microsecond
		want := naiveLatencies(t, sc)
		var got []time.Duration
		for _, rec := range byID(runMem(t, sc).reqs) {
			got = append(got, rec.Latency())
		}
		if !slices.Equal(got, want) {
			for k := range min(len(got), len(want)) {
				if got[k] != want[k] {
					t.Fatalf("trial %d (n %d, c %d, load %.2f, rtt %v): request %d: latency %v, reference %v",
						trial, n, c, load, sc.Network.RTT, k, got[k], want[k])
				}
			}
			t.Fatalf("trial %d: %d records, reference %d", trial, len(got), len(want))
		}
	}
}
