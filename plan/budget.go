package plan

import (
	"fmt"
	"math"
	"time"
)

// Budget bounds what a run may produce. A run whose estimate passes it is
// refused before it starts, naming the field to change: a typo such as
// rate 1e12/s or sample_interval 1ns must not run out of memory or run
// for days.
type Budget struct {
	// MaxRequests bounds the page requests scheduled. Default 1e9.
	MaxRequests float64
	// MaxSamples bounds the server samples taken (servers × horizon /
	// sample_interval) under an explicit sample_interval, which is
	// written sample by sample to servers.csv and read back whole to draw
	// the figures. Default 2e6. (Under the default interval servers.csv is
	// bounded already.)
	MaxSamples float64
	// MaxSeconds bounds warmup + duration, in seconds: the results keep
	// one row per second. Default 1e6 (11.6 days).
	MaxSeconds float64
}

// DefaultBudget is the budget unless the user raises it.
var DefaultBudget = Budget{MaxRequests: 1e9, MaxSamples: 2e6, MaxSeconds: 1e6}

// Estimate is what a run will produce, roughly.
type Estimate struct {
	// Requests is the exchanges scheduled: the mean arrival rate times
	// the horizon times the pages per session (closed loop: its requests,
	// or its browsers kept busy by the fastest service), each page with
	// its embedded objects.
	Requests float64
	// Samples is the server samples written to servers.csv one by one:
	// 0 under the default sample_interval, which the results thin out.
	Samples float64
	// Seconds is warmup + duration.
	Seconds float64
}

// Estimate estimates the run.
func (p *Plan) Estimate() Estimate {
	h := p.Horizon.Seconds()
	e := Estimate{Seconds: h}
	if !p.Scenario.SampleIntervalDefault {
		e.Samples = float64(len(p.Servers)) * h / p.SampleInterval.Seconds()
	}
	a := &p.Arrival
	var rate float64
	switch a.Process {
	case "constant", "poisson":
		rate = float64(a.Rate)
	case "ramp":
		rate = (float64(a.From) + float64(a.To)) / 2
	case "steps":
		left := h
		for i, st := range a.Steps {
			d := st.For.Seconds()
			if i == len(a.Steps)-1 || d > left {
				d = left
			}
			rate += float64(st.Rate) * d / max(h, 1e-9)
			left -= d
		}
	case "mmpp":
		var w, sum float64
		for _, st := range a.States {
			sum += float64(st.Rate) * st.Dwell.Seconds()
			w += st.Dwell.Seconds()
		}
		if w > 0 {
			rate = sum / w
		}
	case "trace":
		e.Requests = float64(len(a.Offsets) * p.Session.Pages)
	case "closed":
		if p.Requests > 0 {
			e.Requests = float64(p.Requests)
		} else {
			fastest := math.Inf(1)
			for _, s := range p.Servers {
				fastest = min(fastest, float64(s.Page.Mean())/float64(s.Workers))
			}
			per := max(fastest+float64(p.RTT), float64(time.Microsecond))
			e.Requests = float64(p.Concurrency) * float64(p.Horizon) / per
		}
	}
	if rate > 0 {
		e.Requests = rate * h * float64(p.Session.Pages)
	}
	// Every embedded object is an exchange of its own.
	e.Requests *= float64(1 + p.Session.Objects)
	return e
}

// Check refuses an estimate beyond b (zero fields take DefaultBudget's),
// naming the scenario field to change and the flag that raises the limit.
func (e Estimate) Check(b Budget) error {
	if b.MaxRequests <= 0 {
		b.MaxRequests = DefaultBudget.MaxRequests
	}
	if b.MaxSamples <= 0 {
		b.MaxSamples = DefaultBudget.MaxSamples
	}
	if b.MaxSeconds <= 0 {
		b.MaxSeconds = DefaultBudget.MaxSeconds
	}
	switch {
	case e.Seconds > b.MaxSeconds:
		return fmt.Errorf("duration: warmup + duration is %.3g s, over the limit of %.3g s (results keep a row per second); shorten it, or raise the limit with --max-seconds", e.Seconds, b.MaxSeconds)
	case e.Requests > b.MaxRequests:
		return fmt.Errorf("workload.arrival: about %.3g requests (rate × duration × pages × (1 + objects)), over the limit of %.3g; lower the rate, the duration or workload.session, or raise the limit with --max-requests", e.Requests, b.MaxRequests)
	case e.Samples > b.MaxSamples:
		return fmt.Errorf("sample_interval: %.3g server samples (servers × duration / sample_interval), over the limit of %.3g; sample less often, or raise the limit with --max-samples", e.Samples, b.MaxSamples)
	}
	return nil
}
