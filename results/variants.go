package results

import (
	"slices"

	"github.com/redirlab/redirlab/scenarios"
)

// VariantsOf is the variant list of the scenario a variant sc was
// expanded from, base first, as its file lists them (Expand keeps it):
// a variant's place in it is its colour in every figure, whichever of
// them a run selected. It is nil for a scenario without variants.
func VariantsOf(sc *scenarios.Scenario) []string {
	if sc == nil || !slices.Contains(sc.VariantNames(), sc.Variant) {
		return nil
	}
	return sc.VariantNames()
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
