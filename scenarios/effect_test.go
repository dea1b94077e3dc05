package scenarios

import (
	"strings"
	"testing"
)

// TestCheckEffect: a setting that changes nothing the run uses is an
// error naming the field and why; one that some run uses is fine.
func TestCheckEffect(t *testing.T) {
	const mmpp = `
name: t
duration: 2s
servers:
  - {name: web, count: 2, service: {dist: exp, mean: 10ms}}
policy: {condition: queue-length, threshold: 4, target: least-loaded}
workload:
  arrival:
    process: mmpp
    states: [{rate: 100/s, dwell: 1s}, {rate: 300/s, dwell: 1s}]
faults:
  - {at: 1s, server: web-1, action: crash, for: 500ms}
variants:
  - {name: no-redirect, set: {policy.condition: none}}
`
	for _, tc := range []struct {
		name string
		file string
		sets []string
		mode Mode
		want string // "" for no error
	}{
		// mmpp takes its rates from its states: rate changes nothing.
		{"rate under mmpp", mmpp, []string{"workload.arrival.rate=500/s"}, Sim,
			"--set workload.arrival.rate: has no effect: workload.arrival.process is mmpp, which does not use rate (constant, poisson uses it)"},
		// The threshold is used by the base, though not by no-redirect.
		{"threshold beside no-redirect", mmpp, []string{"policy.threshold=8"}, Sim, ""},
		// No run uses the threshold once every run has condition none.
		{"threshold under none", mmpp, []string{"policy.condition=none", "policy.threshold=8"}, Sim,
			"--set policy.threshold: has no effect: policy.condition is none: nothing is redirected"},
		// Under shed nothing is redirected: the target changes nothing.
		{"target under shed", mmpp, []string{"policy.action=shed", "policy.target=random"}, Sim,
			"--set policy.target: has no effect: policy.action is shed: nothing is redirected"},
		// The shed action's fraction is used.
		{"fraction under shed", mmpp, []string{"policy.action=shed", "policy.fraction=0.5"}, Sim, ""},
		// The adaptive rule needs the adaptive condition.
		{"adaptive under queue-length", mmpp, []string{"policy.adaptive.window=50ms"}, Sim,
			"policy.condition is queue-length; policy.adaptive is the adaptive condition's rule"},
		// The adaptive condition has no threshold.
		{"threshold under adaptive", mmpp, []string{"policy.condition=adaptive", "policy.threshold=3"}, Sim,
			"policy.condition is adaptive, which has no threshold"},
		// probe_limit needs the probe target.
		{"probe limit", mmpp, []string{"policy.probe_limit=5"}, Sim, "policy.target is least-loaded"},
		// A crash has no factor.
		{"fault factor", mmpp, []string{"faults[0].factor=3"}, Sim, "faults[0] is crash; factor is the slowdown's"},
		// The network model is the simulator's.
		{"network in a real run", mmpp, []string{"network.rtt=1ms"}, Real, "network models the network in simulation"},
		// The same in a simulation is fine.
		{"network in a sim", mmpp, []string{"network.rtt=1ms"}, Sim, ""},
		// cv shapes the lognormal only.
		{"cv of exp", mmpp, []string{"servers[0].service.cv=2"}, Sim, "servers[0].service.dist is exp, which does not use cv"},
		// Weights without weighted dispatch.
		{"weight", mmpp, []string{"servers[0].weight=3"}, Sim, "weights are for weighted dispatch"},
		// Bytes in a simulation.
		{"page bytes in a sim", mmpp, []string{"servers[0].page_bytes=100"}, Sim, "the simulator models time, not bytes"},
		// Bytes in a real run are used.
		{"page bytes in a real run", mmpp, []string{"servers[0].page_bytes=100"}, Real, ""},
		// One page per session: no think time.
		{"think", mmpp, []string{"workload.session.think=1s"}, Sim, "workload.session.pages is 1"},
		// A variant's own setting that changes nothing it uses.
		{"variant", strings.Replace(mmpp, "{policy.condition: none}", "{policy.condition: none, policy.fraction: 0.5}", 1), nil, Sim,
			"t.yaml:14: variants[0].set.policy.fraction: has no effect in variant no-redirect: policy.condition is none"},
	} {
		sc, err := Parse("t.yaml", []byte(tc.file), tc.sets...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		runs, err := sc.Expand()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		err = CheckEffect(runs, tc.mode)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

// TestEmbeddedHaveEffect: every embedded scenario's variants change
// something they use, in both modes.
func TestEmbeddedHaveEffect(t *testing.T) {
	for _, name := range embeddedNames() {
		sc, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		runs, err := sc.Expand()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []Mode{Sim, Real} {
			if err := CheckEffect(runs, m); err != nil {
				t.Errorf("%s (%s): %v", name, m, err)
			}
		}
	}
}
