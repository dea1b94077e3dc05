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

// pick chooses a server. outstanding(i) is the generator's own requests
// outstanding at server i (what an ideal front end sees); only jsq and p2c
// read it. The generator knows of no server being down: every server
// counts as up.
func (d *dispatcher) pick(outstanding func(i int) int64) int {
	return d.d.Pick(func(i int) (int64, bool) { return outstanding(i), true }, d.rng)
}
