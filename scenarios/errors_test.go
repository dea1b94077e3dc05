package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// base is a valid scenario; the error table edits one line of it at a
// time, so the line numbers below stay put.
const base = `name: t
duration: 10s
servers:
  - {name: web, count: 3, workers: 4, service: {dist: exp, mean: 10ms}}
  - name: slow
    workers: 2
    service: {dist: lognormal, mean: 20ms}
policy:
  condition: queue-length
  threshold: 8
workload:
  arrival: {process: poisson, rate: 900/s}
`

func TestBaseIsValid(t *testing.T) {
	if _, err := Parse("t.yaml", []byte(base)); err != nil {
		t.Fatal(err)
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		old, new string   // replace old by new in base ("" appends new)
		sets     []string // --set overrides
		want     string   // prefix of the error text
	}{
		// Unknown keys are errors, with a suggestion.
		{"    workers: 2", "    workerz: 2", nil, "t.yaml:6: servers[1].workerz: unknown key (did you mean workers?)"},
		// A front's upstream must be a base URL.
		{"    service: {dist: lognormal, mean: 20ms}", "    upstream: ftp://x", nil, `t.yaml:7: servers[1].upstream: "ftp://x": the scheme must be http or https`},
		{"    service: {dist: lognormal, mean: 20ms}", "    upstream: http://127.0.0.1:8080/?a=1", nil, `t.yaml:7: servers[1].upstream: "http://127.0.0.1:8080/?a=1": must not have a query or fragment`},
		// A port no backend can listen on is refused before the run.
		{"    service: {dist: lognormal, mean: 20ms}", "    upstream: http://127.0.0.1:99999", nil, `t.yaml:7: servers[1].upstream: "http://127.0.0.1:99999": port 99999 is not one a backend can listen on (1 to 65535)`},
		// Port 0 is no port.
		{"    service: {dist: lognormal, mean: 20ms}", "    upstream: http://127.0.0.1:0", nil, `t.yaml:7: servers[1].upstream: "http://127.0.0.1:0": port 0 is not one a backend can listen on`},
		// User info is named as such.
		{"    service: {dist: lognormal, mean: 20ms}", "    upstream: http://u:p@127.0.0.1:8080", nil, `t.yaml:7: servers[1].upstream: "http://u:p@127.0.0.1:8080": must not carry a user or password`},
		// A front's weight is validated as any group's.
		{"    service: {dist: lognormal, mean: 20ms}", "    upstream: http://127.0.0.1:8080\n    weight: -1", nil, `t.yaml:8: servers[1].weight: must not be negative, got -1`},
		// A front's service is its backend's: a distribution has no effect.
		{"    service: {dist: lognormal, mean: 20ms}", "    service: {dist: lognormal, mean: 20ms}\n    upstream: http://127.0.0.1:8080", nil, "t.yaml:7: servers[1].service: has no effect: servers[].upstream makes this group a front"},
		// redirlab cannot slow a real backend.
		{"    service: {dist: lognormal, mean: 20ms}", "    upstream: http://127.0.0.1:8080\nfaults: [{at: 1s, server: slow, action: slowdown, factor: 2, for: 1s}]", nil, "t.yaml:8: faults[0].server: slow-1 is a front for http://127.0.0.1:8080 (servers[].upstream): redirlab cannot slow down, crash or restart a real backend"},
		// The predicted estimator needs a mean service time a front has not.
		{"  threshold: 8", "  threshold: 8\n  estimator: predicted", []string{"policy.condition=queue-delay", "policy.threshold=10ms", "servers[1].upstream=http://127.0.0.1:8080", "servers[1].service="}, "t.yaml:11: policy.estimator: predicted needs each server's mean service time, and servers[1] (slow) is a front"},
		// Unknown top-level key.
		{"name: t", "nmae: t", nil, "t.yaml:1: nmae: unknown key (did you mean name?)"},
		// A key written twice.
		{"  threshold: 8", "  threshold: 8\n  threshold: 9", nil, "t.yaml:11: policy.threshold: duplicate key (first written on line 10)"},
		// Negative worker count.
		{"    workers: 2", "    workers: -1", nil, "t.yaml:6: servers[1].workers: must be at least 1, got -1"},
		// Zero workers given explicitly.
		{"    workers: 2", "    workers: 0", nil, "t.yaml:6: servers[1].workers: must be at least 1, got 0"},
		// A count that is not a whole number.
		{"    workers: 2", "    workers: 2.5", nil, `t.yaml:6: servers[1].workers: must be a whole number, got "2.5"`},
		// Negative count inside a flow mapping names the flow line.
		{"count: 3,", "count: -3,", nil, "t.yaml:4: servers[0].count: must be at least 1, got -3"},
		// Queue capacity below the worker count.
		{"    workers: 2", "    workers: 2\n    queue_capacity: 1", nil, "t.yaml:7: servers[1].queue_capacity: must be at least workers (2)"},
		// A bare number is not a duration.
		{"duration: 10s", "duration: 10", nil, "t.yaml:2: duration: a duration needs a unit, such as 10ms or 10s (got 10)"},
		// A zero duration where a positive one is needed.
		{"duration: 10s", "duration: 0", nil, "t.yaml:2: duration: must be above 0"},
		// A negative duration.
		{"duration: 10s", "duration: -5s", nil, "t.yaml:2: duration: must not be negative, got -5s"},
		// Not a duration at all.
		{"duration: 10s", "duration: soon", nil, `t.yaml:2: duration: not a duration (such as 10ms, 1.5s or 200us): "soon"`},
		// A required field that is absent names the parent's line (the root).
		{"duration: 10s\n", "", nil, "t.yaml:1: duration: required"},
		// A rate without a unit says how to write it.
		{"rate: 900/s", "rate: 900", nil, "t.yaml:12: workload.arrival.rate: a rate needs a unit: write 900/s"},
		// A rate with an unknown unit.
		{"rate: 900/s", "rate: 900/day", nil, `t.yaml:12: workload.arrival.rate: unknown rate unit "day"`},
		// A zero rate for poisson.
		{"rate: 900/s", "rate: 0/s", nil, "t.yaml:12: workload.arrival.rate: must be above 0"},
		// queue-delay with a count threshold.
		{"condition: queue-length", "condition: queue-delay", nil, "t.yaml:10: policy.threshold: queue-delay needs a duration such as 40ms, got 8"},
		// queue-length with a duration threshold.
		{"threshold: 8", "threshold: 40ms", nil, "t.yaml:10: policy.threshold: queue-length needs a count such as 8, got 40ms"},
		// A condition without its threshold names the policy's line.
		{"  threshold: 8\n", "", nil, "t.yaml:8: policy.threshold: required for queue-length: a count such as 8"},
		// An unknown condition lists the valid ones.
		{"condition: queue-length", "condition: queue", nil, `t.yaml:9: policy.condition: unknown condition "queue" (want one of none, queue-length, queue-delay, adaptive)`},
		// An unknown action lists the valid ones.
		{"  threshold: 8", "  threshold: 8\n  action: drop", nil, `t.yaml:11: policy.action: unknown action "drop" (want one of redirect, shed)`},
		// The adaptive limit is each server's own: central placement cannot decide it.
		{"condition: queue-length", "condition: adaptive", []string{"manager.decision=central", "manager.report_interval=50ms"}, "t.yaml: --set manager.decision: central cannot decide condition adaptive"},
		// probe reads peers' conditions from the view, which has no limits.
		{"condition: queue-length", "condition: adaptive", []string{"policy.target=probe"}, "t.yaml: --set policy.target: probe reads its peers' conditions"},
		// The limit's bounds in order.
		{"condition: queue-length", "condition: adaptive", []string{"policy.adaptive.min_limit=10", "policy.adaptive.max_limit=5"}, "t.yaml: --set policy.adaptive.max_limit: must be at least 10, got 5"},
		// The initial limit within them.
		{"condition: queue-length", "condition: adaptive", []string{"policy.adaptive.initial_limit=2000"}, "t.yaml: --set policy.adaptive.initial_limit: must be at most 1000, got 2000"},
		// smoothing 0 would freeze the limit.
		{"condition: queue-length", "condition: adaptive", []string{"policy.adaptive.smoothing=0"}, "t.yaml: --set policy.adaptive.smoothing: must be in (0, 1], got 0"},
		// A window of no length.
		{"condition: queue-length", "condition: adaptive", []string{"policy.adaptive.window=0s"}, "t.yaml: --set policy.adaptive.window: must be above 0, got 0s"},
		// A negative buffer.
		{"condition: queue-length", "condition: adaptive", []string{"policy.adaptive.buffer=-0.1"}, "t.yaml: --set policy.adaptive.buffer: must be in [0, 10], got -0.1"},
		// An unknown target lists the valid ones.
		{"  threshold: 8", "  threshold: 8\n  target: nearest", nil, `t.yaml:11: policy.target: unknown target "nearest" (want one of least-loaded, random, round-robin, p2c, probe)`},
		// Fraction outside (0, 1].
		{"  threshold: 8", "  threshold: 8\n  fraction: 1.5", nil, "t.yaml:11: policy.fraction: must be in (0, 1], got 1.5"},
		// Fraction zero.
		{"  threshold: 8", "  threshold: 8\n  fraction: 0", nil, "t.yaml:11: policy.fraction: must be in (0, 1], got 0"},
		// Only 302 and 307 redirect.
		{"  threshold: 8", "  threshold: 8\n  status: 301", nil, "t.yaml:11: policy.status: must be 302 or 307, got 301"},
		// max_hops 0 would never redirect.
		{"  threshold: 8", "  threshold: 8\n  max_hops: 0", nil, "t.yaml:11: policy.max_hops: must be at least 1, got 0"},
		// Browsers that give up before the policy's hops.
		{"  threshold: 8", "  threshold: 8\n  max_hops: 3", []string{"workload.max_redirects=2"}, "t.yaml: --set workload.max_redirects: 2 is below policy.max_hops (3)"},
		// A negative cv.
		{"mean: 20ms}", "mean: 20ms, cv: -1}", nil, "t.yaml:7: servers[1].service.cv: must not be negative, got -1"},
		// An unknown service distribution.
		{"dist: lognormal", "dist: gamma", nil, `t.yaml:7: servers[1].service.dist: unknown dist "gamma" (want one of const, exp, lognormal, pareto, empirical)`},
		// A service without its mean names the service's line.
		{"{dist: lognormal, mean: 20ms}", "{dist: lognormal}", nil, "t.yaml:7: servers[1].service.mean: required for lognormal"},
		// A service without a dist.
		{"{dist: lognormal, mean: 20ms}", "{mean: 20ms}", nil, "t.yaml:7: servers[1].service.dist: required: one of const, exp"},
		// Pareto with both mean and min that disagree.
		{"{dist: lognormal, mean: 20ms}", "{dist: pareto, mean: 20ms, min: 1ms}", nil, "t.yaml:7: servers[1].service.mean: 20ms disagrees with min, max and alpha"},
		// Pareto with max below min.
		{"{dist: lognormal, mean: 20ms}", "{dist: pareto, min: 2ms, max: 1ms}", nil, "t.yaml:7: servers[1].service.max: must be above min (2ms)"},
		// Empirical without a file.
		{"{dist: lognormal, mean: 20ms}", "{dist: empirical}", nil, "t.yaml:7: servers[1].service.file: required for empirical"},
		// Empirical file that does not exist.
		{"{dist: lognormal, mean: 20ms}", "{dist: empirical, file: nope.txt}", nil, "t.yaml:7: servers[1].service.file: cannot read nope.txt"},
		// A group without a name.
		{"  - name: slow", "  - count: 1", nil, "t.yaml:5: servers[1].name: required"},
		// Two groups with one name.
		{"  - name: slow", "  - name: web", nil, `t.yaml:5: servers[1].name: group name "web" is already used by servers[0]`},
		// A group whose bare name is another group's instance.
		{"  - name: slow", "  - name: web-2", nil, `t.yaml:5: servers[1].name: server name "web-2" would also name a server of servers[0]`},
		// No servers at all.
		{"servers:\n  - {name: web, count: 3, workers: 4, service: {dist: exp, mean: 10ms}}\n  - name: slow\n    workers: 2\n    service: {dist: lognormal, mean: 20ms}\n", "servers: []\n\n\n\n\n", nil, "t.yaml:3: servers: required: at least one server group"},
		// A list where a mapping belongs.
		{"policy:\n  condition: queue-length\n  threshold: 8\n", "policy: [a, b]\n", nil, "t.yaml:8: policy: must be a mapping of key: value pairs, got a list"},
		// An unknown dispatch lists the valid ones.
		{"workload:", "workload:\n  dispatch: dns", nil, `t.yaml:12: workload.dispatch: unknown dispatch "dns" (want one of random, round-robin, weighted, jsq, p2c)`},
		// Weighted dispatch with every weight 0.
		{"workload:", "workload:\n  dispatch: weighted", []string{"servers[0].weight=0", "servers[1].weight=0"}, "t.yaml:12: workload.dispatch: weighted dispatch needs a server group with weight above 0"},
		// A negative weight.
		{"    workers: 2", "    workers: 2\n    weight: -1", nil, "t.yaml:7: servers[1].weight: must not be negative, got -1"},
		// A workload without arrivals.
		{"  arrival: {process: poisson, rate: 900/s}", "  timeout: 5s", nil, "t.yaml:11: workload.arrival: required"},
		// An unknown arrival process.
		{"process: poisson", "process: burst", nil, `t.yaml:12: workload.arrival.process: unknown process "burst"`},
		// A ramp without its end.
		{"{process: poisson, rate: 900/s}", "{process: ramp, from: 100/s}", nil, "t.yaml:12: workload.arrival.to: required for ramp: a rate such as 900/s"},
		// Steps with no steps.
		{"{process: poisson, rate: 900/s}", "{process: steps}", nil, "t.yaml:12: workload.arrival.steps: required for steps"},
		// A step other than the last without a length.
		{"{process: poisson, rate: 900/s}", "{process: steps, steps: [{rate: 1/s}, {rate: 2/s}]}", nil, "t.yaml:12: workload.arrival.steps[0].for: required above 0"},
		// MMPP with one state.
		{"{process: poisson, rate: 900/s}", "{process: mmpp, states: [{rate: 1/s, dwell: 1s}]}", nil, "t.yaml:12: workload.arrival.states: mmpp needs at least 2 states, got 1"},
		// MMPP state without a dwell time.
		{"{process: poisson, rate: 900/s}", "{process: mmpp, states: [{rate: 1/s, dwell: 1s}, {rate: 5/s}]}", nil, "t.yaml:12: workload.arrival.states[1].dwell: required above 0"},
		// Trace without a file.
		{"{process: poisson, rate: 900/s}", "{process: trace}", nil, "t.yaml:12: workload.arrival.file: required for trace"},
		// Closed loop without a concurrency.
		{"{process: poisson, rate: 900/s}", "{process: closed}", nil, "t.yaml:12: workload.arrival.concurrency: required for closed"},
		// Closed loop with no browsers.
		{"{process: poisson, rate: 900/s}", "{process: closed, concurrency: 0}", nil, "t.yaml:12: workload.arrival.concurrency: must be at least 1, got 0"},
		// Zero pages per session.
		{"workload:", "workload:\n  session: {pages: 0}", nil, "t.yaml:12: workload.session.pages: must be at least 1, got 0"},
		// A page path that the server reserves.
		{"workload:", "workload:\n  path: /status", nil, "t.yaml:12: workload.path: /status is reserved by the server"},
		// A fault on an unknown server names the known ones.
		{"", "faults:\n  - {at: 1s, server: web-9, action: crash}", nil, `t.yaml:14: faults[0].server: unknown server "web-9" (servers: web-1, web-2, web-3, slow)`},
		// A fault without its action.
		{"", "faults:\n  - {at: 1s, server: web-1}", nil, "t.yaml:14: faults[0].action: required: one of slowdown, crash"},
		// A slowdown without a factor.
		{"", "faults:\n  - {at: 1s, server: web-1, action: slowdown}", nil, "t.yaml:14: faults[0].factor: required for slowdown"},
		// A slowdown factor of 0.
		{"", "faults:\n  - {at: 1s, server: web-1, action: slowdown, factor: 0}", nil, "t.yaml:14: faults[0].factor: must be above 0, got 0"},
		// A crash without a server.
		{"", "faults:\n  - {at: 1s, action: crash}", nil, "t.yaml:14: faults[0].server: required for crash: the server's name, such as web-1"},
		// A manager outage names no server.
		{"", "faults:\n  - {at: 1s, server: slow, action: manager-outage}", nil, "t.yaml:14: faults[0].server: manager-outage stops the manager, not a server"},
		// A restart without a crash before it.
		{"", "faults:\n  - {at: 1s, server: slow, action: restart}", nil, "t.yaml:14: faults[0]: restart of slow at 1s follows no crash of it"},
		// A fault without its time.
		{"", "faults:\n  - {server: slow, action: crash}", nil, "t.yaml:14: faults[0].at: required"},
		// Lost reports outside (0, 1].
		{"", "faults:\n  - {at: 1s, action: lost-reports, loss: 2}", nil, "t.yaml:14: faults[0].loss: must be in (0, 1], got 2"},
		// Central decisions need a report interval.
		{"", "manager: {decision: central, report_interval: 0}", nil, "t.yaml:13: manager.report_interval: must be above 0 for decision central"},
		// An unknown decision placement.
		{"", "manager: {decision: somewhere}", nil, `t.yaml:13: manager.decision: unknown decision "somewhere" (want one of local, central)`},
		// A seed that is not a whole number.
		{"name: t", "name: t\nseed: -1", nil, `t.yaml:2: seed: must be a whole number from 0 to`},
		// A variant called base.
		{"", "variants:\n  - {name: base, set: {policy.condition: none}}", nil, `t.yaml:14: variants[0].name: "base" names the scenario as written`},
		// Two variants with one name.
		{"", "variants:\n  - {name: a, set: {policy.threshold: 2}}\n  - {name: a, set: {policy.threshold: 3}}", nil, `t.yaml:15: variants[1].name: duplicate variant name "a" (also variants[0])`},
		// A variant that sets nothing.
		{"", "variants:\n  - {name: a}", nil, "t.yaml:14: variants[0].set: required"},
		// A variant may not change the seed.
		{"", "variants:\n  - {name: a, set: {seed: 2}}", nil, "t.yaml:14: variants[0].set.seed: variants share the scenario's seed"},
		// A variant setting an unknown path is blamed on its own line.
		{"", "variants:\n  - name: a\n    set: {policy.treshold: 2}", nil, "t.yaml:15: variants[0].set.policy.treshold: policy.treshold: unknown key (did you mean threshold?)"},
		// A variant setting a bad value is blamed on its own line.
		{"", "variants:\n  - name: a\n    set:\n      policy.threshold: 2\n      policy.condition: queue-delay", nil, "t.yaml:16: variants[0].set.policy.threshold: queue-delay needs a duration such as 40ms, got 2"},
		// --set of an unknown path.
		{"", "", []string{"policy.treshold=4"}, "t.yaml: --set policy.treshold: policy.treshold: unknown key (did you mean threshold?)"},
		// --set of a value of the wrong kind.
		{"", "", []string{"policy.threshold=40ms"}, "t.yaml: --set policy.threshold: queue-length needs a count such as 8, got 40ms"},
		// --set without '='.
		{"", "", []string{"policy.threshold"}, "t.yaml: --set policy.threshold: must be key=value"},
		// --set beyond the end of a list.
		{"", "", []string{"servers[5].workers=2"}, "t.yaml: --set servers[5].workers: servers has 2 entries; index 5 is out of range"},
		// --set into a single value.
		{"", "", []string{"duration.seconds=2"}, "t.yaml: --set duration.seconds: duration is a single value; it has no field seconds"},
		// --set of a rate without its unit.
		{"", "", []string{"workload.arrival.rate=900"}, "t.yaml: --set workload.arrival.rate: a rate needs a unit: write 900/s"},
		// --set of a whole mapping whose inner field is bad names the override and the field.
		{"", "", []string{"servers[0].service={dist: exp}"}, "t.yaml: --set servers[0].service: servers[0].service.mean: required for exp"},
		// --set may not touch variants.
		{"", "", []string{"variants[0].name=x"}, "t.yaml: --set variants[0].name: variants cannot be overridden"},
		// YAML syntax errors name their line.
		{"  threshold: 8", "  threshold: 8\n   bad: [", nil, "t.yaml:11: bad YAML: "},
		// Merge keys are refused rather than misread.
		{"policy:", "policy:\n  <<: {target: random}", nil, "t.yaml:9: policy.<<: merge keys (<<) are not supported"},
		// Anchors and aliases work; an alias to a bad value is still caught.
		{"{dist: lognormal, mean: 20ms}", "&svc {dist: lognormal, mean: 20}", nil, "t.yaml:7: servers[1].service.mean: a duration needs a unit"},
	}
	for _, c := range cases {
		src := base
		switch {
		case c.old == "":
			src += c.new
		case !strings.Contains(src, c.old):
			t.Fatalf("row %q: %q not in base", c.want, c.old)
		default:
			src = strings.Replace(src, c.old, c.new, 1)
		}
		_, err := Parse("t.yaml", []byte(src), c.sets...)
		if err == nil {
			t.Errorf("want error %q, got none", c.want)
			continue
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("want *Error, got %T %v", err, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("error\n got  %s\n want %s...", err, c.want)
		}
	}
}

// TestDocumentErrors covers inputs that are not a scenario at all.
func TestDocumentErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		// Nothing at all.
		{"", "t.yaml: empty scenario"},
		// Only a comment.
		{"# nothing\n", "t.yaml: empty scenario"},
		// A list at the top.
		{"- a\n- b\n", "t.yaml:1: a scenario is a mapping"},
		// Two documents.
		{base + "---\nname: u\n", "t.yaml:13: more than one YAML document"},
		// Tabs for indentation.
		{"name: t\n\tduration: 1s\n", "t.yaml:2: bad YAML: found a tab character that violates indentation"},
		// A construct left open names the line where it starts.
		{"name: a\nservers: [\n", "t.yaml:2: bad YAML: did not find expected node content"},
		// Control characters have no line.
		{"name: a\n\x01\n", "t.yaml: bad YAML: control characters are not allowed"},
	}
	for _, c := range cases {
		_, err := Parse("t.yaml", []byte(c.src))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %s...", c.src, err, c.want)
		}
	}
}

func TestFileErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("svc.txt", "# ms\n1.5\n2ms\nfast\n")
	write("trace.csv", "0.1\n0.2\n\n0.15\n")
	write("log.txt", `127.0.0.1 - - [02/Jan/2006:15:04:05 -0700] "GET / HTTP/1.1" 200 1
127.0.0.1 - - [02/Jan/2006:15:04 -0700] "GET / HTTP/1.1" 200 1
`)
	cases := []struct {
		old, new string
		want     string
	}{
		// A bad line in an empirical file names both files and lines.
		{"{dist: lognormal, mean: 20ms}", "{dist: empirical, file: svc.txt}", `t.yaml:7: servers[1].service.file: svc.txt:4: not a service time`},
		// A decreasing offset in a trace.
		{"{process: poisson, rate: 900/s}", "{process: trace, file: trace.csv}", "t.yaml:12: workload.arrival.file: trace.csv:4: offset 150ms is before the previous one (200ms)"},
		// A malformed access-log timestamp.
		{"{process: poisson, rate: 900/s}", "{process: trace, file: log.txt}", `t.yaml:12: workload.arrival.file: log.txt:2: access-log timestamp "02/Jan/2006:15:04 -0700"`},
		// A directory is not a data file.
		{"{process: poisson, rate: 900/s}", "{process: trace, file: .}", "t.yaml:12: workload.arrival.file: cannot read .: not a regular file"},
	}
	for _, c := range cases {
		src := strings.Replace(base, c.old, c.new, 1)
		_, err := Parse(filepath.Join(dir, "t.yaml"), []byte(src))
		if err == nil {
			t.Errorf("want %s, got none", c.want)
			continue
		}
		got := strings.TrimPrefix(err.Error(), dir+string(filepath.Separator))
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("error\n got  %s\n want %s...", got, c.want)
		}
	}
}

// TestErrorElidesHugeValues: an error quoting a huge --set value keeps
// its start, which says what is wrong, and its end, and leaves out the
// middle, at a rune boundary.
func TestErrorElidesHugeValues(t *testing.T) {
	huge := strings.Repeat("é9", 200_000) + "s"
	_, err := Load("default", "duration="+huge)
	if err == nil {
		t.Fatal("a megabyte duration loaded")
	}
	msg := err.Error()
	if len(msg) > 1000 || !utf8.ValidString(msg) {
		t.Fatalf("error of %d bytes (valid UTF-8 %v): %.200s", len(msg), utf8.ValidString(msg), msg)
	}
	for _, want := range []string{"embedded:default: --set duration: not a duration", "bytes left out", `9s"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q does not contain %q", msg, want)
		}
	}
	if short := (&Error{File: "f", Field: "x", Msg: "bad"}).Error(); short != "f: x: bad" {
		t.Errorf("a short error changed: %q", short)
	}
}

// TestSetGivenTwice: a --set of a field given before (written either
// way) is an error: the first value would have no effect.
func TestSetGivenTwice(t *testing.T) {
	for _, sets := range [][]string{
		{"policy.threshold=4", "policy.threshold=6"},
		{"servers[1].workers=4", "servers.1.workers=6"},
	} {
		_, err := Load("default", sets...)
		if err == nil || !strings.Contains(err.Error(), "given twice (4, then 6)") {
			t.Errorf("%q: %v", sets, err)
		}
	}
}

// TestSetSwallowedScenario: a --set given no value takes the scenario
// argument as its value; the error says so.
func TestSetSwallowedScenario(t *testing.T) {
	_, err := Load("default", "stale-status")
	if err == nil || !strings.Contains(err.Error(), "--set stale-status: must be key=value") || !strings.Contains(err.Error(), "stale-status names a scenario") {
		t.Errorf("got %v", err)
	}
	_, err = Load("default", "nonsense")
	if err == nil || strings.Contains(err.Error(), "names a scenario") {
		t.Errorf("a plain bad --set: %v", err)
	}
}

// TestSetPartThenWhole: a --set of a field after one of a field within
// it replaces the earlier one, which is an error; the whole first, then
// the part, is not.
func TestSetPartThenWhole(t *testing.T) {
	if _, err := Load("default", "workload.arrival.rate=500/s", "workload.arrival={process: poisson, rate: 600/s}"); err == nil || !strings.Contains(err.Error(), "replaces all of workload.arrival after --set workload.arrival.rate") {
		t.Errorf("part then whole: %v", err)
	}
	if _, err := Load("default", "workload.arrival={process: poisson, rate: 600/s}", "workload.arrival.rate=500/s"); err != nil {
		t.Errorf("whole then part: %v", err)
	}
}
