// Package arrival turns a scenario's arrival process into a schedule of
// session start times. It is pure: the schedule is a function of the
// scenario and the random stream passed in, so a simulated run and a real
// run of the same scenario and seed see the same arrival times.
package arrival

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/redirlab/redirlab/scenarios"
)

// Process yields successive arrival times since run start.
type Process interface {
	// Next returns the next arrival time, or ok=false once the horizon
	// is reached. Times never decrease.
	Next() (at time.Duration, ok bool)
}

// New builds the process for a, ending at horizon (warmup + duration).
// Closed-loop load has no schedule and is an error here.
func New(a scenarios.Arrival, horizon time.Duration, r *rand.Rand) (Process, error) {
	h := horizon.Seconds()
	switch a.Process {
	case "constant":
		if a.Rate <= 0 {
			return nil, fmt.Errorf("constant: rate must be > 0")
		}
		return &constant{gap: 1 / float64(a.Rate), horizon: h}, nil
	case "poisson":
		if a.Rate <= 0 {
			return nil, fmt.Errorf("poisson: rate must be > 0")
		}
		return &piecewise{r: r, horizon: h, pieces: []piece{{end: math.Inf(1), rate: float64(a.Rate)}}}, nil
	case "ramp":
		return &ramp{r: r, horizon: h, from: float64(a.From), to: float64(a.To)}, nil
	case "steps":
		if len(a.Steps) == 0 {
			return nil, fmt.Errorf("steps: no steps")
		}
		p := &piecewise{r: r, horizon: h}
		end := 0.0
		for i, s := range a.Steps {
			end += s.For.Seconds()
			if i == len(a.Steps)-1 {
				end = math.Inf(1) // the last rate holds to the end
			}
			p.pieces = append(p.pieces, piece{end: end, rate: float64(s.Rate)})
		}
		return p, nil
	case "mmpp":
		if len(a.States) < 2 {
			return nil, fmt.Errorf("mmpp: needs at least 2 states")
		}
		m := &mmpp{r: r, horizon: h, states: a.States}
		m.leave = r.ExpFloat64() * a.States[0].Dwell.Seconds()
		return m, nil
	case "trace":
		offs := slices.Clone(a.Offsets)
		slices.Sort(offs)
		return &trace{offsets: offs, horizon: horizon}, nil
	}
	return nil, fmt.Errorf("arrival process %q has no schedule", a.Process)
}

func seconds(s float64) time.Duration { return time.Duration(math.Round(s * 1e9)) }

// constant spaces arrivals exactly 1/rate apart, the first at 0.
type constant struct {
	k       int64
	gap     float64
	horizon float64
}

func (c *constant) Next() (time.Duration, bool) {
	// Multiply rather than accumulate so that rounding does not drift.
	t := float64(c.k) * c.gap
	if t >= c.horizon {
		return 0, false
	}
	c.k++
	return seconds(t), true
}

// piece is a constant Poisson rate up to end (seconds).
type piece struct {
	end, rate float64
}

// piecewise is a Poisson process whose rate is constant on pieces. Gaps
// are drawn in units of expected arrivals and spent across pieces, which
// is exact for a piecewise-constant intensity.
type piecewise struct {
	r       *rand.Rand
	pieces  []piece
	i       int
	t       float64
	horizon float64
}

func (p *piecewise) Next() (time.Duration, bool) {
	need := p.r.ExpFloat64() // arrivals' worth of intensity to spend
	for {
		if p.i >= len(p.pieces) || p.t >= p.horizon {
			return 0, false
		}
		pc := p.pieces[p.i]
		if pc.rate > 0 {
			if dt := need / pc.rate; p.t+dt < pc.end {
				p.t += dt
				if p.t >= p.horizon {
					return 0, false
				}
				return seconds(p.t), true
			}
			need -= (pc.end - p.t) * pc.rate
		}
		p.t = pc.end
		p.i++
	}
}

// ramp is a Poisson process whose rate rises (or falls) linearly from
// `from` at 0 to `to` at the horizon. Arrivals invert the cumulative
// intensity Λ(t) = from·t + (to−from)·t²/(2H).
type ramp struct {
	r        *rand.Rand
	from, to float64
	horizon  float64
	lambda   float64 // Λ at the last arrival
}

func (p *ramp) Next() (time.Duration, bool) {
	p.lambda += p.r.ExpFloat64()
	a := (p.to - p.from) / (2 * p.horizon)
	b := p.from
	var t float64
	if math.Abs(a) < 1e-12 {
		if b <= 0 {
			return 0, false
		}
		t = p.lambda / b
	} else {
		disc := b*b + 4*a*p.lambda
		if disc < 0 {
			return 0, false // a falling ramp that has spent all its intensity
		}
		// Numerically stable root of a·t² + b·t − Λ = 0.
		t = 2 * p.lambda / (b + math.Sqrt(disc))
	}
	if t >= p.horizon || t < 0 {
		return 0, false
	}
	return seconds(t), true
}

// mmpp is a Markov-modulated Poisson process: Poisson at the current
// state's rate, exponential dwell in each state, then a uniformly chosen
// other state.
type mmpp struct {
	r       *rand.Rand
	states  []scenarios.MMPPState
	cur     int
	t       float64
	leave   float64 // when the current state ends
	horizon float64
}

func (m *mmpp) Next() (time.Duration, bool) {
	for m.t < m.horizon {
		rate := float64(m.states[m.cur].Rate)
		if rate > 0 {
			// Memorylessness makes redrawing the gap after a switch exact.
			if t := m.t + m.r.ExpFloat64()/rate; t < m.leave {
				m.t = t
				if t >= m.horizon {
					return 0, false
				}
				return seconds(t), true
			}
		}
		m.t = m.leave
		next := m.r.IntN(len(m.states) - 1)
		if next >= m.cur {
			next++
		}
		m.cur = next
		m.leave = m.t + m.r.ExpFloat64()*m.states[m.cur].Dwell.Seconds()
	}
	return 0, false
}

// trace replays recorded offsets.
type trace struct {
	offsets []time.Duration
	i       int
	horizon time.Duration
}

func (t *trace) Next() (time.Duration, bool) {
	if t.i >= len(t.offsets) || t.offsets[t.i] >= t.horizon {
		return 0, false
	}
	t.i++
	return t.offsets[t.i-1], true
}
