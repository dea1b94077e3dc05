package plan

import (
	"strings"
	"testing"
	"time"

	"github.com/redirlab/redirlab/dispatch"
	"github.com/redirlab/redirlab/model"
	"github.com/redirlab/redirlab/policy"
	"github.com/redirlab/redirlab/scenarios"
)

const base = `
name: t
duration: 4s
warmup: 1s
servers:
  - {name: web, count: 2, workers: 3, queue_capacity: 50, service: {dist: exp, mean: 10ms}, weight: 2}
  - {name: slow, count: 1, workers: 1, service: {dist: const, mean: 20ms}}
policy: {condition: queue-length, threshold: 8}
workload:
  arrival: {process: poisson, rate: 500/s}
  session: {pages: 2, objects: 3, think: 1s}
faults:
  - {at: 2s, server: slow, action: slowdown, factor: 3, for: 1s}
  - {at: 1s, action: manager-outage, for: 500ms}
  - {at: 9s, server: web-2, action: crash}
`

func resolve(t *testing.T, src string, sets ...string) *Plan {
	t.Helper()
	sc, err := scenarios.Parse("t.yaml", []byte(src), sets...)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Resolve(sc)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPolicy: the policy arrives typed, every field carried over.
func TestPolicy(t *testing.T) {
	p := resolve(t, base, "policy.target=probe", "policy.probe_limit=5", "policy.max_hops=2",
		"policy.fraction=0.5", "manager.decision=central", "policy.estimator=ewma")
	want := policy.Config{Condition: policy.QueueLength, LengthThreshold: 8, Estimator: policy.EWMA,
		Target: policy.Probe, ProbeLimit: 5, MaxHops: 2, Fraction: 0.5, Placement: policy.Central}
	if p.Policy != want {
		t.Errorf("got %+v\nwant %+v", p.Policy, want)
	}
	if d := resolve(t, base, "policy.condition=queue-delay", "policy.threshold=40ms").Policy; d.Condition != policy.QueueDelay || d.DelayThreshold != 40*time.Millisecond || d.LengthThreshold != 0 {
		t.Errorf("queue-delay policy %+v", d)
	}
}

// TestResolved: servers, manager timings, workload and faults, with the
// defaults filled in one place.
func TestResolved(t *testing.T) {
	p := resolve(t, base)
	if p.Horizon != 5*time.Second || p.SampleInterval != 100*time.Millisecond || p.RedirectStatus != 302 {
		t.Errorf("horizon %v sample %v status %d", p.Horizon, p.SampleInterval, p.RedirectStatus)
	}
	if got := strings.Join(p.Names(), ","); got != "web-1,web-2,slow-1" {
		t.Errorf("names %s", got)
	}
	if s := p.Servers[2]; s.Workers != 1 || s.Capacity != 1024 || s.Page.Mean() != 20*time.Millisecond || s.EWMAWeight != 0.1 {
		t.Errorf("slow-1 %+v", s)
	}
	if p.Weights[0] != 2 || p.Weights[2] != 1 || p.Dispatch != dispatch.Random {
		t.Errorf("weights %v dispatch %v", p.Weights, p.Dispatch)
	}
	m := p.Manager
	if m.Interval != 100*time.Millisecond || m.RealInterval != m.Interval || m.ViewTTL != time.Second || m.Expire != 300*time.Millisecond {
		t.Errorf("manager %+v", m)
	}
	if ex := resolve(t, base, "manager.report_interval=0s").Manager; ex.Interval != 0 || ex.RealInterval != RealExactInterval {
		t.Errorf("exact view: %+v", ex)
	}
	if s := p.Session; s.Pages != 2 || s.Objects != 3 || s.Think != time.Second || s.Horizon != p.Horizon {
		t.Errorf("session %+v", s)
	}
	if p.Closed || p.Timeout != 10*time.Second || p.MaxRedirects != 10 || p.PagePath != "/page" {
		t.Errorf("workload: closed %v timeout %v redirects %d path %s", p.Closed, p.Timeout, p.MaxRedirects, p.PagePath)
	}
	wantFaults := []model.Fault{
		{Kind: model.Slowdown, Server: 2, At: 2 * time.Second, For: time.Second, Factor: 3},
		{Kind: model.ManagerOutage, Server: -1, At: time.Second, For: 500 * time.Millisecond},
		{Kind: model.Crash, Server: 1, At: 9 * time.Second},
	}
	for k, f := range wantFaults {
		if p.Faults[k] != f {
			t.Errorf("fault %d: %+v, want %+v", k, p.Faults[k], f)
		}
	}
	// The crash at 9s is past the horizon: no step.
	wantSteps := []model.FaultStep{{At: time.Second, Fault: 1}, {At: 1500 * time.Millisecond, Fault: 1, End: true},
		{At: 2 * time.Second, Fault: 0}, {At: 3 * time.Second, Fault: 0, End: true}}
	if len(p.FaultSteps) != len(wantSteps) {
		t.Fatalf("steps %+v", p.FaultSteps)
	}
	for k, st := range wantSteps {
		if p.FaultSteps[k] != st {
			t.Errorf("step %d: %+v, want %+v", k, p.FaultSteps[k], st)
		}
	}
}

// TestEveryEmbeddedScenarioResolves: each embedded scenario and variant.
func TestEveryEmbeddedScenarioResolves(t *testing.T) {
	for _, info := range scenarios.Embedded() {
		sc, err := scenarios.Load(info.Name)
		if err != nil {
			t.Fatal(err)
		}
		all, err := sc.Expand()
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range all {
			if _, err := Resolve(v); err != nil {
				t.Errorf("%s/%s: %v", info.Name, v.Variant, err)
			}
		}
	}
}

// TestBuiltInCode: a scenario built in code, not loaded, gets the file's
// defaults where a zero value means "unset", and precise errors where a
// value cannot run.
func TestBuiltInCode(t *testing.T) {
	good := func() *scenarios.Scenario {
		return &scenarios.Scenario{Name: "code", Duration: time.Second,
			Servers:  []scenarios.ServerGroup{{Name: "web", Count: 2, Service: scenarios.Service{Dist: "exp", Mean: time.Millisecond}}},
			Workload: scenarios.Workload{Arrival: scenarios.Arrival{Process: "poisson", Rate: 10}}}
	}
	p, err := Resolve(good())
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Servers[0]; s.Workers != 1 || s.Capacity != 1024 || p.Session.Pages != 1 || p.Policy.Condition != policy.None || p.RedirectStatus != 302 {
		t.Errorf("defaults: %+v, session %+v, policy %+v", s, p.Session, p.Policy)
	}
	for _, tc := range []struct {
		name string
		mut  func(*scenarios.Scenario)
		want string
	}{
		// No servers at all.
		{"servers", func(s *scenarios.Scenario) { s.Servers = nil }, "scenario code: no servers"},
		// A duration of zero.
		{"duration", func(s *scenarios.Scenario) { s.Duration = 0 }, "duration: must be above 0"},
		// Negative workers.
		{"workers", func(s *scenarios.Scenario) { s.Servers[0].Workers = -1 }, "server web-1: workers: must be at least 1, got -1"},
		// An unknown distribution.
		{"service", func(s *scenarios.Scenario) { s.Servers[0].Service.Dist = "gamma" }, `server web-1: service: unknown service distribution "gamma"`},
		// An unknown condition: no longer silently "none".
		{"condition", func(s *scenarios.Scenario) { s.Policy.Condition = "queue-size" }, "policy.condition"},
		// An unknown dispatch.
		{"dispatch", func(s *scenarios.Scenario) { s.Workload.Dispatch = "dns" }, "workload.dispatch"},
		// A redirect status that is no redirect.
		{"status", func(s *scenarios.Scenario) { s.Policy.Status = 301 }, "policy.status: must be 302 or 307, got 301"},
		// A closed loop without browsers.
		{"closed", func(s *scenarios.Scenario) { s.Workload.Arrival = scenarios.Arrival{Process: "closed"} }, "workload.arrival.concurrency"},
		// A fault of an unknown kind.
		{"action", func(s *scenarios.Scenario) {
			s.Faults = []scenarios.Fault{{Action: "explode", ServerIndex: 0}}
		}, `faults[0].action: unknown action "explode"`},
		// A slowdown of no server.
		{"fault server", func(s *scenarios.Scenario) {
			s.Faults = []scenarios.Fault{{Action: "slowdown", Factor: 2, ServerIndex: -1}}
		}, "faults[0].server: slowdown needs a server"},
		// A slowdown by zero.
		{"factor", func(s *scenarios.Scenario) {
			s.Faults = []scenarios.Fault{{Action: "slowdown", ServerIndex: 0}}
		}, "faults[0].factor: must be above 0, got 0"},
	} {
		sc := good()
		tc.mut(sc)
		if _, err := Resolve(sc); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

// TestBudget: the cases that used to run out of memory or run for ever
// are refused before they start, naming the field; the bench workload
// and the embedded scenarios pass.
func TestBudget(t *testing.T) {
	for _, tc := range []struct {
		name string
		sets []string
		want string // "" passes
	}{
		// The base scenario.
		{"base", nil, ""},
		// A million hours.
		{"duration", []string{"duration=1000000h"}, "duration: warmup + duration is 3.6e+09 s, over the limit"},
		// A rate no machine keeps.
		{"rate", []string{"workload.arrival.rate=1e12/s"}, "workload.arrival: about 4e+13 requests"},
		// A sample every nanosecond.
		{"sample interval", []string{"sample_interval=1ns"}, "sample_interval: 1.5e+10 server samples"},
		// A closed loop without a request count, on very fast servers.
		{"closed", []string{"workload.arrival={process: closed, concurrency: 100000}", "servers[0].service={dist: const, mean: 1ns}", "servers[1].service={dist: const, mean: 1ns}", "network.rtt=0s", "duration=1000s"}, "workload.arrival: about 4e+14 requests"},
	} {
		err := resolve(t, base, tc.sets...).Estimate().Check(Budget{})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	if err := resolve(t, base, "workload.arrival.rate=1e12/s").Estimate().Check(Budget{MaxRequests: 1e14}); err != nil {
		t.Errorf("a raised limit: %v", err)
	}
	for _, info := range scenarios.Embedded() {
		sc, _ := scenarios.Load(info.Name)
		all, _ := sc.Expand()
		for _, v := range all {
			p, err := Resolve(v)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Estimate().Check(Budget{}); err != nil {
				t.Errorf("%s/%s: %v", info.Name, v.Variant, err)
			}
		}
	}
}
