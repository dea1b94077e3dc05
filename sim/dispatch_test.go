package sim

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/redirlab/redirlab/dispatch"
	"github.com/redirlab/redirlab/scenarios"
)

// TestPickIsShared: the simulator's browsers dispatch with the shared
// dispatch.Dispatcher over the group weights, drawing from the stream
// (seed, 2), with live queue lengths as load and down servers known. The
// load generator's TestDispatchSharedStream checks its side against the
// same reference, so for the same loads both pick the same servers with
// the same draws: a real run and its simulation can be compared request
// by request.
func TestPickIsShared(t *testing.T) {
	weights := []float64{1, 1, 1, 3}
	for _, name := range dispatch.Names() {
		t.Run(name, func(t *testing.T) {
			sc := baseScenario(3, 1, 10*ms, 100, time.Second)
			sc.Servers = append(sc.Servers, sc.Servers[0])
			sc.Servers[1].Name, sc.Servers[1].Count, sc.Servers[1].Weight = "big", 1, 3
			sc.Seed = 42
			sc.Workload.Dispatch = name
			s, err := newSimulation(sc, &memRecorder{})
			if err != nil {
				t.Fatal(err)
			}
			p, err := dispatch.Parse(name)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := dispatch.New(p, weights)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(sc.Seed, 2))
			load := func(i int) (int64, bool) { return int64(s.live[i].QueueLength), s.live[i].Up }
			for k := range 500 {
				got, want := s.pick(), ref.Pick(load, rng)
				if got != want {
					t.Fatalf("pick %d: simulator picked %d, shared dispatcher %d", k, got, want)
				}
				// The request joins its server and an older one leaves
				// some server, so loads move and tie now and then; a
				// server goes down and comes back now and then.
				s.live[got].QueueLength++
				if j := k % len(s.live); s.live[j].QueueLength > 0 {
					s.live[j].QueueLength--
				}
				if k%7 == 0 {
					j := (k / 7) % len(s.live)
					s.live[j].Up = !s.live[j].Up
				}
			}
		})
	}
}

// TestDispatchErrors: the simulator names the field, and the weighted
// dispatch's own check, as before the shared package.
func TestDispatchErrors(t *testing.T) {
	tests := []struct {
		name string
		set  func(sc *scenarios.Scenario)
		want string
	}{
		// An unknown name lists the valid ones.
		{"unknown", func(sc *scenarios.Scenario) { sc.Workload.Dispatch = "dns" },
			`sim: workload.dispatch: unknown dispatch "dns" (want one of random, round-robin, weighted, jsq, p2c)`},
		// Weighted dispatch with every weight 0.
		{"no weight", func(sc *scenarios.Scenario) { sc.Workload.Dispatch = "weighted"; sc.Servers[0].Weight = 0 },
			"sim: workload.dispatch: weighted dispatch needs a server with a positive weight"},
		// A negative weight is the server's error, by name.
		{"negative", func(sc *scenarios.Scenario) { sc.Servers[0].Weight = -1 },
			"sim: server web-1: weight: must not be negative, got -1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := baseScenario(2, 1, 10*ms, 100, time.Second)
			tc.set(sc)
			_, err := newSimulation(sc, &memRecorder{})
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}
