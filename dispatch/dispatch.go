// Package dispatch is how a browser picks the first server of a page
// request (workload.dispatch), as a pure function.
//
// The simulator (sim) and the load generator (loadgen) call the same
// Pick with a random stream seeded alike, (seed, 2), so that for the same
// loads they pick the same servers with the same draws: common random
// numbers, which let a real run and its simulation be compared request by
// request. Nothing here reads a clock, performs I/O or starts a
// goroutine; randomness arrives as a *rand.Rand, and load as a function
// the caller supplies (live queue lengths in the simulator, the
// generator's own outstanding requests in a real run).
//
// The draws of each policy are part of the contract; changing them
// changes every seeded run:
//
//   - one server: server 0, no draw, whatever the policy;
//   - Random: one IntN(n);
//   - RoundRobin: none;
//   - Weighted: one Float64;
//   - JSQ: none when one up server has the least load, one IntN(ties)
//     when several tie, one IntN(n) when no server is up;
//   - P2C: IntN(n) then IntN(n-1).
package dispatch

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// Policy is how a browser picks its first server.
type Policy uint8

const (
	// Random picks a server uniformly at random, up or down, as a browser
	// resolving a name to one of several addresses would.
	Random Policy = iota
	// RoundRobin cycles through the servers in index order, like DNS
	// round robin; it ignores load and state.
	RoundRobin
	// Weighted picks server i with probability weight[i] / sum of weights,
	// up or down.
	Weighted
	// JSQ (join the shortest queue) is an ideal front end: the up server
	// with the least load, ties broken uniformly at random.
	JSQ
	// P2C (power of two choices) draws two distinct servers uniformly at
	// random and picks the up one, or the less loaded if both are up.
	P2C
)

// names are the policies as written in scenario files, indexed by Policy.
var names = []string{"random", "round-robin", "weighted", "jsq", "p2c"}

// String returns the policy's name as written in scenario files.
func (p Policy) String() string {
	if int(p) < len(names) {
		return names[p]
	}
	return fmt.Sprintf("unknown(%d)", uint8(p))
}

// Parse parses a policy name. The empty string is Random, the scenario
// default. The error names the valid values.
func Parse(s string) (Policy, error) {
	if s == "" {
		return Random, nil
	}
	for i, n := range names {
		if n == s {
			return Policy(i), nil
		}
	}
	return 0, fmt.Errorf("unknown dispatch %q (want one of %s)", s, strings.Join(names, ", "))
}

// Names lists the accepted policy names, for validation and docs.
func Names() []string { return append([]string(nil), names...) }

// Dispatcher is one run's dispatch state: the round-robin position, the
// cumulative weights and scratch space, so that Pick does not allocate.
// It is not safe for concurrent use.
type Dispatcher struct {
	policy Policy
	n      int       // servers
	next   int       // RoundRobin: the next server
	cum    []float64 // Weighted: cum[i] = weight[0] + ... + weight[i]
	last   int       // Weighted: the last server with a positive weight
	ties   []int     // JSQ: the up servers with the least load
}

// New returns a dispatcher over len(weights) servers. weights[i] is
// server i's share under Weighted; other policies use only its length.
// Under Weighted every weight must be finite and >= 0, and one positive.
func New(p Policy, weights []float64) (*Dispatcher, error) {
	if int(p) >= len(names) {
		return nil, fmt.Errorf("unknown dispatch policy %d", uint8(p))
	}
	n := len(weights)
	if n == 0 {
		return nil, errors.New("no servers to dispatch to")
	}
	d := &Dispatcher{policy: p, n: n, last: -1}
	switch p {
	case Weighted:
		d.cum = make([]float64, n)
		sum := 0.0
		for i, w := range weights {
			if w < 0 {
				return nil, fmt.Errorf("weight of server %d is negative (%g)", i, w)
			}
			if math.IsNaN(w) || math.IsInf(w, 0) {
				return nil, fmt.Errorf("weight of server %d is %g, want a finite number", i, w)
			}
			if w > 0 {
				d.last = i
			}
			sum += w
			d.cum[i] = sum
		}
		if d.last < 0 {
			return nil, errors.New("weighted dispatch needs a server with a positive weight")
		}
		if math.IsInf(sum, 0) {
			return nil, fmt.Errorf("weights sum to %g, want a finite total", sum)
		}
	case JSQ:
		d.ties = make([]int, 0, n)
	}
	return d, nil
}

// Pick chooses the first server of a page request, in [0, n).
//
// load(i) is server i's load as the dispatcher sees it and whether it is
// up; only JSQ and P2C call it, at most once per server, so the others
// accept nil. rng is the caller's dispatch stream; see the package doc for
// the draws each policy makes.
func (d *Dispatcher) Pick(load func(i int) (n int64, up bool), rng *rand.Rand) int {
	n := d.n
	if n == 1 {
		// No choice to make: drawing anyway would only shift the stream.
		return 0
	}
	switch d.policy {
	case RoundRobin:
		i := d.next
		d.next = (d.next + 1) % n
		return i
	case Weighted:
		// Server i owns [cum[i-1], cum[i]): the first i with cum[i] > x.
		// A zero weight owns an empty interval and is never picked.
		x := rng.Float64() * d.cum[n-1]
		lo, hi := 0, d.last // d.last also catches x rounded up to the total
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if d.cum[m] > x {
				hi = m
			} else {
				lo = m + 1
			}
		}
		return lo
	case JSQ:
		return d.jsq(load, rng)
	case P2C:
		a := rng.IntN(n)
		b := rng.IntN(n - 1)
		if b >= a { // two distinct servers, each pair equally likely
			b++
		}
		la, upA := load(a)
		lb, upB := load(b)
		if upB && (!upA || lb < la) { // an up server beats a down one; ties go to a
			return b
		}
		return a
	}
	return rng.IntN(n)
}

// jsq collects the up servers with the least load, then draws among them
// only if there is a choice.
func (d *Dispatcher) jsq(load func(i int) (int64, bool), rng *rand.Rand) int {
	var best int64
	d.ties = d.ties[:0]
	for i := range d.n {
		q, up := load(i)
		if !up {
			continue
		}
		if len(d.ties) == 0 || q < best {
			best = q
			d.ties = d.ties[:0]
		}
		if q == best {
			d.ties = append(d.ties, i)
		}
	}
	switch len(d.ties) {
	case 0:
		// No server up: the browser tries one anyway, as with Random.
		return rng.IntN(d.n)
	case 1:
		return d.ties[0]
	}
	return d.ties[rng.IntN(len(d.ties))]
}
