package loadgen

import (
	"fmt"
	"math/rand/v2"

	"github.com/redirlab/redirlab/dispatch"
)

// parseDispatch parses workload.dispatch; the error names the field.
func parseDispatch(s string) (dispatch.Policy, error) {
	p, err := dispatch.Parse(s)
	if err != nil {
		return 0, fmt.Errorf("workload.dispatch: %w", err)
	}
	return p, nil
}

// dispatcher is the generator's front end: the shared dispatch.Dispatcher
// (the simulator's too) and the dispatch stream it draws from. It is used
// by one goroutine at a time.
type dispatcher struct {
	d   *dispatch.Dispatcher
	rng *rand.Rand
}

// newDispatcher builds a dispatcher over len(weights) servers; weights are
// used by the weighted policy only and must not all be zero then.
func newDispatcher(p dispatch.Policy, weights []float64, rng *rand.Rand) (*dispatcher, error) {
	d, err := dispatch.New(p, weights)
	if err != nil {
		return nil, fmt.Errorf("workload.dispatch: %w", err)
	}
	return &dispatcher{d: d, rng: rng}, nil
}

// pick chooses a server. load(i) is server i's load as the generator's
// front end sees it and whether it is up; only jsq and p2c call it (the
// closed loop passes nil).
func (d *dispatcher) pick(load func(i int) (int64, bool)) int {
	return d.d.Pick(load, d.rng)
}
