package runner

import (
	"context"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/redirlab/redirlab/loadgen"
	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/results/report"
	"github.com/redirlab/redirlab/scenarios"
)

func loader(name string) Loader {
	return func(sets ...string) (*scenarios.Scenario, error) { return scenarios.Load(name, sets...) }
}

func axes(t *testing.T, sets ...string) []Axis {
	t.Helper()
	var out []Axis
	for _, s := range sets {
		a, err := ParseAxis(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

func TestParseAxis(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"policy.threshold=4, 8,16", []string{"4", "8", "16"}},
		{"policy.condition=none", []string{"none"}},
		// A flow value is one value, commas and all.
		{"faults=[{at: 3s, server: web-2, action: crash}]", []string{"[{at: 3s, server: web-2, action: crash}]"}},
		{"policy={condition: none, threshold: 4}", []string{"{condition: none, threshold: 4}"}},
	} {
		a, err := ParseAxis(tc.in)
		if err != nil || !slices.Equal(a.Values, tc.want) {
			t.Errorf("ParseAxis(%q) = %q, %v; want %q", tc.in, a.Values, err, tc.want)
		}
	}
	for _, bad := range []string{"policy.threshold", "=4,8", "policy.threshold=", "policy.threshold=4,,8"} {
		if _, err := ParseAxis(bad); err == nil {
			t.Errorf("ParseAxis(%q) accepted", bad)
		}
	}
}

// TestGrid: plain overrides go with every point, in the order given,
// and only swept axes name the points.
func TestGrid(t *testing.T) {
	pts := grid(axes(t, "policy.condition=queue-delay", "policy.threshold=10ms,40ms", "workload.arrival.rate=900/s,1000/s"))
	var labels []string
	for _, p := range pts {
		labels = append(labels, p.label)
	}
	if want := []string{"10ms × 900/s", "10ms × 1000/s", "40ms × 900/s", "40ms × 1000/s"}; !slices.Equal(labels, want) {
		t.Errorf("labels %q, want %q", labels, want)
	}
	if want := []string{"policy.condition=queue-delay", "policy.threshold=40ms", "workload.arrival.rate=900/s"}; !slices.Equal(pts[2].sets, want) {
		t.Errorf("sets %q, want %q", pts[2].sets, want)
	}
}

// TestDirName: a point's directory is one path element, whatever its
// value.
func TestDirName(t *testing.T) {
	for _, tc := range []struct {
		i           int
		label, want string
	}{
		{0, "900/s", "01-900_s"},
		{1, "10ms × 900/s", "02-10ms_900_s"},
		{2, "../../evil", "03-_.._evil"},
		{9, "a\\b", "10-a_b"},
	} {
		got := dirName(tc.i, tc.label)
		if got != tc.want || strings.ContainsAny(got, `/\`) || filepath.Base(got) != got {
			t.Errorf("dirName(%d, %q) = %q, want %q", tc.i, tc.label, got, tc.want)
		}
	}
}

func TestOverlap(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"policy.threshold", "policy.threshold", true},
		{"policy", "policy.threshold", true},
		{"policy.threshold", "policy", true},
		{"servers[1].workers", "servers.1.workers", true},
		{"servers[1]", "servers.1.workers", true},
		{"servers[0].workers", "servers[1].workers", false},
		{"policy.threshold", "policy.condition", false},
		{"policy.threshold", "policy.thresholds", false},
	} {
		if got := overlap(tc.a, tc.b); got != tc.want {
			t.Errorf("overlap(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestSweepVariantClash: sweeping a key that a variant also sets is an
// error naming the key and every such variant; leaving those variants
// out with Variants is not.
func TestSweepVariantClash(t *testing.T) {
	_, err := CheckSweep(loader("length-vs-delay"), axes(t, "policy.threshold=4,8,16"), Options{})
	var se *scenarios.Error
	if !errors.As(err, &se) {
		t.Fatalf("got %v, want a *scenarios.Error", err)
	}
	for _, want := range []string{"--set policy.threshold", "length-4", "length-16", "delay-20ms", "delay-40ms"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not name %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "no-redirect") {
		t.Errorf("%q names no-redirect, which does not set the threshold", err)
	}
	if _, err := CheckSweep(loader("length-vs-delay"), axes(t, "policy.threshold=4,8,16"), Options{Variants: []string{"base", "no-redirect"}}); err != nil {
		t.Errorf("with the clashing variants left out: %v", err)
	}
	// A variant that sets a field holding the swept one clashes too.
	file := filepath.Join(t.TempDir(), "whole.yaml")
	body := `name: whole
duration: 1s
servers:
  - {name: web, count: 2, workers: 2, service: {dist: exp, mean: 5ms}}
policy: {condition: queue-length, threshold: 2}
workload:
  arrival: {process: poisson, rate: 300/s}
variants:
  - {name: other, set: {policy: "{condition: queue-length, threshold: 6}"}}
`
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := CheckSweep(loader(file), axes(t, "policy.threshold=2,4"), Options{}); err == nil || !strings.Contains(err.Error(), "other (policy)") {
		t.Errorf("a variant setting policy whole: %v", err)
	}
	// Two --set of the same field, one swept.
	_, err = CheckSweep(loader("default"), axes(t, "policy.threshold=4,8", "policy.threshold=16"), Options{Variants: []string{"base"}})
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Errorf("a swept key set twice: %v", err)
	}
	// A value given twice.
	if _, err := CheckSweep(loader("default"), axes(t, "policy.threshold=4,8,4"), Options{Variants: []string{"base"}}); !errors.As(err, &ie) || !strings.Contains(err.Error(), "the value 4 is given twice") {
		t.Errorf("a repeated value: %v", err)
	}
	// Two values written apart that are one setting.
	if _, err := CheckSweep(loader("default"), axes(t, "workload.arrival.rate=500/s,0.5k/s"), Options{Variants: []string{"base"}}); !errors.As(err, &ie) || !strings.Contains(err.Error(), "500/s and 0.5k/s are the same setting") {
		t.Errorf("one value written twice apart: %v", err)
	}
	// A threshold written two ways.
	if _, err := CheckSweep(loader("default"), axes(t, "policy.threshold=8,08"), Options{Variants: []string{"base"}}); !errors.As(err, &ie) || !strings.Contains(err.Error(), "8 and 08 are the same setting") {
		t.Errorf("a threshold written two ways: %v", err)
	}
	// No swept key at all.
	if _, err := CheckSweep(loader("default"), axes(t, "policy.threshold=4"), Options{}); !errors.As(err, &ie) {
		t.Errorf("no swept key: %v", err)
	}
}

// TestSweepPlainAndSwept: a plain --set that is valid only with the
// swept values (queue-delay needs a duration threshold) is applied with
// them and validated once per point; every row records the settings it
// ran, a variant's own value included; the swept values give different
// results; and the sweep's directory reads back, redraws and lists its
// runs for compare.
func TestSweepPlainAndSwept(t *testing.T) {
	out := t.TempDir()
	ax := axes(t, "policy.condition=queue-delay", "policy.threshold=10ms,40ms", "duration=6s")
	table, err := Sweep(context.Background(), loader("default"), ax, Options{Out: out, NoRecords: true, Variants: []string{"base", "no-redirect"}})
	if err != nil {
		t.Fatal(err)
	}
	if table.Parameter != "policy.threshold" || !slices.Equal(table.Values, []string{"10ms", "40ms"}) {
		t.Fatalf("parameter %q values %q", table.Parameter, table.Values)
	}
	if want := []string{"policy.threshold", "policy.condition", "duration"}; !slices.Equal(table.Keys, want) {
		t.Errorf("keys %q, want %q", table.Keys, want)
	}
	want := map[string][][]string{
		"base":        {{"10ms", "queue-delay", "6s"}, {"40ms", "queue-delay", "6s"}},
		"no-redirect": {{"10ms", "none", "6s"}, {"40ms", "none", "6s"}},
	}
	for _, v := range table.Variants {
		if !slices.EqualFunc(v.Settings, want[v.Name], slices.Equal) {
			t.Errorf("%s: settings %q, want %q", v.Name, v.Settings, want[v.Name])
		}
	}
	base := table.Variants[0]
	if base.Name != "base" || base.Points[0][0].LatencyMS.P99 == base.Points[1][0].LatencyMS.P99 {
		t.Errorf("%s: p99 %v at 10ms and %v at 40ms: the swept value did not change the run", base.Name, base.Points[0][0].LatencyMS.P99, base.Points[1][0].LatencyMS.P99)
	}
	recs := readCSV(t, filepath.Join(out, report.SweepFile))
	if h := recs[0][:5]; !slices.Equal(h, []string{"policy.threshold", "variant", "policy.threshold_as_run", "policy.condition_as_run", "duration_as_run"}) {
		t.Errorf("sweep.csv header %q", h)
	}
	if r := recs[3][:4]; !slices.Equal(r, []string{"10ms", "no-redirect", "10ms", "none"}) {
		t.Errorf("sweep.csv row %q", r)
	}

	// Read back from the directory alone.
	s, err := ReadSweep(out)
	if err != nil {
		t.Fatal(err)
	}
	if s.Table.Parameter != table.Parameter || !slices.Equal(s.Table.Values, table.Values) || !slices.Equal(s.Table.Keys, table.Keys) {
		t.Errorf("read back %q %q %q", s.Table.Parameter, s.Table.Values, s.Table.Keys)
	}
	for i, v := range s.Table.Variants {
		if v.Name != table.Variants[i].Name || !slices.EqualFunc(v.Settings, table.Variants[i].Settings, slices.Equal) {
			t.Errorf("variant %d read back as %s %q", i, v.Name, v.Settings)
		}
		for j := range v.Points {
			if len(v.Points[j]) != 1 || v.Points[j][0].LatencyMS != table.Variants[i].Points[j][0].LatencyMS {
				t.Errorf("%s at %s: summaries read back differ", v.Name, s.Table.Values[j])
			}
		}
	}
	before, _ := os.ReadFile(filepath.Join(out, report.SweepFile))
	if err := os.Remove(filepath.Join(out, "sweep-p99.png")); err != nil {
		t.Fatal(err)
	}
	if err := Redraw(out); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(out, report.SweepFile))
	if string(before) != string(after) {
		t.Errorf("Redraw changed sweep.csv:\n%s\nto\n%s", before, after)
	}
	for _, f := range []string{"sweep-p99.png", "report.html", "01-10ms/report.html", "01-10ms/base/report.html"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("after Redraw: %v", err)
		}
	}
	runs, err := SweepRuns(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range runs {
		names = append(names, r.Name)
	}
	if want := []string{"base at 10ms", "no-redirect at 10ms", "base at 40ms", "no-redirect at 40ms"}; !slices.Equal(names, want) {
		t.Errorf("runs %q, want %q", names, want)
	}
	if !HasResults(out) || !IsSweep(out) {
		t.Error("the sweep's directory is not recognised")
	}
}

// TestSweepWithoutVariants: a scenario without variants sweeps into
// point directories that are runs themselves, and reads back.
func TestSweepWithoutVariants(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain.yaml")
	body := `name: plain
duration: 2s
servers:
  - {name: web, count: 2, workers: 2, service: {dist: exp, mean: 5ms}}
policy: {condition: queue-length, threshold: 2}
workload:
  arrival: {process: poisson, rate: 300/s}
`
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	table, err := Sweep(context.Background(), loader(file), axes(t, "servers[0].workers=1,2,4"), Options{Out: out, NoRecords: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(table.Variants) != 1 || table.Variants[0].Setting(2, 0) != "4" {
		t.Fatalf("table %+v", table)
	}
	runs, err := SweepRuns(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3 || runs[0].Name != "1" || runs[0].Dir != filepath.Join(out, "01-1") {
		t.Errorf("runs %+v", runs)
	}
	if err := Redraw(out); err != nil {
		t.Fatal(err)
	}
}

func TestSetting(t *testing.T) {
	sc := load(t, "default", "policy.condition=queue-delay", "policy.threshold=20ms", "workload.arrival.rate=1.5k/s")
	for _, tc := range []struct{ key, want string }{
		{"policy.threshold", "20ms"},
		{"policy.condition", "queue-delay"},
		{"workload.arrival.rate", "1500/s"},
		{"servers[1].workers", "4"},
		{"servers.1.service.mean", "20ms"},
		{"duration", "20s"},
		{"seed", "1"},
		{"servers[1].service", "{dist: lognormal, mean: 20ms, cv: 1.5}"},
		{"warmup", "2s"},
		// Left out of the canonical form: the zero value.
		{"workload.session.objects", "0"},
	} {
		got, err := Setting(sc, tc.key)
		if err != nil || got != tc.want {
			t.Errorf("Setting(%s) = %q, %v; want %q", tc.key, got, err, tc.want)
		}
	}
	for _, bad := range []string{"policy.nope", "servers[9].workers", "duration.x"} {
		if got, err := Setting(sc, bad); err == nil {
			t.Errorf("Setting(%s) = %q, want an error", bad, got)
		}
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestSweepShard: shard 2 of 2 runs points 2 and 4 of five (point k, from
// 0, is shard k mod 2 + 1) under the directories the whole sweep gives
// them, each summary marked a shard of the sweep's points; a shard count
// above the points is refused.
func TestSweepShard(t *testing.T) {
	out := t.TempDir()
	ax := axes(t, "workload.arrival.rate=100/s,200/s,300/s,400/s,500/s", "duration=1s", "warmup=0s")
	table, err := Sweep(context.Background(), loader("default"), ax, Options{Out: out, NoRecords: true, Variants: []string{"base"}, Shard: loadgen.Shard{Index: 2, Count: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(table.Values, []string{"200/s", "400/s"}) {
		t.Errorf("shard 2/2 ran %v, want 200/s and 400/s", table.Values)
	}
	for _, d := range []string{"02-200_s", "04-400_s"} {
		s, err := results.ReadSummary(filepath.Join(out, d, "base"))
		if err != nil {
			t.Fatal(err)
		}
		if s.Shard == nil || *s.Shard != (results.Shard{Index: 2, Count: 2, Of: results.ShardSweepPoints}) {
			t.Errorf("%s: shard %+v", d, s.Shard)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "01-100_s")); err == nil {
		t.Errorf("shard 2/2 ran point 1")
	}
	_, err = Sweep(context.Background(), loader("default"), ax, Options{Out: t.TempDir(), NoRecords: true, Shard: loadgen.Shard{Index: 1, Count: 6}})
	if err == nil || !strings.Contains(err.Error(), "fewer than 6 shards") {
		t.Errorf("6 shards of 5 points: %v", err)
	}
}

// TestOverriddenSetNoted: a --set whose field a variant sets itself did
// not apply to that variant's run, and one the variant does not use had
// no effect on it; its summary says so, and the runs the --set did
// change say nothing.
func TestOverriddenSetNoted(t *testing.T) {
	sc, err := scenarios.Load("length-vs-delay", "duration=2s", "warmup=0s", "policy.threshold=4")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), sc, Options{Out: t.TempDir(), NoRecords: true, Variants: []string{"base", "length-16", "no-redirect", "delay-20ms"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"base":        "",
		"length-16":   "--set policy.threshold did not apply to this run: variant length-16 sets policy.threshold: 16 itself",
		"no-redirect": "--set policy.threshold has no effect on this run: ", // condition none reads no threshold
		"delay-20ms":  "--set policy.threshold did not apply to this run: variant delay-20ms sets policy.threshold: 20ms itself",
	}
	for _, r := range res {
		w, ok := want[r.Name]
		if !ok {
			t.Fatalf("unexpected run %q", r.Name)
		}
		var got []string
		for _, n := range r.Summary.Notes {
			if strings.HasPrefix(n, "--set ") {
				got = append(got, n)
			}
		}
		switch {
		case w == "" && len(got) > 0:
			t.Errorf("%s: notes %q, want none about --set", r.Name, got)
		case w != "" && (len(got) != 1 || !strings.HasPrefix(got[0], w)):
			t.Errorf("%s: notes %q, want one starting %q", r.Name, got, w)
		}
	}
}

// TestNotesLateFault: a fault that starts after warmup + duration never
// happens, and the run's notes say so; one inside the run is not noted.
func TestNotesLateFault(t *testing.T) {
	for _, tc := range []struct {
		duration string
		want     bool
	}{
		{"3s", true},   // ends at 5s, before the slowdown at 8s
		{"20s", false}, // the slowdown happens
	} {
		sc, err := scenarios.Load("default", "duration="+tc.duration)
		if err != nil {
			t.Fatal(err)
		}
		notes := Notes(sc, Sim)
		got := slices.ContainsFunc(notes, func(n string) bool {
			return strings.Contains(n, "faults[0] (slowdown at 8s) starts after the run ends")
		})
		if got != tc.want {
			t.Errorf("duration %s: notes %q, want the late-fault note %v", tc.duration, notes, tc.want)
		}
	}
}

// TestNotStarted names, by their place under the results directory, the
// runs a signal stopped before they began, and nothing when all began.
func TestNotStarted(t *testing.T) {
	out := filepath.Join("runs", "x")
	jobs := []job{
		{name: "base", dir: filepath.Join(out, "base", "rep-1")},
		{name: "base", dir: filepath.Join(out, "base", "rep-2")},
		{name: "shed", dir: filepath.Join(out, "shed", "rep-1")},
	}
	res := []Result{{Dir: jobs[0].dir}}
	err := notStarted(jobs, res, out)
	if err == nil || !strings.HasSuffix(err.Error(), "before 2 run(s) began, which have no results: base/rep-2, shed/rep-1") {
		t.Errorf("got %v", err)
	}
	if err := notStarted(jobs, []Result{{Dir: jobs[0].dir}, {Dir: jobs[1].dir}, {Dir: jobs[2].dir}}, out); err != nil {
		t.Errorf("all began: %v", err)
	}
}
