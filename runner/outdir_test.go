package runner

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestSafeName(t *testing.T) {
	for in, want := range map[string]string{
		"default":      "default",
		"../../evil":   "_.._evil",
		"..":           "scenario",
		"":             "scenario",
		"/etc/passwd":  "_etc_passwd",
		"my run (v2)":  "my_run__v2_",
		`a\b`:          "a_b",
		".hidden":      "hidden",
		"café-1.5_x":   "caf__-1.5_x",
		"name\x00null": "name_null",
	} {
		got := SafeName(in)
		if got != want {
			t.Errorf("SafeName(%q) = %q, want %q", in, got, want)
		}
		if filepath.Base(got) != got || got == "." || got == ".." {
			t.Errorf("SafeName(%q) = %q is not one path element", in, got)
		}
	}
}

// TestNewDirNeverShares: a taken name gets a suffix, and many callers
// at once all get directories of their own.
func TestNewDirNeverShares(t *testing.T) {
	parent := filepath.Join(t.TempDir(), "runs")
	first, err := NewDir(parent, "x-sim-20260101-120000")
	if err != nil {
		t.Fatal(err)
	}
	second, err := NewDir(parent, "x-sim-20260101-120000")
	if err != nil {
		t.Fatal(err)
	}
	if first == second || filepath.Base(second) != "x-sim-20260101-120000-2" {
		t.Errorf("first %s, second %s", first, second)
	}
	const n = 20
	dirs := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := NewDir(parent, "y")
			if err != nil {
				t.Error(err)
			}
			dirs[i] = d
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, d := range dirs {
		if seen[d] {
			t.Errorf("%s handed out twice", d)
		}
		seen[d] = true
	}
}

// writeTree makes files (path -> content) under dir.
func writeTree(t *testing.T, dir string, files ...string) {
	t.Helper()
	for _, f := range files {
		p := filepath.Join(dir, f)
		if strings.HasSuffix(f, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPrepareDir(t *testing.T) {
	root := t.TempDir()
	// A results directory as a run with variants and replications leaves
	// it, data files, figures and an unfinished CSV included.
	resultsTree := []string{
		"report.html", "comparison.csv", "compare-p99.png", "compare-p99.svg",
		"base/summary.json", "base/requests.csv", "base/servers.csv", "base/timeseries.csv",
		"base/scenario.yaml", "base/data/1-samples.txt", "base/report.html", "base/queue-length.png",
		"slow/rep-1/summary.json", "slow/rep-2/requests.csv.tmp", "slow/rep-2/.summary.json.abc.tmp", "slow/replications.csv",
		"empty-variant/",
	}
	inputErr := func(err error) bool {
		var ie *InputError
		return errors.As(err, &ie)
	}
	for _, tc := range []struct {
		name    string
		files   []string // nil: the directory does not exist
		force   bool
		ok      bool
		made    bool
		msg     string
		survive bool // the files are still there afterwards
	}{
		{name: "missing", ok: true, made: true},
		{name: "empty", files: []string{}, ok: true},
		{name: "results", files: resultsTree, msg: "already holds results", survive: true},
		{name: "results forced", files: resultsTree, force: true, ok: true, made: true},
		{name: "sweep forced", files: []string{"sweep.csv", "sweep-p99.png", "01-4/base/summary.json", "01-4/comparison.csv"}, force: true, ok: true, made: true},
		{name: "other files", files: []string{"notes.txt"}, msg: "is not empty", survive: true},
		{name: "other files forced", files: []string{"notes.txt"}, force: true, msg: "does not look like a redirlab results directory (notes.txt", survive: true},
		{name: "results and more forced", files: append([]string{"base/thesis.tex"}, resultsTree...), force: true, msg: "base/thesis.tex", survive: true},
		{name: "only a scenario forced", files: []string{"scenario.yaml"}, force: true, msg: "holds no summary.json", survive: true},
		{name: "only images forced", files: []string{"fig.png"}, force: true, msg: "holds no summary.json", survive: true},
		{name: "data beside no scenario forced", files: []string{"summary.json", "data/1-x"}, force: true, msg: "data/1-x", survive: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(root, strings.ReplaceAll(tc.name, " ", "-"))
			if tc.files != nil {
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				writeTree(t, dir, tc.files...)
			}
			made, err := PrepareDir(dir, tc.force)
			if tc.ok != (err == nil) || (err != nil && (!inputErr(err) || !strings.Contains(err.Error(), tc.msg))) {
				t.Fatalf("PrepareDir: %v, want ok %v or an InputError saying %q", err, tc.ok, tc.msg)
			}
			if made != tc.made {
				t.Errorf("made %v, want %v", made, tc.made)
			}
			entries, _ := os.ReadDir(dir)
			if st, serr := os.Stat(dir); tc.ok && (serr != nil || !st.IsDir() || len(entries) != 0) {
				t.Errorf("after PrepareDir: %v, %d entries; want an empty directory", serr, len(entries))
			}
			if tc.survive {
				for _, f := range tc.files {
					if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
						t.Errorf("%s is gone: %v", f, err)
					}
				}
			}
		})
	}
}

// TestPrepareDirRefusesOddPlaces: a file, a link, the root, the current
// directory and its parents are never replaced, even with force.
func TestPrepareDirRefusesOddPlaces(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "file")
	writeTree(t, root, "file", "res/summary.json", "res/cwd/", "empty/")
	if _, err := PrepareDir(file, true); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a file: %v", err)
	}
	link := filepath.Join(root, "link")
	if err := os.Symlink(filepath.Join(root, "res"), link); err != nil {
		t.Fatal(err)
	}
	if _, err := PrepareDir(link, true); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("a link to results: %v", err)
	}
	emptyLink := filepath.Join(root, "empty-link")
	if err := os.Symlink(filepath.Join(root, "empty"), emptyLink); err != nil {
		t.Fatal(err)
	}
	if _, err := PrepareDir(emptyLink, false); err != nil {
		t.Errorf("a link to an empty directory: %v", err)
	}
	if _, err := PrepareDir("/", true); err == nil {
		t.Error("/ accepted")
	}
	// The current directory, and a results directory holding it.
	t.Chdir(filepath.Join(root, "res", "cwd"))
	if made, err := PrepareDir(".", true); err != nil || made {
		t.Errorf("the current directory, empty: made %v, %v; want it used as it is", made, err)
	}
	for _, d := range []string{"..", filepath.Join(root, "res")} {
		if _, err := PrepareDir(d, true); err == nil || !strings.Contains(err.Error(), "current directory") {
			t.Errorf("%s: %v", d, err)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "res", "summary.json")); err != nil {
		t.Errorf("the results holding the current directory are gone: %v", err)
	}
}

// TestHasResults: results at any depth count; figures, a scenario or
// empty directories alone do not.
func TestHasResults(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, "a/x/y/summary.json", "b/scenario.yaml", "b/fig.png", "c/d/", "e/01-4/comparison.csv")
	for dir, want := range map[string]bool{"a": true, "b": false, "c": false, "e": true, "missing": false} {
		if got := HasResults(filepath.Join(root, dir)); got != want {
			t.Errorf("HasResults(%s) = %v, want %v", dir, got, want)
		}
	}
}
