package dispatch

import (
	mrand "math/rand"
	"math/rand/v2"
	"reflect"
	"testing"
	"testing/quick"
)

// TestQuick checks, on random inputs, that Pick agrees with naivePick, a
// plain rendering of the documented semantics: the same servers from the
// same draws, and the stream left in the same state afterwards (so the
// number of draws agrees too).
func TestQuick(t *testing.T) {
	cfg := &quick.Config{MaxCount: 5000, Rand: mrand.New(mrand.NewSource(1))}
	fast := func(in run) outcome {
		d, err := New(in.Policy, in.Weights)
		if err != nil {
			t.Fatalf("%+v: %v", in, err)
		}
		return in.drive(func(loads []int64, up []bool, rng *rand.Rand) int {
			return d.Pick(func(i int) (int64, bool) { return loads[i], up[i] }, rng)
		})
	}
	naive := func(in run) outcome {
		rr := 0
		return in.drive(func(loads []int64, up []bool, rng *rand.Rand) int {
			return naivePick(in.Policy, in.Weights, loads, up, &rr, rng)
		})
	}
	if err := quick.CheckEqual(fast, naive, cfg); err != nil {
		t.Fatal(err)
	}
}

// naivePick is the reference: each policy as the package doc states it,
// recomputed from scratch on every pick.
func naivePick(p Policy, weights []float64, loads []int64, up []bool, rr *int, rng *rand.Rand) int {
	n := len(weights)
	if n == 1 {
		return 0
	}
	switch p {
	case RoundRobin:
		i := *rr % n
		*rr++
		return i
	case Weighted:
		total := 0.0
		for _, w := range weights {
			total += w
		}
		x := rng.Float64() * total
		sum := 0.0
		for i, w := range weights {
			sum += w
			if sum > x {
				return i
			}
		}
		for i := n - 1; ; i-- { // x rounded up to the total
			if weights[i] > 0 {
				return i
			}
		}
	case JSQ:
		least := int64(-1)
		for i := range n {
			if up[i] && (least < 0 || loads[i] < least) {
				least = loads[i]
			}
		}
		var ties []int
		for i := range n {
			if up[i] && loads[i] == least {
				ties = append(ties, i)
			}
		}
		if len(ties) == 0 {
			return rng.IntN(n)
		}
		if len(ties) == 1 {
			return ties[0]
		}
		return ties[rng.IntN(len(ties))]
	case P2C:
		a := rng.IntN(n)
		b := rng.IntN(n - 1)
		if b >= a {
			b++
		}
		switch {
		case up[a] && up[b]:
			if loads[b] < loads[a] {
				return b
			}
			return a
		case up[b]:
			return b
		default:
			return a
		}
	}
	return rng.IntN(n)
}

// run is one random input: a dispatcher's configuration, the starting
// loads and states of its servers, a seed and a number of picks.
type run struct {
	Policy  Policy
	Weights []float64
	Loads   []int64
	Up      []bool
	Seed    uint64
	Picks   int
}

// outcome is what a run must reproduce exactly.
type outcome struct {
	Picks []int
	Next  uint64 // the stream's next value after the run
}

// drive picks in.Picks times; each pick joins its server, and every
// third pick one server's state flips, so loads and states move.
func (in run) drive(pick func(loads []int64, up []bool, rng *rand.Rand) int) outcome {
	loads, up := append([]int64(nil), in.Loads...), append([]bool(nil), in.Up...)
	rng := rand.New(rand.NewPCG(in.Seed, 2))
	var out outcome
	for k := range in.Picks {
		i := pick(loads, up, rng)
		out.Picks = append(out.Picks, i)
		loads[i]++
		if k%3 == 2 {
			j := k % len(up)
			up[j] = !up[j]
		}
	}
	out.Next = rng.Uint64()
	return out
}

// Generate makes small clusters with many ties, zero weights and down
// servers, where the policies' corner cases live.
func (run) Generate(r *mrand.Rand, _ int) reflect.Value {
	n := 1 + r.Intn(8)
	in := run{
		Policy:  Policy(r.Intn(len(names))),
		Weights: make([]float64, n),
		Loads:   make([]int64, n),
		Up:      make([]bool, n),
		Seed:    r.Uint64(),
		Picks:   1 + r.Intn(30),
	}
	positive := false
	for i := range n {
		switch r.Intn(3) {
		case 0: // zero weight
		case 1:
			in.Weights[i] = float64(1 + r.Intn(3))
		default:
			in.Weights[i] = r.Float64() * 10
		}
		positive = positive || in.Weights[i] > 0
		in.Loads[i] = int64(r.Intn(4))
		in.Up[i] = r.Intn(4) != 0
	}
	if !positive {
		in.Weights[r.Intn(n)] = 1
	}
	return reflect.ValueOf(in)
}
