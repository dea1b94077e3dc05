package results

import "github.com/redirlab/redirlab/scenarios"

// Mode is how a run was made (scenarios.Mode, the one run mode).
type Mode = scenarios.Mode

// The run modes.
const (
	Sim  = scenarios.Sim
	Real = scenarios.Real
)

// ParseMode reads "sim" or "real".
func ParseMode(s string) (Mode, error) { return scenarios.ParseMode(s) }
