package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs the app in-process and returns exit code, stdout, stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"redirlab"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const tiny = `name: tiny
duration: 2s
servers:
  - {name: web, count: 2, workers: 2, service: {dist: exp, mean: 5ms}}
policy: {condition: queue-length, threshold: 2}
workload:
  arrival: {process: poisson, rate: 300/s}
`

func TestExitCodes(t *testing.T) {
	bad := writeFile(t, "bad.yaml", strings.Replace(tiny, "workers: 2", "workers: -1", 1))
	unknown := writeFile(t, "unknown.yaml", tiny+"colour: blue\n")
	norate := writeFile(t, "norate.yaml", strings.Replace(tiny, "300/s", "300", 1))
	good := writeFile(t, "good.yaml", tiny)
	tests := []struct {
		name string
		args []string
		code int
		msg  string // substring of stderr
	}{
		// A negative worker count names file, line and field.
		{"negative workers", []string{"validate", bad}, 2, "bad.yaml:4: servers[0].workers"},
		// An unknown key is an error, not ignored.
		{"unknown key", []string{"validate", unknown}, 2, "unknown.yaml:8: colour"},
		// A rate without a unit.
		{"rate without unit", []string{"sim", norate}, 2, "workload.arrival.rate"},
		// A --set of the wrong kind, written after the file.
		{"bad --set", []string{"sim", good, "--set", "policy.threshold=40ms"}, 2, "--set policy.threshold"},
		// An unknown flag is a usage error.
		{"unknown flag", []string{"sim", "--frobnicate"}, 2, "frobnicate"},
		// Two scenario arguments.
		{"two scenarios", []string{"sim", good, good}, 2, "at most one SCENARIO"},
		// A missing file.
		{"missing file", []string{"validate", filepath.Join(t.TempDir(), "nope.yaml")}, 2, "nope.yaml"},
		// A variant the scenario does not have.
		{"unknown variant", []string{"sim", "default", "--variant", "fast"}, 2, `--variant "fast"`},
		// A good file validates.
		{"valid", []string{"validate", good}, 0, ""},
		// validate takes --variant, and refuses one the scenario lacks.
		{"validate unknown variant", []string{"validate", "default", "--variant", "fast"}, 2, `--variant "fast"`},
		// validate --real checks as run does: the network is simulated only.
		{"validate real", []string{"validate", "--real", "--set", "network.rtt=5ms", "default"}, 2, "--set network.rtt: has no effect"},
		// Without --real the same setting has an effect.
		{"validate sim", []string{"validate", "--set", "network.rtt=5ms", "default"}, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, stderr)
			}
			if !strings.Contains(stderr, tc.msg) {
				t.Errorf("stderr %q does not mention %q", stderr, tc.msg)
			}
		})
	}
}

func TestScenariosLists(t *testing.T) {
	code, out, _ := runCLI(t, "scenarios")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, name := range []string{"default", "flash-crowd", "slow-server", "server-crash", "stale-status", "length-vs-delay"} {
		if !strings.Contains(out, name) {
			t.Errorf("scenarios output lacks %q:\n%s", name, out)
		}
	}
}

// TestSimDeterministic: the same scenario and seed give byte-identical
// summary.json files, and the run prints one table row per variant.
func TestSimDeterministic(t *testing.T) {
	file := writeFile(t, "v.yaml", tiny+"variants:\n  - {name: off, set: {policy.condition: none}}\n")
	var sums [2][]byte
	for i := range sums {
		dir := t.TempDir()
		code, out, stderr := runCLI(t, "sim", file, "--out", dir, "--quiet")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		for _, row := range []string{"base", "off", "simulated"} {
			if !strings.Contains(out, row) {
				t.Errorf("output lacks %q:\n%s", row, out)
			}
		}
		b, err := os.ReadFile(filepath.Join(dir, "base", "summary.json"))
		if err != nil {
			t.Fatal(err)
		}
		sums[i] = b
	}
	if !bytes.Equal(sums[0], sums[1]) {
		t.Error("summary.json differs between two runs of the same seed")
	}
}

func TestHoistFlags(t *testing.T) {
	tests := []struct{ in, want string }{
		// Flags after the scenario move in front of it.
		{"r sim a.yaml --set k=v --quiet", "r sim --set k=v --quiet a.yaml"},
		// --flag=value stays one argument.
		{"r sim a.yaml --out=x", "r sim --out=x a.yaml"},
		// Everything after -- stays positional.
		{"r sim -- --odd.yaml", "r sim -- --odd.yaml"},
		// No arguments beyond the command.
		{"r scenarios", "r scenarios"},
	}
	for _, tc := range tests {
		if got := strings.Join(hoistFlags(strings.Fields(tc.in)), " "); got != tc.want {
			t.Errorf("hoistFlags(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
