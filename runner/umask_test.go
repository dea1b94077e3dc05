//go:build unix

package runner

import (
	"context"
	"io/fs"
	"path/filepath"
	"syscall"
	"testing"
)

// TestFilesFollowUmask: every file of a results directory (summaries,
// CSVs, scenario, figures, reports, comparison) has mode 0666 less the
// umask, like any file the user makes.
func TestFilesFollowUmask(t *testing.T) {
	const mask = 0o027
	old := syscall.Umask(mask)
	defer syscall.Umask(old)
	sc := load(t, "default", "duration=1s", "warmup=0s")
	dir := t.TempDir()
	if _, err := Run(context.Background(), sc, Options{Mode: Sim, Out: dir}); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		n++
		if got := info.Mode().Perm(); got != 0o666&^mask {
			t.Errorf("%s: mode %v, want %v", path, got, fs.FileMode(0o666&^mask))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Errorf("only %d files checked", n)
	}
}
