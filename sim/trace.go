package sim

import (
	"context"
	"errors"
	"time"

	"github.com/redirlab/redirlab/model"
	"github.com/redirlab/redirlab/policy"
	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
)

// EventKind says what a traced Event is.
type EventKind uint8

const (
	// Arrival: a request reached server Server and the model answered.
	Arrival EventKind = iota
	// View: server Server's agent installed View.
	View
	// Fault: a fault step changed Change.
	Fault
	// Sample: server Server's state was sampled into Sample.
	Sample
)

// Event is one step of a simulation as the model saw it: what a real
// server must see and answer alike when it is fed the same inputs at the
// same times (the differential test of the two drivers).
type Event struct {
	Kind   EventKind
	At     time.Duration
	Server int
	// Arrival: the request's hops so far, whether it is an embedded
	// object, its demand and the model's answer.
	Hops    int
	Object  bool
	Demand  model.Demand
	Answer  model.Arrival
	Request uint64 // the page request's id
	// View: the view installed (its slices are the event's own).
	View policy.View
	// Fault: the change carried out.
	Change model.Change
	// Sample: the server's sample.
	Sample results.ServerSample
}

// Trace simulates sc as Run does and calls trace with every event, in
// the order the simulation carries them out.
func Trace(ctx context.Context, sc *scenarios.Scenario, rec recorder, trace func(*Event)) error {
	if sc == nil || rec == nil || trace == nil {
		return errors.New("sim: Trace needs a scenario, a recorder and a trace function")
	}
	return simulate(ctx, sc, rec, trace)
}

// traceView records the view agent i just installed.
func (s *simulation) traceView(i int) {
	v := s.agents[i].view.Current(s.now)
	e := Event{Kind: View, At: s.now, Server: i, View: policy.View{
		Servers: append([]policy.Status(nil), v.Servers...), At: v.At,
	}}
	if v.Instructions != nil {
		e.View.Instructions = append([]policy.Instruction(nil), v.Instructions...)
	}
	s.trace(&e)
}
