package scenarios

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestPortableLoadsElsewhere: an embedded scenario that reads a data file,
// written out with Portable, loads from another directory with the same
// samples.
func TestPortableLoadsElsewhere(t *testing.T) {
	sc, err := Load("closed-loop")
	if err != nil {
		t.Fatal(err)
	}
	if sc.Servers[0].Service.Dist != "empirical" || len(sc.Servers[0].Service.Samples) == 0 {
		t.Fatalf("closed-loop no longer reads an empirical file; pick another scenario for this test")
	}
	p, files := sc.Portable()
	if p.Servers[0].Service.File == sc.Servers[0].Service.File {
		t.Errorf("Portable kept the original file name %q", p.Servers[0].Service.File)
	}
	dir := t.TempDir()
	data, err := p.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "scenario.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	back, err := Load(filepath.Join(dir, "scenario.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Servers[0].Service.Samples, sc.Servers[0].Service.Samples) {
		t.Error("samples differ after the round trip through Portable")
	}
}
