package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadInputTable: bad input of every kind, to every command, exits 2
// with a message naming what is wrong; a run that could not run exits 4.
func TestBadInputTable(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, "good.yaml", tiny)
	run := filepath.Join(dir, "run")
	if code, _, errs := runCLI(t, "sim", good, "--quiet", "--out", run); code != 0 {
		t.Fatalf("setup: %d %s", code, errs)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(run, link); err != nil {
		t.Fatal(err)
	}
	summaryDir := func(name, body string) string {
		d := filepath.Join(dir, name)
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, "summary.json"), []byte(body), 0o644)
		return d
	}
	truncated := summaryDir("truncated", `{"scenario": "tiny", "mode": "sim", "requests": {"sent": 1`)
	mistyped := summaryDir("mistyped", `{"scenario": "tiny", "mode": "sim", "duration_s": "long"}`)
	empty := summaryDir("empty", `{}`)
	null := summaryDir("null", `null`)
	negative := summaryDir("negative", `{"scenario": "tiny", "mode": "sim", "duration_s": 2, "requests": {"sent": 10, "completed": 10}, "latency_ms": {"p99": -1}}`)
	corrupt := filepath.Join(dir, "corrupt")
	os.MkdirAll(corrupt, 0o755)
	for _, f := range []string{"summary.json", "timeseries.csv", "scenario.yaml", "requests.csv"} {
		data, _ := os.ReadFile(filepath.Join(run, f))
		os.WriteFile(filepath.Join(corrupt, f), data, 0o644)
	}
	os.WriteFile(filepath.Join(corrupt, "servers.csv"), []byte("t_s,server,queue_length\nx,y,z\n"), 0o644)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	file := func(name, body string) string { return writeFile(t, name, body) }
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		// Commands and flags.
		{"unknown command", []string{"simulate", good}, 2, `unknown command "simulate"`},
		{"unknown flag", []string{"sim", good, "--colour", "blue"}, 2, "colour"},
		{"two scenarios", []string{"sim", good, good}, 2, "at most one SCENARIO"},
		{"missing scenario file", []string{"sim", filepath.Join(dir, "nope.yaml")}, 2, "nope.yaml"},
		{"unknown embedded scenario", []string{"sim", "nosuch"}, 2, "nosuch"},
		{"bad --set", []string{"sim", good, "--set", "policy.threshold"}, 2, "key=value"},
		{"unknown --set field", []string{"sim", good, "--set", "policy.colour=red"}, 2, "colour"},
		{"unknown variant", []string{"sim", good, "--variant", "nope"}, 2, "nope"},
		{"--out a file", []string{"sim", good, "--out", good}, 2, "good.yaml"},
		{"--out in /proc", []string{"sim", good, "--out", "/proc/x"}, 2, "/proc/x"},
		{"--out earlier results", []string{"sim", good, "--out", run}, 2, "already holds results"},
		{"--set no effect", []string{"sim", good, "--set", "workload.arrival.states=[{rate: 1/s, dwell: 1s}]"}, 2, "has no effect"},
		{"past the budget", []string{"sim", good, "--set", "duration=1000000h"}, 2, "--max-seconds"},
		{"rate past the budget", []string{"sim", good, "--set", "workload.arrival.rate=1e12/s"}, 2, "--max-requests"},
		{"samples past the budget", []string{"sim", good, "--set", "sample_interval=1ns"}, 2, "--max-samples"},
		{"shed in a real closed loop", []string{"run", "closed-loop", "--set", "policy.action=shed"}, 2, "hey reports status codes only"},
		// Scenario files.
		{"empty file", []string{"validate", file("e.yaml", "")}, 2, "empty scenario"},
		{"not YAML", []string{"validate", file("n.yaml", "{{{")}, 2, "bad YAML"},
		{"unknown key", []string{"validate", file("u.yaml", tiny+"colour: blue\n")}, 2, "colour"},
		{"negative workers", []string{"validate", file("w.yaml", strings.Replace(tiny, "workers: 2", "workers: -1", 1))}, 2, "workers"},
		{"rate without unit", []string{"validate", file("r.yaml", strings.Replace(tiny, "300/s", "300", 1))}, 2, "a rate needs a unit"},
		{"unknown condition", []string{"validate", file("c.yaml", strings.Replace(tiny, "queue-length", "queue-size", 1))}, 2, "queue-size"},
		{"unknown threshold metric", []string{"validate", file("t.yaml", tiny+"thresholds: {latency_ms.p95: \"< 1s\"}\n")}, 2, "unknown metric"},
		{"bad threshold", []string{"validate", file("t2.yaml", tiny+"thresholds: {latency_ms.p99: \"fast\"}\n")}, 2, "want an operator"},
		{"unknown fault action", []string{"validate", file("f.yaml", tiny+"faults: [{at: 1s, server: web-1, action: explode}]\n")}, 2, "explode"},
		{"fault of an unknown server", []string{"validate", file("f2.yaml", tiny+"faults: [{at: 1s, server: web-9, action: crash}]\n")}, 2, "web-9"},
		{"slowdown without factor", []string{"validate", file("f3.yaml", tiny+"faults: [{at: 1s, server: web-1, action: slowdown}]\n")}, 2, "factor"},
		{"duplicate key", []string{"validate", file("d.yaml", tiny+"seed: 1\nseed: 2\n")}, 2, "duplicate key"},
		// Results directories and files.
		{"compare nothing", []string{"compare", filepath.Join(dir, "none")}, 2, "none"},
		{"compare truncated summary", []string{"compare", truncated}, 2, "summary.json"},
		{"compare mistyped summary", []string{"compare", mistyped}, 2, "summary.json"},
		{"compare {}", []string{"compare", empty}, 2, "summary.json"},
		{"compare null", []string{"compare", null}, 2, "summary.json"},
		{"compare negative p99", []string{"compare", negative}, 2, "summary.json"},
		{"plot corrupt servers.csv", []string{"plot", corrupt}, 2, "servers.csv"},
		{"plot nothing", []string{"plot", filepath.Join(dir, "none")}, 2, "none"},
		{"regress without baseline", []string{"regress", run}, 2, "baseline"},
		{"regress bad tolerance", []string{"regress", "--baseline", run, "--tolerance", "p99", run}, 2, "tolerance"},
		{"regress bad baseline", []string{"regress", "--baseline", truncated, run}, 2, "summary.json"},
		{"regress unknown format", []string{"regress", "--baseline", run, "--format", "xml", run}, 2, "format"},
		// The parts alone.
		{"loadgen without --target", []string{"loadgen", good}, 2, "target"},
		{"loadgen bad target", []string{"loadgen", good, "--target", "ftp://x"}, 2, "target"},
		{"serve bad --listen", []string{"serve", good, "--server", "web-1", "--listen", "notanaddr", "--manager", "http://127.0.0.1:1"}, 2, "notanaddr"},
		{"serve unknown server", []string{"serve", good, "--server", "web-9", "--manager", "http://127.0.0.1:1"}, 2, "web-9"},
		{"serve without manager", []string{"serve", good, "--server", "web-1"}, 2, "manager"},
		{"serve short token", []string{"serve", good, "--server", "web-1", "--manager", "http://127.0.0.1:1", "--token-file", file("tok", "short\n")}, 2, "at least 16"},
		{"manager open without token", []string{"manager", good, "--listen", "0.0.0.0:0"}, 2, "without a token"},
		{"manager bad --allow", []string{"manager", good, "--allow", "somewhere"}, 2, "somewhere"},
		// plot of a directory that does not exist says so.
		{"plot missing dir", []string{"plot", filepath.Join(t.TempDir(), "nope")}, 2, "no such file or directory"},
		// The same directory twice would be two rows of one run.
		{"compare twice", []string{"compare", run, run + "/"}, 2, "is given twice"},
		{"compare twice by a link", []string{"compare", run, link}, 2, "is given twice (as "},
		// Budget flags: NaN turned the guard off, zero or less meant the default.
		{"budget NaN", []string{"validate", good, "--max-requests=NaN"}, 2, "--max-requests NaN: want a positive number"},
		{"budget zero", []string{"sim", good, "--max-seconds=0"}, 2, "--max-seconds 0: want a positive number"},
		{"budget negative", []string{"sim", good, "--max-samples=-1"}, 2, "--max-samples -1: want a positive number"},
		{"manager start-lead too long", []string{"manager", good, "--start-lead", "1000h"}, 2, "at most 24h"},
		// loadgen cannot change the servers it drives, nor apply faults.
		{"loadgen server setting", []string{"loadgen", good, "-t", "http://127.0.0.1:1", "-t", "http://127.0.0.1:2", "--set", "policy.condition=none"}, 2, "--set policy.condition: has no effect: loadgen drives servers that run elsewhere"},
		{"loadgen workers", []string{"loadgen", good, "-t", "http://127.0.0.1:1", "-t", "http://127.0.0.1:2", "--set", "servers[0].workers=1"}, 2, "--set servers[0].workers: has no effect"},
		{"loadgen faults", []string{"loadgen", good, "-t", "http://127.0.0.1:1", "-t", "http://127.0.0.1:2", "--set", "faults=[{at: 1s, server: web-1, action: crash, for: 1s}]"}, 2, "faults are applied only by redirlab run and sim"},
		{"loadgen --shard no count", []string{"loadgen", good, "-t", "http://a", "-t", "http://b", "--shard", "1"}, 2, "--shard"},
		{"loadgen --shard 0/2", []string{"loadgen", good, "-t", "http://a", "-t", "http://b", "--shard", "0/2"}, 2, "--shard 0/2"},
		{"loadgen --shard 3/2", []string{"loadgen", good, "-t", "http://a", "-t", "http://b", "--shard", "3/2"}, 2, "--shard 3/2"},
		{"loadgen --shard 1/0", []string{"loadgen", good, "-t", "http://a", "-t", "http://b", "--shard", "1/0"}, 2, "--shard 1/0"},
		{"loadgen --shard of jsq", []string{"loadgen", good, "-t", "http://a", "-t", "http://b", "--shard", "1/2", "--set", "workload.dispatch=jsq"}, 2, "--shard 1/2: workload.dispatch jsq"},
		{"loadgen --shard of variants", []string{"loadgen", file("v.yaml", tiny+"variants: [{name: v, set: {workload.arrival.rate: 200/s}}]\n"), "-t", "http://a", "-t", "http://b", "--shard", "1/2"}, 2, "pick one with --variant"},
		// A variant of the servers' settings would be labelled with what it did not run.
		{"loadgen server-side variant", []string{"loadgen", file("sv.yaml", tiny+"variants: [{name: v, set: {policy.threshold: 3}}]\n"), "-t", "http://127.0.0.1:1", "-t", "http://127.0.0.1:2"}, 2, "variant v: sets policy.threshold, which has no effect"},
		{"loadgen --start-at not a time", []string{"loadgen", good, "-t", "http://a", "-t", "http://b", "--start-at", "soon"}, 2, "--start-at"},
		{"loadgen --start-at past", []string{"loadgen", good, "-t", "http://a", "-t", "http://b", "--start-at", "2001-01-01T00:00:00Z"}, 2, "in the past"},
		{"loadgen two starts", []string{"loadgen", good, "-t", "http://a", "-t", "http://b", "--start-at", "2001-01-01T00:00:00Z", "--manager", "http://127.0.0.1:1"}, 2, "give one"},
		{"merge nothing", []string{"merge", "--out", filepath.Join(dir, "m1")}, 2, "merge takes"},
		{"merge not a shard", []string{"merge", run, "--out", filepath.Join(dir, "m2")}, 2, "is not a shard"},
		{"merge not results", []string{"merge", filepath.Join(dir, "none"), "--out", filepath.Join(dir, "m3")}, 2, "no summary.json"},
		{"merge into a shard", []string{"merge", run, "--out", run}, 2, "holds the shard"},
		{"sweep --shard 2/1", []string{"sweep", good, "--set", "duration=1s,2s", "--shard", "2/1"}, 2, "--shard 2/1"},
		{"sweep without values", []string{"sweep", good}, 2, "sweep"},
		{"sweep bad mode", []string{"sweep", good, "--mode", "live", "--set", "duration=1s,2s"}, 2, "live"},
		// Runs that could not run.
		{"serve on a busy port", []string{"serve", good, "--server", "web-1", "--listen", busy.Addr().String(), "--manager", "http://127.0.0.1:1"}, 4, "address already in use"},
		{"loadgen against nothing", []string{"loadgen", good, "--target", "http://127.0.0.1:1", "--target", "http://127.0.0.1:2", "--quiet", "--out", filepath.Join(dir, "nothing")}, 4, "no page request completed"},
	} {
		code, stdout, stderr := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, want %d with %q\nstdout: %s\nstderr: %s", tc.name, code, tc.code, tc.want, stdout, stderr)
		}
		if tc.name == "serve on a busy port" && strings.Contains(stderr, "listening on") {
			t.Errorf("serve said it was listening before its bind failed: %s", stderr)
		}
	}
}
