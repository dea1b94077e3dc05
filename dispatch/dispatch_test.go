package dispatch

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// counting is a random source that counts the 64-bit values drawn, so
// that tests can check how many draws a pick makes.
type counting struct {
	rand.Source
	n int
}

func (c *counting) Uint64() uint64 {
	c.n++
	return c.Source.Uint64()
}

// loadsOf is a load function over fixed loads; up nil means all up.
func loadsOf(loads []int64, up []bool) func(int) (int64, bool) {
	return func(i int) (int64, bool) { return loads[i], up == nil || up[i] }
}

func mustNew(t testing.TB, p Policy, weights []float64) *Dispatcher {
	t.Helper()
	d, err := New(p, weights)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestParse(t *testing.T) {
	for _, n := range Names() {
		p, err := Parse(n)
		if err != nil || p.String() != n {
			t.Errorf("%q round trip: %v %v", n, p, err)
		}
	}
	if p, err := Parse(""); err != nil || p != Random {
		t.Errorf(`Parse(""): %v %v, want random, the scenario default`, p, err)
	}
	_, err := Parse("dns")
	if want := `unknown dispatch "dns" (want one of random, round-robin, weighted, jsq, p2c)`; err == nil || err.Error() != want {
		t.Errorf("Parse(dns): %v, want %s", err, want)
	}
	if got := Policy(9).String(); got != "unknown(9)" {
		t.Errorf("Policy(9).String() = %q", got)
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name    string
		policy  Policy
		weights []float64
		want    string
	}{
		// Nothing to dispatch to.
		{"no servers", Random, nil, "no servers to dispatch to"},
		// A policy value outside the enumeration.
		{"bad policy", Policy(7), []float64{1}, "unknown dispatch policy 7"},
		// Weighted dispatch needs some weight.
		{"all zero", Weighted, []float64{0, 0}, "weighted dispatch needs a server with a positive weight"},
		// A negative share makes no sense; the message names the server.
		{"negative", Weighted, []float64{1, -1}, "weight of server 1 is negative (-1)"},
		// NaN would make every comparison false and pick the last server.
		{"nan", Weighted, []float64{1, math.NaN()}, "weight of server 1 is NaN, want a finite number"},
		// An infinite weight would swallow every other one.
		{"inf", Weighted, []float64{math.Inf(1), 1}, "weight of server 0 is +Inf, want a finite number"},
		// Finite weights whose total overflows.
		{"overflow", Weighted, []float64{math.MaxFloat64, math.MaxFloat64}, "weights sum to +Inf, want a finite total"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.policy, tc.weights)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	// Other policies read only the number of weights.
	for _, p := range []Policy{Random, RoundRobin, JSQ, P2C} {
		if _, err := New(p, []float64{0, -1}); err != nil {
			t.Errorf("%v with unused weights: %v", p, err)
		}
	}
}

func TestPick(t *testing.T) {
	tests := []struct {
		name    string
		policy  Policy
		weights []float64
		loads   []int64
		up      []bool // nil: all up
		want    []int  // acceptable servers
		draws   int    // 64-bit values drawn from the stream
	}{
		// One server: server 0 without a draw, whatever the policy...
		{"one random", Random, []float64{1}, []int64{0}, nil, []int{0}, 0},
		{"one weighted", Weighted, []float64{1}, []int64{0}, nil, []int{0}, 0},
		{"one p2c", P2C, []float64{1}, []int64{0}, nil, []int{0}, 0},
		// ...even down: there is nowhere else to go.
		{"one jsq down", JSQ, []float64{1}, []int64{0}, []bool{false}, []int{0}, 0},
		// Random ignores load and state, and draws once.
		{"random", Random, []float64{1, 1, 1}, []int64{0, 9, 9}, []bool{true, false, true}, []int{0, 1, 2}, 1},
		// Round-robin starts at server 0 and draws nothing.
		{"round-robin", RoundRobin, []float64{1, 1, 1}, nil, nil, []int{0}, 0},
		// Weighted never picks a zero weight, and draws one Float64.
		{"weighted one positive", Weighted, []float64{0, 2, 0}, nil, nil, []int{1}, 1},
		// JSQ: a unique least-loaded server is picked without a draw.
		{"jsq least", JSQ, []float64{1, 1, 1}, []int64{4, 2, 3}, nil, []int{1}, 0},
		// JSQ skips a down server even if it is the least loaded.
		{"jsq skips down", JSQ, []float64{1, 1, 1}, []int64{4, 0, 3}, []bool{true, false, true}, []int{2}, 0},
		// JSQ ties: one draw among the tied servers only.
		{"jsq ties", JSQ, []float64{1, 1, 1}, []int64{2, 2, 3}, nil, []int{0, 1}, 1},
		// JSQ with no server up falls back to Random: one draw over all.
		{"jsq none up", JSQ, []float64{1, 1, 1}, []int64{0, 1, 2}, []bool{false, false, false}, []int{0, 1, 2}, 1},
		// P2C over two servers compares both: the less loaded, two draws.
		{"p2c less loaded", P2C, []float64{1, 1}, []int64{5, 1}, nil, []int{1}, 2},
		// P2C prefers an up server to a less loaded down one.
		{"p2c prefers up", P2C, []float64{1, 1}, []int64{9, 1}, []bool{true, false}, []int{0}, 2},
		// P2C with both down still answers a server of the pair.
		{"p2c both down", P2C, []float64{1, 1}, []int64{0, 0}, []bool{false, false}, []int{0, 1}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := &counting{Source: rand.NewPCG(1, 2)}
			d := mustNew(t, tc.policy, tc.weights)
			var load func(int) (int64, bool)
			if tc.loads != nil {
				load = loadsOf(tc.loads, tc.up)
			}
			got := d.Pick(load, rand.New(src))
			if !slices.Contains(tc.want, got) {
				t.Errorf("picked %d, want one of %v", got, tc.want)
			}
			if src.n != tc.draws {
				t.Errorf("%d draws, want %d", src.n, tc.draws)
			}
		})
	}
}

// fixed is a random source that always draws the same value.
type fixed uint64

func (f fixed) Uint64() uint64 { return uint64(f) }

// TestWeightedBoundaries: server i owns the half-open interval
// [cum[i-1], cum[i]) of x = Float64() × total, so a draw on a boundary
// belongs to the next server and a zero weight owns nothing.
func TestWeightedBoundaries(t *testing.T) {
	const half = 1 << 52  // Float64() = 0.5
	const top = 1<<64 - 1 // Float64() = 1 - 2⁻⁵³, the largest
	tests := []struct {
		name    string
		weights []float64
		draw    uint64
		want    int
	}{
		// x = 0 with a zero weight first: the first server owns [0, 0).
		{"zero first", []float64{0, 1, 0}, 0, 1},
		// x = 1 on the boundary between two unit weights: the second.
		{"on boundary", []float64{1, 1}, half, 1},
		// x = 1 on a boundary followed by a zero weight: skip it.
		{"boundary then zero", []float64{1, 0, 1}, half, 2},
		// The largest draw with a zero weight last: the last positive.
		{"top, zero last", []float64{1, 1, 0}, top, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := mustNew(t, Weighted, tc.weights)
			if got := d.Pick(nil, rand.New(fixed(tc.draw))); got != tc.want {
				t.Fatalf("picked %d, want %d", got, tc.want)
			}
		})
	}
}

func TestRoundRobinCycles(t *testing.T) {
	d := mustNew(t, RoundRobin, []float64{1, 1, 1})
	var got []int
	for range 7 {
		got = append(got, d.Pick(nil, nil))
	}
	if want := []int{0, 1, 2, 0, 1, 2, 0}; !slices.Equal(got, want) {
		t.Fatalf("round-robin picked %v, want %v", got, want)
	}
}

func TestShares(t *testing.T) {
	const picks = 60000
	tests := []struct {
		name    string
		policy  Policy
		weights []float64
		loads   []int64
		up      []bool    // nil: all up
		want    []float64 // expected share per server
	}{
		// Random: uniform whatever the load.
		{"random", Random, []float64{1, 1, 1}, []int64{0, 9, 9}, nil, []float64{1. / 3, 1. / 3, 1. / 3}},
		// Weighted by weight; a zero weight gets nothing, even last.
		{"weighted", Weighted, []float64{1, 3, 0}, []int64{0, 0, 0}, nil, []float64{0.25, 0.75, 0}},
		// A zero weight first or in the middle gets nothing either.
		{"weighted zeros", Weighted, []float64{0, 1, 0, 1}, nil, nil, []float64{0, 0.5, 0, 0.5}},
		// JSQ: always the shortest queue.
		{"jsq", JSQ, []float64{1, 1, 1}, []int64{4, 2, 3}, nil, []float64{0, 1, 0}},
		// JSQ ties are broken uniformly among the shortest.
		{"jsq ties", JSQ, []float64{1, 1, 1}, []int64{2, 2, 3}, nil, []float64{0.5, 0.5, 0}},
		// JSQ with every server down: uniform, as Random.
		{"jsq none up", JSQ, []float64{1, 1}, []int64{0, 5}, []bool{false, false}, []float64{0.5, 0.5}},
		// P2C over 3 servers: the least loaded wins both pairs it is in
		// (2 of 3), the middle one its pair with the most loaded (1 of 3),
		// the most loaded never.
		{"p2c", P2C, []float64{1, 1, 1}, []int64{0, 5, 10}, nil, []float64{2. / 3, 1. / 3, 0}},
		// P2C with the least loaded down: it loses both its pairs, so the
		// middle one wins two pairs of three.
		{"p2c down", P2C, []float64{1, 1, 1}, []int64{0, 5, 10}, []bool{false, true, true}, []float64{0, 2. / 3, 1. / 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := mustNew(t, tc.policy, tc.weights)
			rng := rand.New(rand.NewPCG(7, 2))
			var load func(int) (int64, bool)
			if tc.loads != nil {
				load = loadsOf(tc.loads, tc.up)
			}
			got := make([]int, len(tc.weights))
			for range picks {
				got[d.Pick(load, rng)]++
			}
			for i, w := range tc.want {
				// Tolerance: 5 binomial standard deviations (plus one pick),
				// a false alarm about once in 3 million runs.
				sd := math.Sqrt(picks * w * (1 - w))
				if math.Abs(float64(got[i])-w*picks) > 5*sd+1 {
					t.Errorf("server %d got %d of %d picks, want %.0f ± %.0f", i, got[i], picks, w*picks, 5*sd+1)
				}
			}
		})
	}
}

// TestPickDoesNotAllocate: Pick runs once per page request in the load
// generator's pacer, which must not feed the garbage collector.
func TestPickDoesNotAllocate(t *testing.T) {
	loads := []int64{3, 1, 4, 1, 5, 9, 2, 6}
	load := loadsOf(loads, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, p := range []Policy{Random, RoundRobin, Weighted, JSQ, P2C} {
		d := mustNew(t, p, []float64{1, 2, 1, 2, 1, 2, 1, 2})
		if a := testing.AllocsPerRun(100, func() { d.Pick(load, rng) }); a != 0 {
			t.Errorf("%v: %v allocations per pick, want 0", p, a)
		}
	}
}

// TestSameStreamSamePicks: two callers shaped like the simulator (load
// from a status table with an up flag) and the load generator (its own
// outstanding counts, every server up) draw the same servers from the same
// seed when they see the same loads: the common random numbers that let a
// real run be compared with its simulation request by request.
func TestSameStreamSamePicks(t *testing.T) {
	type status struct {
		QueueLength int
		Up          bool
	}
	weights := []float64{1, 3, 0, 2}
	for _, p := range []Policy{Random, RoundRobin, Weighted, JSQ, P2C} {
		for seed := range uint64(5) {
			simD, realD := mustNew(t, p, weights), mustNew(t, p, weights)
			simRng, realRng := rand.New(rand.NewPCG(seed, 2)), rand.New(rand.NewPCG(seed, 2))
			live := make([]status, len(weights))
			outstanding := make([]int64, len(weights))
			for i := range live {
				live[i].Up = true
			}
			simLoad := func(i int) (int64, bool) { return int64(live[i].QueueLength), live[i].Up }
			realLoad := func(i int) (int64, bool) { return outstanding[i], true }
			for k := range 500 {
				a, b := simD.Pick(simLoad, simRng), realD.Pick(realLoad, realRng)
				if a != b {
					t.Fatalf("%v seed %d pick %d: sim-shaped caller picked %d, generator-shaped %d", p, seed, k, a, b)
				}
				// Both see the request join the server, and an older one
				// leave some server, so loads move and tie now and then.
				live[a].QueueLength++
				outstanding[b]++
				if j := k % len(live); live[j].QueueLength > 0 {
					live[j].QueueLength--
					outstanding[j]--
				}
			}
		}
	}
}

func BenchmarkPick(b *testing.B) {
	load := loadsOf([]int64{3, 1, 4, 1, 5, 9, 2, 6}, nil)
	for _, p := range []Policy{Random, RoundRobin, Weighted, JSQ, P2C} {
		b.Run(p.String(), func(b *testing.B) {
			d := mustNew(b, p, []float64{1, 2, 1, 2, 1, 2, 1, 2})
			rng := rand.New(rand.NewPCG(1, 2))
			for b.Loop() {
				d.Pick(load, rng)
			}
		})
	}
}
