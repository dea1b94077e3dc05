package sim

import (
	"context"
	"errors"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
)

// Run simulates sc in virtual time and records every page request and
// every server sample into rec. It returns when the run has drained (all
// page requests recorded), or with ctx's error if ctx ends first. It does
// not close rec.
func Run(ctx context.Context, sc *scenarios.Scenario, rec *results.Recorder) error {
	if sc == nil || rec == nil {
		return errors.New("sim: Run needs a scenario and a recorder")
	}
	if err := scenarios.CheckUpstream(sc, scenarios.Sim); err != nil {
		return err
	}
	return simulate(ctx, sc, rec, nil)
}

// simulate runs the simulation of sc into rec, calling trace (if not nil)
// with every event.
func simulate(ctx context.Context, sc *scenarios.Scenario, rec recorder, trace func(*Event)) error {
	s, err := newSimulation(sc, rec)
	if err != nil {
		return err
	}
	s.trace = trace
	return s.run(ctx)
}
