// Package policy is redirlab's pure core: the redirect decision.
//
// Everything here is a function of its arguments. Nothing reads a clock,
// performs I/O or starts a goroutine; randomness arrives as a *rand.Rand.
// The simulator (sim) and the real web server (server) call the same
// Decide, so a fix here is a fix in both.
package policy

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Condition is the predicate a server's status must satisfy for it to
// redirect.
type Condition uint8

const (
	// None never holds: the no-redirect baseline.
	None Condition = iota
	// QueueLength holds when queue length > threshold (a count).
	QueueLength
	// QueueDelay holds when queue delay > threshold (a duration).
	QueueDelay
	// Adaptive holds when admitting the arrival would put the requests
	// in flight (queue length) above the server's adaptive concurrency
	// limit (Status.Limit, kept by the Gradient rule).
	Adaptive
)

// Action is what a server does with an arrival while the condition holds.
type Action uint8

const (
	// Redirect answers with a redirect to a peer chosen by the target rule.
	Redirect Action = iota
	// Shed answers 503 with Retry-After, as a load shedder (nginx
	// limit_req, HAProxy maxqueue) does: the request is turned away, not
	// sent elsewhere.
	Shed
)

// Estimator says how a server turns its queue into a queue delay.
type Estimator uint8

const (
	// HOL is the head-of-line age: how long the oldest waiting request
	// has waited so far; 0 when none waits.
	HOL Estimator = iota
	// EWMA is an exponentially weighted moving average of measured waits.
	EWMA
	// Predicted is waiting × mean service / workers.
	Predicted
)

// Target says how a redirecting server picks the peer to redirect to.
type Target uint8

const (
	// LeastLoaded picks the up peer with the least load in the view.
	LeastLoaded Target = iota
	// Random picks an up peer uniformly at random.
	Random
	// RoundRobin cycles through up peers, driven by the arrival sequence.
	RoundRobin
	// P2C samples two random up peers and picks the less loaded.
	P2C
	// Probe samples up to ProbeLimit random up peers and picks the first
	// not in the condition; if none is found the request is served locally.
	Probe
)

// Placement says where the condition is evaluated.
type Placement uint8

const (
	// Local: each server checks its own live status at each arrival.
	Local Placement = iota
	// Central: the manager evaluates the condition on reported status
	// every report interval and flags overloaded servers with a target.
	Central
)

// Config is a validated redirect policy. The scenarios package builds it
// from the scenario file; the zero value is "never redirect". The fields
// read on every arrival come first, so that they share a cache line.
type Config struct {
	// Condition is the redirect condition.
	Condition Condition
	// Estimator is how queue delay is estimated (Condition QueueDelay).
	Estimator Estimator
	// Target is how the peer is chosen.
	Target Target
	// Placement is local or central.
	Placement Placement
	// Action is redirect or shed.
	Action Action
	// LengthThreshold is the queue-length threshold (Condition QueueLength).
	LengthThreshold int
	// MaxHops: a request that has been redirected MaxHops times is served.
	MaxHops int
	// DelayThreshold is the queue-delay threshold (Condition QueueDelay).
	DelayThreshold time.Duration
	// ProbeLimit is the number of peers Probe samples at most.
	ProbeLimit int
	// Fraction is the share of arrivals redirected while the condition
	// holds, in (0, 1].
	Fraction float64
	// Gradient is the adaptive limit's rule (Condition Adaptive).
	Gradient Gradient
}

// Status is what a server knows of itself, and what its agent reports.
type Status struct {
	// Server is the server's index in the scenario (0-based).
	Server int
	// QueueLength is requests accepted and not yet answered: waiting
	// plus in service.
	QueueLength int
	// Waiting is requests accepted and not yet in service.
	Waiting int
	// QueueDelay is the queue delay by the configured estimator.
	QueueDelay time.Duration
	// Workers is the number of workers serving the queue.
	Workers int
	// Up is false for a server known to be down (crashed, or expired by
	// the manager).
	Up bool
	// At is when the status was measured, since run start.
	At time.Duration
	// Limit is the adaptive concurrency limit in force (Condition
	// Adaptive only; 0 otherwise).
	Limit int
}

// Instruction is the manager's word to one server under central placement.
type Instruction struct {
	// Redirect is true when the server is flagged as overloaded.
	Redirect bool
	// Target is the peer to redirect to, or -1 to let the server choose
	// by the configured target rule.
	Target int
}

// View is the manager's last published view of the cluster. Servers is
// indexed by server index. Instructions is nil under local placement.
type View struct {
	Servers      []Status
	Instructions []Instruction
	// At is when the view was published, since run start.
	At time.Duration
}

// Decision is the answer to one arrival.
type Decision struct {
	// Redirect is true when the request must be redirected.
	Redirect bool
	// Target is the server index to redirect to; meaningful only when
	// Redirect is true.
	Target int
	// Shed is true when the request must be turned away (Action Shed).
	Shed bool
}

// Serve is the decision to serve locally.
var Serve = Decision{Target: -1}

// Holds reports whether status s satisfies the condition.
func (c *Config) Holds(s Status) bool {
	switch c.Condition {
	case QueueLength:
		return s.QueueLength > c.LengthThreshold
	case QueueDelay:
		return s.QueueDelay > c.DelayThreshold
	case Adaptive:
		return s.QueueLength >= s.Limit
	}
	return false
}

// less reports whether a is less loaded than b, as the targets compare
// servers: under queue-delay by queue delay first, and on equal delays
// (both 0 when nobody waits) by queue length per worker; under the other
// conditions by queue length per worker alone, so that a 4-worker server
// with 4 requests counts as less loaded than a 1-worker server with 2.
func (c *Config) less(a, b Status) bool {
	if c.Condition == QueueDelay {
		if a.QueueDelay != b.QueueDelay {
			return a.QueueDelay < b.QueueDelay
		}
	}
	// Cross-multiply to compare QueueLength/Workers without division.
	wa, wb := max(a.Workers, 1), max(b.Workers, 1)
	return a.QueueLength*wb < b.QueueLength*wa
}

// Decide answers one arrival at server self.Server.
//
// self is the server's live status; view is the manager's last published
// view (possibly stale); hops is how many times the request has already
// been redirected; seq is the arrival's sequence number at this server,
// which drives RoundRobin; rng supplies all randomness.
func (c *Config) Decide(self Status, view View, hops int, seq uint64, rng *rand.Rand) Decision {
	if c.Condition == None || hops >= c.MaxHops {
		return Serve
	}
	target := -1
	switch c.Placement {
	case Local:
		if !c.Holds(self) {
			return Serve
		}
	case Central:
		if self.Server >= len(view.Instructions) || !view.Instructions[self.Server].Redirect {
			return Serve
		}
		target = view.Instructions[self.Server].Target
		if target == self.Server || target >= len(view.Servers) || (target >= 0 && !view.Servers[target].Up) {
			target = -1
		}
	}
	if c.Fraction < 1 && rng.Float64() >= c.Fraction {
		return Serve
	}
	if c.Action == Shed {
		return Decision{Shed: true, Target: -1}
	}
	if target < 0 {
		target = c.pick(self.Server, view.Servers, seq, rng)
	}
	if target < 0 {
		return Serve
	}
	return Decision{Redirect: true, Target: target}
}

// eligible reports whether server i of the view may receive a redirect
// from server self.
func eligible(servers []Status, i, self int) bool {
	return i != self && servers[i].Up
}

// pick chooses a peer by the target rule, or -1 when no peer qualifies.
func (c *Config) pick(self int, servers []Status, seq uint64, rng *rand.Rand) int {
	n := len(servers)
	switch c.Target {
	case LeastLoaded:
		best := -1
		// Start the scan at a random offset so that ties are broken
		// uniformly rather than always towards low indices.
		off := 0
		if n > 1 {
			off = rng.IntN(n)
		}
		for k := 0; k < n; k++ {
			i := (off + k) % n
			if !eligible(servers, i, self) {
				continue
			}
			if best < 0 || c.less(servers[i], servers[best]) {
				best = i
			}
		}
		return best
	case Random:
		return randomPeer(servers, self, rng)
	case RoundRobin:
		up := 0
		for i := range servers {
			if eligible(servers, i, self) {
				up++
			}
		}
		if up == 0 {
			return -1
		}
		k := int(seq % uint64(up))
		for i := range servers {
			if eligible(servers, i, self) {
				if k == 0 {
					return i
				}
				k--
			}
		}
	case P2C:
		a := randomPeer(servers, self, rng)
		if a < 0 {
			return -1
		}
		b := randomPeer(servers, self, rng)
		if c.less(servers[b], servers[a]) {
			return b
		}
		return a
	case Probe:
		for k := 0; k < c.ProbeLimit; k++ {
			i := randomPeer(servers, self, rng)
			if i < 0 {
				return -1
			}
			if !c.Holds(servers[i]) {
				return i
			}
		}
	}
	return -1
}

// randomPeer returns a uniformly random up peer other than self, or -1.
// It tries rejection sampling first (cheap when most peers are up) and
// falls back to an exact scan.
func randomPeer(servers []Status, self int, rng *rand.Rand) int {
	n := len(servers)
	if n <= 1 {
		return -1
	}
	for try := 0; try < 8; try++ {
		i := rng.IntN(n)
		if eligible(servers, i, self) {
			return i
		}
	}
	up := 0
	for i := range servers {
		if eligible(servers, i, self) {
			up++
		}
	}
	if up == 0 {
		return -1
	}
	k := rng.IntN(up)
	for i := range servers {
		if eligible(servers, i, self) {
			if k == 0 {
				return i
			}
			k--
		}
	}
	return -1
}

// Instruct is the manager's central decision: for each server in the
// reported statuses, whether it must redirect and to whom. Servers that
// are down are never flagged and never chosen. Targets are spread over
// the peers not in the condition, least loaded first, so that one quiet
// server does not receive every flagged server's overflow.
func (c *Config) Instruct(servers []Status, rng *rand.Rand) []Instruction {
	out := make([]Instruction, len(servers))
	for i := range out {
		out[i].Target = -1
	}
	if c.Condition == None {
		return out
	}
	var calm []int
	for i, s := range servers {
		if s.Up && !c.Holds(s) {
			calm = append(calm, i)
		}
	}
	// Order calm peers by load (stable insertion sort: views are small).
	for i := 1; i < len(calm); i++ {
		for j := i; j > 0 && c.less(servers[calm[j]], servers[calm[j-1]]); j-- {
			calm[j], calm[j-1] = calm[j-1], calm[j]
		}
	}
	next := 0
	for i, s := range servers {
		if !s.Up || !c.Holds(s) {
			continue
		}
		out[i].Redirect = true
		if len(calm) > 0 {
			out[i].Target = calm[next%len(calm)]
			next++
		}
	}
	return out
}

// EstimateDelay applies estimator e. hol is the head-of-line age,
// ewma the server's moving average of measured waits, meanService the
// configured mean service time.
func EstimateDelay(e Estimator, hol, ewma time.Duration, waiting, workers int, meanService time.Duration) time.Duration {
	switch e {
	case EWMA:
		return ewma
	case Predicted:
		return time.Duration(int64(waiting) * int64(meanService) / int64(max(workers, 1)))
	}
	return hol
}

// String names for the enumerations, as written in scenario files.

var conditionNames = []string{"none", "queue-length", "queue-delay", "adaptive"}
var actionNames = []string{"redirect", "shed"}
var estimatorNames = []string{"hol", "ewma", "predicted"}
var targetNames = []string{"least-loaded", "random", "round-robin", "p2c", "probe"}
var placementNames = []string{"local", "central"}

func (c Condition) String() string { return name(conditionNames, int(c)) }
func (a Action) String() string    { return name(actionNames, int(a)) }
func (e Estimator) String() string { return name(estimatorNames, int(e)) }
func (t Target) String() string    { return name(targetNames, int(t)) }
func (p Placement) String() string { return name(placementNames, int(p)) }

func name(names []string, i int) string {
	if i < len(names) {
		return names[i]
	}
	return fmt.Sprintf("unknown(%d)", i)
}

func parse[T ~uint8](names []string, s, what string) (T, error) {
	for i, n := range names {
		if n == s {
			return T(i), nil
		}
	}
	return 0, fmt.Errorf("unknown %s %q (want one of %v)", what, s, names)
}

// ParseCondition parses a condition name.
func ParseCondition(s string) (Condition, error) {
	return parse[Condition](conditionNames, s, "condition")
}

// ParseAction parses an action name.
func ParseAction(s string) (Action, error) { return parse[Action](actionNames, s, "action") }

// ParseEstimator parses an estimator name.
func ParseEstimator(s string) (Estimator, error) {
	return parse[Estimator](estimatorNames, s, "estimator")
}

// ParseTarget parses a target name.
func ParseTarget(s string) (Target, error) { return parse[Target](targetNames, s, "target") }

// ParsePlacement parses a decision placement name.
func ParsePlacement(s string) (Placement, error) {
	return parse[Placement](placementNames, s, "decision")
}

// Names lists the accepted names, for error messages and docs.
func ConditionNames() []string { return append([]string(nil), conditionNames...) }
func EstimatorNames() []string { return append([]string(nil), estimatorNames...) }
func ActionNames() []string    { return append([]string(nil), actionNames...) }
func TargetNames() []string    { return append([]string(nil), targetNames...) }
func PlacementNames() []string { return append([]string(nil), placementNames...) }

// Gradient is the adaptive condition's concurrency-limit rule, after the
// gradient controller of Envoy's adaptive concurrency filter and Netflix
// concurrency-limits' Gradient2Limit. First minRTT is measured, as
// Envoy does, with the limit pinned at MinLimit: the mean latency of the
// first MinRTTRequests completions. Then the limit starts at
// InitialLimit and, once per Window, from the window's completions:
//
//	sample   = mean latency of the window's completions
//	gradient = clamp(minRTT × (1 + Buffer) / sample, 0.5, 2)
//	grown    = gradient × limit;  grown += √grown
//	limit    = clamp((1 − Smoothing) × limit + Smoothing × grown, MinLimit, MaxLimit)
//
// and the limit stays as it is in a window without completions, or whose
// peak demand (requests in flight with the arrival) stayed below half the
// limit (the server was not limited by it: Gradient2's app-limited rule).
type Gradient struct {
	// Window is how often the limit is recomputed.
	Window time.Duration
	// InitialLimit is the limit before the first window closes.
	InitialLimit float64
	// MinLimit and MaxLimit bound the limit; MinLimit is also the limit
	// while minRTT is measured.
	MinLimit, MaxLimit float64
	// MinRTTRequests is how many completions minRTT is measured over.
	MinRTTRequests int
	// Buffer is the share of minRTT a sample may exceed it by and still
	// count as no queueing.
	Buffer float64
	// Smoothing is the weight of the new estimate, in (0, 1].
	Smoothing float64
}

// Next is the limit after one window whose completions averaged sample
// (sample > 0), given the measured minRTT and the window's peak demand.
func (g *Gradient) Next(limit float64, minRTT, sample time.Duration, peak int) float64 {
	if float64(peak) < limit/2 {
		return limit
	}
	gradient := min(max(float64(minRTT)*(1+g.Buffer)/float64(sample), 0.5), 2)
	grown := gradient * limit
	grown += math.Sqrt(grown)
	next := (1-g.Smoothing)*limit + g.Smoothing*grown
	return min(max(next, g.MinLimit), g.MaxLimit)
}
