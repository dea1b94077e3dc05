package model

import (
	"slices"
	"time"
)

// FaultKind is what a fault does.
type FaultKind uint8

const (
	// Slowdown multiplies a server's service times by Factor.
	Slowdown FaultKind = iota
	// Crash takes a server down: what it holds is lost, arrivals are
	// refused.
	Crash
	// Restart brings a crashed server back at once.
	Restart
	// ManagerOutage takes the manager away: reports fail, views age.
	ManagerOutage
	// LostReports drops each of a server's reports (every server's,
	// with Server -1) with probability Loss.
	LostReports
)

var faultKindNames = [...]string{"slowdown", "crash", "restart", "manager-outage", "lost-reports"}

func (k FaultKind) String() string {
	if int(k) < len(faultKindNames) {
		return faultKindNames[k]
	}
	return "unknown"
}

// FaultKindNames lists the fault actions as written in scenario files.
func FaultKindNames() []string { return slices.Clone(faultKindNames[:]) }

// ParseFaultKind parses a fault action name.
func ParseFaultKind(s string) (FaultKind, bool) {
	i := slices.Index(faultKindNames[:], s)
	return FaultKind(max(i, 0)), i >= 0
}

// Fault is one resolved fault of a scenario.
type Fault struct {
	Kind FaultKind
	// Server is the server index, or -1 (manager outage; lost reports of
	// every server).
	Server int
	// At is when the fault starts, since run start.
	At time.Duration
	// For is how long it lasts; 0 to the end of the run. Restart has no
	// duration.
	For time.Duration
	// Factor multiplies service times (Slowdown), > 0.
	Factor float64
	// Loss is the probability a report is lost (LostReports), in (0, 1].
	Loss float64
}

// FaultStep is the start or the end of one fault.
type FaultStep struct {
	// At is when the step happens, since run start.
	At time.Duration
	// Fault is the fault's index in the scenario.
	Fault int
	// End is true for the end of the fault, false for its start.
	End bool
}

// PlanFaults compiles faults into their steps in time order; steps at
// the same time keep file order, a fault's start before its end. A fault
// starting at or after the horizon never happens and is left out; one
// that started before it ends when it ends, even while the run drains.
func PlanFaults(faults []Fault, horizon time.Duration) []FaultStep {
	var steps []FaultStep
	for k, f := range faults {
		if f.At >= horizon {
			continue
		}
		steps = append(steps, FaultStep{At: f.At, Fault: k})
		if f.For > 0 && f.Kind != Restart {
			steps = append(steps, FaultStep{At: f.At + f.For, Fault: k, End: true})
		}
	}
	slices.SortStableFunc(steps, func(a, b FaultStep) int {
		return int(min(max(a.At-b.At, -1), 1))
	})
	return steps
}

// Change is what a fault step changes, for a driver to carry out.
type Change struct {
	Kind ChangeKind
	// Server is the server index (-1 for the manager, or for every
	// server's report loss).
	Server int
	// Factor is the server's slowdown now in force (SetSlowdown).
	Factor float64
	// On: the manager is now away (SetOutage).
	On bool
}

// ChangeKind says what a Change does.
type ChangeKind uint8

const (
	// SetSlowdown: server Server's service times are now Factor × normal.
	SetSlowdown ChangeKind = iota
	// CrashServer: server Server goes down now.
	CrashServer
	// RestartServer: server Server comes back now, empty.
	RestartServer
	// SetOutage: the manager is away (On) or back.
	SetOutage
	// SetReportLoss: the report losses in force changed; ask ReportLoss.
	SetReportLoss
)

// Faults is the state the faults leave the system in, with a defined
// meaning for overlapping faults on one server:
//   - slowdowns multiply: two active slowdowns of 2 and 3 make service 6×;
//   - a server is down while at least one of its crashes lasts; a
//     restart brings it up at once and ends all of its crashes (their ends
//     then change nothing);
//   - the manager is away while at least one outage lasts;
//   - each active lost-reports fault covering a server drops a report
//     independently, in the order the faults started.
type Faults struct {
	faults  []Fault
	slow    [][]int // active slowdowns by server, fault indices
	crashes [][]int // active crashes by server
	outages int
	losses  []int // active lost-reports faults, in start order
}

// NewFaults returns the fault state of a cluster of n servers before any
// fault.
func NewFaults(faults []Fault, n int) *Faults {
	return &Faults{faults: faults, slow: make([][]int, n), crashes: make([][]int, n)}
}

// Apply carries step into the state and returns what changed, in the
// order a driver must apply it (nil when nothing did).
func (s *Faults) Apply(step FaultStep) []Change {
	f := s.faults[step.Fault]
	i, k := f.Server, step.Fault
	switch f.Kind {
	case Slowdown:
		s.slow[i] = toggle(s.slow[i], k, step.End)
		return []Change{{Kind: SetSlowdown, Server: i, Factor: s.Slowdown(i)}}
	case Crash:
		was := len(s.crashes[i]) > 0
		s.crashes[i] = toggle(s.crashes[i], k, step.End)
		switch now := len(s.crashes[i]) > 0; {
		case now && !was:
			return []Change{{Kind: CrashServer, Server: i}}
		case was && !now:
			return []Change{{Kind: RestartServer, Server: i}}
		}
	case Restart:
		if len(s.crashes[i]) > 0 {
			s.crashes[i] = s.crashes[i][:0]
			return []Change{{Kind: RestartServer, Server: i}}
		}
	case ManagerOutage:
		was := s.outages > 0
		if step.End {
			s.outages--
		} else {
			s.outages++
		}
		if now := s.outages > 0; now != was {
			return []Change{{Kind: SetOutage, Server: -1, On: now}}
		}
	case LostReports:
		s.losses = toggle(s.losses, k, step.End)
		return []Change{{Kind: SetReportLoss, Server: i}}
	}
	return nil
}

// toggle adds fault k to the active faults ks at its start, and removes
// it at its end.
func toggle(ks []int, k int, end bool) []int {
	if !end {
		return append(ks, k)
	}
	if j := slices.Index(ks, k); j >= 0 {
		return slices.Delete(ks, j, j+1)
	}
	return ks
}

// Slowdown is server i's service-time factor now: the product of its
// active slowdowns, 1 with none.
func (s *Faults) Slowdown(i int) float64 {
	f := 1.0
	for _, k := range s.slow[i] {
		f *= s.faults[k].Factor
	}
	return f
}

// Down reports whether a crash holds server i down.
func (s *Faults) Down(i int) bool { return len(s.crashes[i]) > 0 }

// Outage reports whether the manager is away.
func (s *Faults) Outage() bool { return s.outages > 0 }

// ReportLost decides whether server i's report is lost: each active
// lost-reports fault covering it takes one draw u() in turn and loses the
// report when u() < its loss.
func (s *Faults) ReportLost(i int, u func() float64) bool {
	for _, k := range s.losses {
		f := &s.faults[k]
		if f.Server >= 0 && f.Server != i {
			continue
		}
		if u() < f.Loss {
			return true
		}
	}
	return false
}

// ReportLoss is the probability that server i's report is lost now:
// 1 − Π(1 − loss) over the active lost-reports faults covering it.
func (s *Faults) ReportLoss(i int) float64 {
	keep := 1.0
	for _, k := range s.losses {
		if f := &s.faults[k]; f.Server < 0 || f.Server == i {
			keep *= 1 - f.Loss
		}
	}
	return 1 - keep
}
