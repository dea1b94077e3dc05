package loadgen

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// dispatchPolicy is how a browser picks its first server.
type dispatchPolicy uint8

const (
	dispatchRandom dispatchPolicy = iota
	dispatchRoundRobin
	dispatchWeighted
	dispatchJSQ
	dispatchP2C
)

var dispatchNames = []string{"random", "round-robin", "weighted", "jsq", "p2c"}

func (d dispatchPolicy) String() string { return dispatchNames[d] }

func parseDispatch(s string) (dispatchPolicy, error) {
	if s == "" {
		return dispatchRandom, nil
	}
	if i := slices.Index(dispatchNames, s); i >= 0 {
		return dispatchPolicy(i), nil
	}
	return 0, fmt.Errorf("workload.dispatch: unknown policy %q (want one of %v)", s, dispatchNames)
}

// dispatcher picks first servers. It is pure apart from the random stream
// it owns, and is used by one goroutine at a time.
type dispatcher struct {
	policy  dispatchPolicy
	rng     *rand.Rand
	n       int       // servers
	next    int       // round-robin
	cum     []float64 // weighted: cumulative weights
	scratch []int     // jsq ties
}

// newDispatcher builds a dispatcher over len(weights) servers; weights are
// used by the weighted policy only and must not all be zero then.
func newDispatcher(p dispatchPolicy, weights []float64, rng *rand.Rand) (*dispatcher, error) {
	if len(weights) == 0 {
		return nil, fmt.Errorf("loadgen: no servers to dispatch to")
	}
	d := &dispatcher{policy: p, rng: rng, n: len(weights)}
	if p == dispatchWeighted {
		sum := 0.0
		for i, w := range weights {
			if w < 0 {
				return nil, fmt.Errorf("servers: weight of server %d is negative (%g)", i, w)
			}
			sum += w
			d.cum = append(d.cum, sum)
		}
		if sum <= 0 {
			return nil, fmt.Errorf("servers: weighted dispatch needs a positive weight")
		}
	}
	return d, nil
}

// pick chooses a server. outstanding[i] is the generator's own requests
// outstanding at server i (what an ideal front end sees); only jsq and p2c
// read it.
func (d *dispatcher) pick(outstanding func(i int) int64) int {
	n := d.n
	if n == 1 {
		return 0
	}
	switch d.policy {
	case dispatchRoundRobin:
		i := d.next
		d.next = (d.next + 1) % n
		return i
	case dispatchWeighted:
		x := d.rng.Float64() * d.cum[n-1]
		i, _ := slices.BinarySearch(d.cum, x)
		for i < n-1 && d.cum[i] <= x { // x equal to a boundary belongs to the next server
			i++
		}
		return i
	case dispatchJSQ:
		best := int64(-1)
		d.scratch = d.scratch[:0]
		for i := range n {
			q := outstanding(i)
			if best < 0 || q < best {
				best = q
				d.scratch = d.scratch[:0]
			}
			if q == best {
				d.scratch = append(d.scratch, i)
			}
		}
		return d.scratch[d.rng.IntN(len(d.scratch))] // ties broken at random, as a front end would
	case dispatchP2C:
		a := d.rng.IntN(n)
		b := d.rng.IntN(n - 1)
		if b >= a {
			b++
		}
		if outstanding(b) < outstanding(a) {
			return b
		}
		return a
	}
	return d.rng.IntN(n)
}
