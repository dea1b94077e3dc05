package results

import (
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/redirlab/redirlab/scenarios"
)

// VariantsOf is the variant list of the scenario a variant sc was
// expanded from, base first, as its file lists them: a variant's place
// in it is its colour in every figure, whichever of them a run selected.
// sc (a variant: base or one of the file's variants) keeps only the
// file it came from (sc.File), so the list is read again from there:
// the embedded scenario of that name, or the file's variants names. It
// is nil for a scenario without variants, and when the file cannot be
// read again, lists no variants or does not list sc.Variant (the figures then colour the
// runs by the order they are drawn in).
func VariantsOf(sc *scenarios.Scenario) []string {
	if sc == nil || sc.Variant == "" {
		return nil
	}
	var names []string
	if name, ok := strings.CutPrefix(sc.File, "embedded:"); ok {
		full, err := scenarios.Load(name)
		if err != nil || full.File != sc.File {
			return nil
		}
		for _, v := range full.Variants {
			names = append(names, v.Name)
		}
	} else {
		data, err := os.ReadFile(sc.File)
		if err != nil {
			return nil
		}
		var doc struct {
			Variants []struct {
				Name string `yaml:"name"`
			} `yaml:"variants"`
		}
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil
		}
		for _, v := range doc.Variants {
			names = append(names, v.Name)
		}
	}
	// No variants: a file that is itself one variant as run (a merge
	// reads a shard's scenario.yaml), which cannot say the others.
	list := append([]string{"base"}, names...)
	if len(names) == 0 || !slices.Contains(list, sc.Variant) {
		return nil
	}
	return list
}

// ColorIndex is the place of the variant s ran in its scenario's
// variant list (Summary.Variants), and false when s does not say.
func (s *Summary) ColorIndex() (int, bool) {
	if s == nil {
		return 0, false
	}
	i := slices.Index(s.Variants, s.Variant)
	return i, i >= 0
}
