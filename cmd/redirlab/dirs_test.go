package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets the tests run this test binary as the redirlab command
// (REDIRLAB_AS_MAIN=1): separate processes, as separate invocations are.
func TestMain(m *testing.M) {
	if os.Getenv("REDIRLAB_AS_MAIN") == "1" {
		os.Exit(runMain(append([]string{"redirlab"}, os.Args[1:]...)))
	}
	os.Exit(m.Run())
}

// TestDefaultDirsNeverCollide: runs started together in the same
// directory (separate processes, so within the same second) all succeed
// into directories of their own under runs/, and a scenario's name
// cannot lead out of it.
func TestDefaultDirsNeverCollide(t *testing.T) {
	t.Chdir(t.TempDir())
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	file := writeFile(t, "t.yaml", tiny)
	const n = 3
	cmds := make([]*exec.Cmd, n)
	outs := make([]bytes.Buffer, n)
	for i := range cmds {
		cmds[i] = exec.Command(self, "sim", file, "--quiet", "--no-records")
		cmds[i].Env = append(os.Environ(), "REDIRLAB_AS_MAIN=1")
		cmds[i].Stdout, cmds[i].Stderr = &outs[i], &outs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Errorf("run %d: %v: %s", i, err, outs[i].String())
			continue
		}
		o := resultsLine(outs[i].String())
		if o == "" || seen[o] || !strings.HasPrefix(o, "runs/tiny-sim-") {
			t.Errorf("run %d: results directory %q: want a distinct runs/tiny-sim-...", i, o)
		}
		seen[o] = true
		if _, err := os.Stat(filepath.Join(o, "summary.json")); err != nil {
			t.Error(err)
		}
	}

	evil := writeFile(t, "evil.yaml", strings.Replace(tiny, "name: tiny", "name: ../../evil", 1))
	code, stdout, stderr := runCLI(t, "sim", evil, "--quiet")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	o := resultsLine(stdout)
	if filepath.Dir(o) != "runs" || !strings.HasPrefix(filepath.Base(o), "_.._evil-sim-") {
		t.Errorf("results in %q, want runs/_.._evil-sim-...", o)
	}
	entries, _ := os.ReadDir(".")
	if len(entries) != 1 || entries[0].Name() != "runs" {
		t.Errorf("the working directory holds %v, want runs/ only", entries)
	}
	// A variant's name is checked by the scenario itself.
	bad := writeFile(t, "badvariant.yaml", tiny+"variants:\n  - {name: ../x, set: {policy.condition: none}}\n")
	if code, _, stderr := runCLI(t, "sim", bad, "--quiet"); code != 2 || !strings.Contains(stderr, "variants[0].name") {
		t.Errorf("variant ../x: exit %d, %s", code, stderr)
	}
}

func resultsLine(stdout string) string {
	for _, l := range strings.Split(stdout, "\n") {
		if o, ok := strings.CutPrefix(l, "results: "); ok {
			return o
		}
	}
	return ""
}

// TestOutInUse: --out into earlier results is refused, replaced with
// --force; a directory of other files is never removed.
func TestOutInUse(t *testing.T) {
	file := writeFile(t, "t.yaml", tiny)
	out := filepath.Join(t.TempDir(), "out")
	sim := func(extra ...string) (int, string, string) {
		return runCLI(t, append([]string{"sim", file, "--quiet", "--no-records", "--out", out}, extra...)...)
	}
	if code, _, stderr := sim(); code != 0 {
		t.Fatalf("first run: exit %d: %s", code, stderr)
	}
	stale := filepath.Join(out, "stale.png")
	if err := os.WriteFile(stale, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := sim()
	if code != 2 || !strings.Contains(stderr, "already holds results") || !strings.Contains(stderr, "--force") || strings.Contains(stdout, "results:") {
		t.Errorf("second run: exit %d, stderr %q, stdout %q", code, stderr, stdout)
	}
	if code, _, stderr := sim("--force"); code != 0 {
		t.Fatalf("--force: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("--force kept a file of the earlier results: %v", err)
	}
	mine := filepath.Join(out, "notes.txt")
	if err := os.WriteFile(mine, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = sim("--force")
	if code != 2 || !strings.Contains(stderr, "does not look like a redirlab results directory") {
		t.Errorf("--force over other files: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("--force removed a file redirlab did not write: %v", err)
	}
	// The sweep takes --force too.
	sweepOut := filepath.Join(t.TempDir(), "s")
	args := []string{"sweep", file, "--set", "policy.threshold=1,3", "--quiet", "--no-records", "--out", sweepOut}
	for i, want := range []int{0, 2} {
		if code, _, stderr := runCLI(t, args...); code != want {
			t.Errorf("sweep %d: exit %d, want %d: %s", i+1, code, want, stderr)
		}
	}
	if code, _, stderr := runCLI(t, append(args, "--force")...); code != 0 {
		t.Errorf("sweep --force: exit %d: %s", code, stderr)
	}
}
