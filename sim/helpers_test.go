package sim

import (
	"context"
	"testing"
	"time"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
)

// memRecorder keeps every record and sample in memory.
type memRecorder struct {
	reqs    []results.Request
	samples []results.ServerSample
	notes   []string
}

func (m *memRecorder) Add(r *results.Request)            { m.reqs = append(m.reqs, *r) }
func (m *memRecorder) AddSample(s *results.ServerSample) { m.samples = append(m.samples, *s) }
func (m *memRecorder) Note(s string)                     { m.notes = append(m.notes, s) }

// latencyRecorder keeps only the latencies (seconds) of completed page
// requests scheduled after warmup, for long theory runs.
type latencyRecorder struct {
	warmup  time.Duration
	lat     []float64
	other   int // outcomes other than completed
	redirs  int
	samples int
}

func (l *latencyRecorder) Add(r *results.Request) {
	if r.Scheduled < l.warmup {
		return
	}
	if r.Outcome != results.Completed {
		l.other++
		return
	}
	l.redirs += r.Redirects
	l.lat = append(l.lat, r.Latency().Seconds())
}
func (l *latencyRecorder) AddSample(*results.ServerSample) { l.samples++ }
func (l *latencyRecorder) Note(string)                     {}

func dur(d time.Duration) *time.Duration { return &d }
func ptr(f float64) *float64             { return &f }

// baseScenario is a scenario built in code with every default a loaded
// file would carry made explicit: n servers of w workers, exponential
// service of mean svc, Poisson arrivals at rate per second, no redirects,
// zero rtt and an exact view.
func baseScenario(n, w int, svc time.Duration, rate float64, duration time.Duration) *scenarios.Scenario {
	return &scenarios.Scenario{
		Name:           "test",
		Seed:           1,
		Duration:       duration,
		Replications:   1,
		SampleInterval: 100 * time.Millisecond,
		Servers: []scenarios.ServerGroup{{
			Name: "web", Count: n, Workers: w, QueueCapacity: 1 << 30,
			Service: scenarios.Service{Dist: "exp", Mean: svc, CV: 1},
			Weight:  1, PageBytes: 2048, ObjectBytes: 8192,
		}},
		Manager: scenarios.Manager{ReportInterval: dur(0), Decision: "local", ViewTTL: time.Second, Expire: 300 * time.Millisecond},
		Policy: scenarios.Policy{
			Condition: "none", Estimator: "hol", EWMAWeight: 0.1, Target: "least-loaded",
			ProbeLimit: 3, MaxHops: 1, Fraction: ptr(1), Status: 302,
		},
		Workload: scenarios.Workload{
			Dispatch:     "random",
			Arrival:      scenarios.Arrival{Process: "poisson", Rate: scenarios.Rate(rate)},
			Session:      scenarios.Session{Pages: 1},
			MaxRedirects: 10,
			Path:         "/page",
		},
	}
}

func runMem(t *testing.T, sc *scenarios.Scenario) *memRecorder {
	t.Helper()
	m := &memRecorder{}
	s, err := newSimulation(sc, m)
	if err != nil {
		t.Fatal(err)
	}
	// Bounded: a run that does not end is a failure, not a hang.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.run(ctx); err != nil {
		t.Fatal(err)
	}
	return m
}
