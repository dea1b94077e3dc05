package report

import (
	"bytes"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/redirlab/redirlab/results/plots"
)

// tree reads every file under root by relative path.
func tree(t *testing.T, root string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		files[rel], err = os.ReadFile(path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestWriteConcurrentSameAsSequential: writing a directory of variants
// (a run, a run, replications) with many files and figures at once
// gives the same files, byte for byte, as one at a time, leaves no
// temporary file, and reports every file written once, counted in order.
func TestWriteConcurrentSameAsSequential(t *testing.T) {
	root := t.TempDir()
	seqDir, parDir := filepath.Join(root, "seq"), filepath.Join(root, "par")
	runsOf := func(dir string) []plots.Run {
		runs := variantsFixture(t, dir)
		return runs
	}
	seqRuns, parRuns := runsOf(seqDir), runsOf(parDir)
	if err := WriteWith(seqDir, Options{Runs: seqRuns, Parallel: 1}); err != nil {
		t.Fatal(err)
	}
	var reported []string
	last := 0
	progress := func(p Progress) {
		if p.Files != last+1 {
			t.Errorf("progress counted %d after %d", p.Files, last)
		}
		last = p.Files
		reported = append(reported, p.File)
	}
	if err := WriteWith(parDir, Options{Runs: parRuns, Parallel: 8, Progress: progress}); err != nil {
		t.Fatal(err)
	}
	seq, par := tree(t, seqDir), tree(t, parDir)
	if !slices.Equal(slices.Sorted(maps.Keys(seq)), slices.Sorted(maps.Keys(par))) {
		t.Fatalf("files differ:\n%v\n%v", slices.Sorted(maps.Keys(seq)), slices.Sorted(maps.Keys(par)))
	}
	for name, b := range seq {
		if !bytes.Equal(b, par[name]) {
			t.Errorf("%s differs between sequential and concurrent writing", name)
		}
		if strings.HasSuffix(name, ".tmp") {
			t.Errorf("temporary file left: %s", name)
		}
	}
	// Every figure, page and table written is reported, once.
	var made []string
	for name := range par {
		switch filepath.Ext(name) {
		case ".png", ".svg", ".html":
			made = append(made, filepath.Join(parDir, name))
		}
		if name == ComparisonFile || strings.HasSuffix(name, ReplicationsFile) {
			made = append(made, filepath.Join(parDir, name))
		}
	}
	slices.Sort(made)
	slices.Sort(reported)
	if !slices.Equal(made, reported) {
		t.Errorf("reported %d files, want the %d written:\n%v\n%v", len(reported), len(made), reported, made)
	}
	if len(made) < 40 {
		t.Errorf("only %d files: the fixture is too small to test concurrency", len(made))
	}
}
