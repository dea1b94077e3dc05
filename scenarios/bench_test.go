package scenarios

import "testing"

// BenchmarkLoadDefault measures loading the default scenario, its
// variants checked, as every run and validate does once.
func BenchmarkLoadDefault(b *testing.B) {
	for b.Loop() {
		if _, err := Load("default"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExpandDefault measures splitting it into base and variants.
func BenchmarkExpandDefault(b *testing.B) {
	s, err := Load("default")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := s.Expand(); err != nil {
			b.Fatal(err)
		}
	}
}
