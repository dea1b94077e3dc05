package server

import (
	"time"

	"github.com/redirlab/redirlab/policy"
	"github.com/redirlab/redirlab/scenarios"
)

// testScenario is a validated-looking scenario built by hand (every
// default filled as scenarios.Load would): groups of servers, a
// queue-length policy with threshold 0, local placement, 10ms reports.
func testScenario(groups ...scenarios.ServerGroup) *scenarios.Scenario {
	interval := 10 * time.Millisecond
	fraction := 1.0
	if len(groups) == 0 {
		groups = []scenarios.ServerGroup{group("web", 3, 1, 16, constService(0))}
	}
	return &scenarios.Scenario{
		Name:           "test",
		Seed:           1,
		Duration:       time.Second,
		Replications:   1,
		SampleInterval: 100 * time.Millisecond,
		Servers:        groups,
		Manager: scenarios.Manager{
			ReportInterval: &interval,
			Decision:       "local",
			ViewTTL:        time.Second,
			Expire:         300 * time.Millisecond,
		},
		Policy: scenarios.Policy{
			Condition:  "queue-length",
			Threshold:  scenarios.Threshold{Raw: "0", Count: 0},
			Estimator:  "hol",
			EWMAWeight: 0.1,
			Target:     "least-loaded",
			ProbeLimit: 3,
			MaxHops:    1,
			Fraction:   &fraction,
			Status:     302,
		},
		Workload: scenarios.Workload{
			Dispatch:     "round-robin",
			Arrival:      scenarios.Arrival{Process: "poisson", Rate: 100},
			Session:      scenarios.Session{Pages: 1},
			Timeout:      10 * time.Second,
			MaxInFlight:  10000,
			MaxRedirects: 10,
			Path:         "/page",
		},
		Network: scenarios.Network{RTT: 200 * time.Microsecond},
	}
}

func group(name string, count, workers, capacity int, service scenarios.Service) scenarios.ServerGroup {
	return scenarios.ServerGroup{
		Name: name, Count: count, Workers: workers, QueueCapacity: capacity,
		Service: service, ObjectService: constService(0),
		PageBytes: 2048, ObjectBytes: 512, Weight: 1,
	}
}

func constService(d time.Duration) scenarios.Service {
	return scenarios.Service{Dist: "const", Mean: d}
}

// upView is a view in which every server is up with the given queue
// lengths.
func upView(lengths ...int) policy.View {
	v := policy.View{Servers: make([]policy.Status, len(lengths))}
	for i, l := range lengths {
		v.Servers[i] = policy.Status{Server: i, QueueLength: l, Workers: 1, Up: true}
	}
	return v
}

func urlsFor(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "http://127.0.0.1:" + string(rune('1'+i)) + "000"
	}
	return out
}

const ms = time.Millisecond
