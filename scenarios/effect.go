package scenarios

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// NoEffect says why the field at path (a --set or variant key, such as
// policy.threshold or faults[0].factor) has no effect on a run of s in
// mode, or "" when it has one. Such a setting is an error: the user
// thinks they changed the run and did not.
func (s *Scenario) NoEffect(path string, mode Mode) string {
	segs, bad := parseSetPath(path)
	if bad != "" || len(segs) == 0 {
		return ""
	}
	var parts []string
	for _, sg := range segs {
		if sg.key != "" {
			parts = append(parts, sg.key)
		} else {
			parts = append(parts, "[]")
		}
	}
	p := strings.Join(parts, ".")
	a := &s.Workload.Arrival
	process := func(field string, uses ...string) string {
		if slices.Contains(uses, a.Process) {
			return ""
		}
		return fmt.Sprintf("workload.arrival.process is %s, which does not use %s (%s uses it)", a.Process, field, strings.Join(uses, ", "))
	}
	switch p {
	case "workload.arrival.rate":
		return process("rate", "constant", "poisson")
	case "workload.arrival.from", "workload.arrival.to":
		return process(parts[2], "ramp")
	case "workload.arrival.steps", "workload.arrival.steps.[]", "workload.arrival.steps.[].rate", "workload.arrival.steps.[].for":
		return process("steps", "steps")
	case "workload.arrival.states", "workload.arrival.states.[]", "workload.arrival.states.[].rate", "workload.arrival.states.[].dwell":
		return process("states", "mmpp")
	case "workload.arrival.file":
		return process("file", "trace")
	case "workload.arrival.concurrency", "workload.arrival.requests":
		return process(parts[2], "closed")
	case "workload.max_in_flight":
		if a.Process == "closed" {
			return "the closed process keeps concurrency requests in flight; max_in_flight bounds the open loop"
		}
	case "workload.session.think":
		if s.Workload.Session.Pages <= 1 && a.Process != "closed" {
			return "workload.session.pages is 1: there is no next page to think before"
		}
	case "policy.threshold", "policy.target", "policy.probe_limit", "policy.max_hops", "policy.fraction", "policy.status", "policy.action":
		if s.Policy.Condition == "none" {
			return "policy.condition is none: nothing is redirected"
		}
		if p == "policy.threshold" && s.Policy.Condition == "adaptive" {
			return "policy.condition is adaptive, which has no threshold: its limit adapts (policy.adaptive)"
		}
		if s.Policy.Action == "shed" && p != "policy.threshold" && p != "policy.fraction" && p != "policy.action" {
			return "policy.action is shed: nothing is redirected"
		}
		if p == "policy.probe_limit" && s.Policy.Target != "probe" {
			return fmt.Sprintf("policy.target is %s; probe_limit bounds the probe target only", s.Policy.Target)
		}
	case "policy.adaptive", "policy.adaptive.window", "policy.adaptive.initial_limit", "policy.adaptive.min_limit",
		"policy.adaptive.max_limit", "policy.adaptive.min_rtt_requests", "policy.adaptive.buffer", "policy.adaptive.smoothing":
		if s.Policy.Condition != "adaptive" {
			return fmt.Sprintf("policy.condition is %s; policy.adaptive is the adaptive condition's rule", s.Policy.Condition)
		}
	case "policy.ewma_weight":
		if s.Policy.Estimator != "ewma" {
			return fmt.Sprintf("policy.estimator is %s; ewma_weight weighs the ewma estimator only", s.Policy.Estimator)
		}
	case "servers.[].service.cv", "servers.[].service.alpha", "servers.[].service.min", "servers.[].service.max", "servers.[].service.file", "servers.[].service.mean",
		"servers.[].object_service.cv", "servers.[].object_service.alpha", "servers.[].object_service.min", "servers.[].object_service.max", "servers.[].object_service.file", "servers.[].object_service.mean":
		g := segs[1].index
		if g < 0 || g >= len(s.Servers) {
			return ""
		}
		sv := &s.Servers[g].Service
		if parts[2] == "object_service" {
			sv = &s.Servers[g].ObjectService
		}
		uses := map[string][]string{
			"cv": {"lognormal"}, "alpha": {"pareto"}, "min": {"pareto"}, "max": {"pareto"}, "file": {"empirical"},
			"mean": {"const", "exp", "lognormal", "pareto"},
		}[parts[3]]
		dist := sv.Dist
		if dist == "" {
			dist = "const"
		}
		if !slices.Contains(uses, dist) {
			return fmt.Sprintf("servers[%d].%s.dist is %s, which does not use %s", g, parts[2], dist, parts[3])
		}
	case "servers.[].weight":
		if s.Workload.Dispatch != "weighted" {
			return fmt.Sprintf("workload.dispatch is %s; weights are for weighted dispatch", s.Workload.Dispatch)
		}
	case "servers.[].page_bytes", "servers.[].object_bytes":
		if mode == Sim {
			return "the simulator models time, not bytes: " + parts[2] + " sizes a real server's answers"
		}
	case "network", "network.rtt", "network.overhead":
		if mode == Real {
			return "network models the network in simulation; a real run has the real one"
		}
	case "faults.[].factor", "faults.[].loss", "faults.[].for":
		k := segs[1].index
		if k < 0 || k >= len(s.Faults) {
			return ""
		}
		f := &s.Faults[k]
		switch {
		case parts[2] == "factor" && f.Action != "slowdown":
			return fmt.Sprintf("faults[%d] is %s; factor is the slowdown's", k, f.Action)
		case parts[2] == "loss" && f.Action != "lost-reports":
			return fmt.Sprintf("faults[%d] is %s; loss is lost-reports'", k, f.Action)
		case parts[2] == "for" && f.Action == "restart":
			return fmt.Sprintf("faults[%d] is a restart, which has no duration", k)
		}
	}
	return ""
}

// SetKeys are the keys of the --set overrides s was loaded with, in order.
func (s *Scenario) SetKeys() []string {
	if s.src == nil {
		return nil
	}
	var keys []string
	for _, arg := range s.src.sets {
		if k, _, ok := splitSet(arg); ok && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// VariantSet is the variant's own settings (dotted path to value) that
// Expand applied after the --set overrides, or nil for the base and a
// scenario that is not a variant.
func (s *Scenario) VariantSet() map[string]string {
	if s.from == nil {
		return nil
	}
	return maps.Clone(s.from.set)
}

// VariantNames are the runs of the scenario that Expand made s from,
// base first, then the file's variants in order; nil for a scenario that
// Expand did not make (one without variants, or loaded directly).
func (s *Scenario) VariantNames() []string {
	if s.from == nil {
		return nil
	}
	return slices.Clone(s.from.all)
}

// CheckEffect fails when a --set override, or a variant's own setting,
// changes a field that none of runs (the base and variants that will
// run, all from one Load) uses in mode. A --set has an effect when any
// run uses it: --set policy.threshold=4 is fine beside a no-redirect
// variant.
func CheckEffect(runs []*Scenario, mode Mode) error {
	if len(runs) == 0 {
		return nil
	}
	file := runs[0].File
	for _, key := range runs[0].SetKeys() {
		var why []string
		for _, r := range runs {
			if w := r.NoEffect(key, mode); w != "" {
				why = append(why, w)
			} else {
				why = nil
				break
			}
		}
		if why != nil {
			return &Error{File: file, Field: "--set " + key, Msg: "has no effect: " + why[0]}
		}
	}
	for _, r := range runs {
		v := r.from
		if v == nil {
			continue
		}
		for _, key := range sortedKeys(v.set) {
			if w := r.NoEffect(key, mode); w != "" {
				lp := joinPath(indexPath("variants", v.index), "set") + "." + key
				return &Error{File: file, Line: r.src.lines[lp], Field: lp, Msg: "has no effect in variant " + r.Variant + ": " + w}
			}
		}
	}
	return nil
}
