package scenarios

import (
	"errors"
	"io/fs"
	"testing"
)

// FuzzParse: no input, with or without a --set override, makes the
// decoder panic or fail without a *Error; and whatever decodes has a
// canonical YAML that decodes again to the same text.
//
//	go test -fuzz=FuzzParse ./scenarios/
func FuzzParse(f *testing.F) {
	names, _ := fs.Glob(embedded, "*.yaml")
	for _, n := range names {
		data, _ := embedded.ReadFile(n)
		f.Add(data, "")
		f.Add(data, "policy.threshold=40ms")
	}
	f.Add([]byte(base), "servers.1.workers=8")
	f.Add([]byte(base), "servers[0].service={dist: pareto, max: 1s, mean: 20ms}")
	f.Add([]byte(base+"faults:\n  - {at: 1s, server: slow, action: crash}\n  - {at: 2s, server: slow, action: restart}\n"), "")
	f.Add([]byte("a: &a [*a]\n"), "")
	f.Add([]byte("x: &x {y: *x}\n"), "x.y=1")
	f.Fuzz(func(t *testing.T, data []byte, set string) {
		var sets []string
		if set != "" {
			sets = []string{set}
		}
		s, err := Parse("testdata/fuzz.yaml", data, sets...)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("not a *Error: %T %v", err, err)
			}
			if e.Line < 0 || e.File == "" || e.Msg == "" {
				t.Fatalf("bad error %#v", e)
			}
			return
		}
		if _, err := s.Expand(); err != nil {
			t.Fatalf("Parse accepted what Expand refuses: %v", err)
		}
		y, err := s.YAML()
		if err != nil {
			t.Fatalf("YAML: %v", err)
		}
		back, err := Parse("testdata/fuzz.yaml", y)
		if err != nil {
			t.Fatalf("canonical YAML does not decode: %v\n%s", err, y)
		}
		y2, err := back.YAML()
		if err != nil || string(y2) != string(y) {
			t.Fatalf("canonical YAML not stable:\n%s\n---\n%s", y, y2)
		}
	})
}
