//go:build unix

package tempfile

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestCreateFollowsUmask: the file has mode 0666 less the umask, under
// two umasks, and its name follows the pattern.
func TestCreateFollowsUmask(t *testing.T) {
	dir := t.TempDir()
	for _, mask := range []int{0o022, 0o002, 0o077} {
		old := syscall.Umask(mask)
		f, err := Create(dir, ".summary.json.*.tmp")
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		st, err := os.Stat(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		if got, want := st.Mode().Perm(), os.FileMode(0o666&^mask); got != want {
			t.Errorf("umask %03o: mode %v, want %v", mask, got, want)
		}
		base := filepath.Base(f.Name())
		if !strings.HasPrefix(base, ".summary.json.") || !strings.HasSuffix(base, ".tmp") || filepath.Dir(f.Name()) != dir {
			t.Errorf("name %s does not follow the pattern", f.Name())
		}
	}
}

// TestCreateNeverReuses: many files under one pattern are all new.
func TestCreateNeverReuses(t *testing.T) {
	dir := t.TempDir()
	seen := map[string]bool{}
	for range 200 {
		f, err := Create(dir, "x")
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if seen[f.Name()] {
			t.Fatalf("%s made twice", f.Name())
		}
		seen[f.Name()] = true
	}
}
