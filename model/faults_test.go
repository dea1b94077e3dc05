package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestPlanFaults(t *testing.T) {
	const h = 100 * ms // the horizon of every row
	start := func(at time.Duration, k int) FaultStep { return FaultStep{At: at, Fault: k} }
	end := func(at time.Duration, k int) FaultStep { return FaultStep{At: at, Fault: k, End: true} }
	for _, tc := range []struct {
		name   string
		faults []Fault
		want   []FaultStep
	}{
		// No faults, no steps.
		{"none", nil, nil},
		// Steps come in time order whatever the file order.
		{"time order", []Fault{
			{Kind: Crash, At: 30 * ms},
			{Kind: Crash, At: 10 * ms},
			{Kind: Crash, At: 20 * ms},
		}, []FaultStep{start(10*ms, 1), start(20*ms, 2), start(30*ms, 0)}},
		// Starts at one time keep file order.
		{"file order at ties", []Fault{
			{Kind: Slowdown, At: 10 * ms, Factor: 2},
			{Kind: ManagerOutage, Server: -1, At: 10 * ms},
			{Kind: Crash, At: 10 * ms},
		}, []FaultStep{start(10*ms, 0), start(10*ms, 1), start(10*ms, 2)}},
		// An end and a start at one time keep file order too: the end of
		// fault 0 before the start of fault 1...
		{"end then start at a tie", []Fault{
			{Kind: Crash, At: 10 * ms, For: 10 * ms},
			{Kind: Crash, At: 20 * ms},
		}, []FaultStep{start(10*ms, 0), end(20*ms, 0), start(20*ms, 1)}},
		// ...and the start of fault 0 before the end of fault 1.
		{"start then end at a tie", []Fault{
			{Kind: Crash, At: 20 * ms},
			{Kind: Crash, At: 10 * ms, For: 10 * ms},
		}, []FaultStep{start(10*ms, 1), start(20*ms, 0), end(20*ms, 1)}},
		// A fault's start comes before its end, even a nanosecond apart.
		{"start before end", []Fault{
			{Kind: Slowdown, At: 10 * ms, For: 1, Factor: 2},
		}, []FaultStep{start(10*ms, 0), end(10*ms+1, 0)}},
		// A fault with For 0 lasts to the end of the run: no end step.
		{"for 0 has no end", []Fault{
			{Kind: LostReports, Server: -1, At: 10 * ms, Loss: 0.5},
		}, []FaultStep{start(10*ms, 0)}},
		// A restart has no end, whatever For says.
		{"restart has no end", []Fault{
			{Kind: Restart, At: 10 * ms, For: 20 * ms},
		}, []FaultStep{start(10*ms, 0)}},
		// A fault starting at or after the horizon never happens: neither
		// its start nor its end is planned. One that started before it
		// ends when it ends, at the horizon or after (the run drains).
		{"horizon", []Fault{
			{Kind: Crash, At: h, For: ms},
			{Kind: Crash, At: 90 * ms, For: 10 * ms},
			{Kind: Crash, At: 95 * ms, For: 10 * ms},
			{Kind: Crash, At: 80 * ms, For: 20*ms - 1},
			{Kind: Crash, At: 2 * h},
			{Kind: Slowdown, At: h - 1, For: h, Factor: 2},
		}, []FaultStep{start(80*ms, 3), start(90*ms, 1), start(95*ms, 2), end(h-1, 3), start(h-1, 5), end(h, 1), end(105*ms, 2), end(2*h-1, 5)}},
	} {
		got := PlanFaults(tc.faults, h)
		if len(got) != len(tc.want) || (len(got) > 0 && !slices.Equal(got, tc.want)) {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// faultRow is one step of a fault test: the step PlanFaults must give,
// the changes Apply must return, and a check of the state after it.
type faultRow struct {
	step    FaultStep
	changes []Change
	check   func(*Faults) string // "" when right
}

// runFaultRows plans faults and applies their steps, checking each row.
func runFaultRows(t *testing.T, faults []Fault, n int, horizon time.Duration, rows []faultRow) {
	t.Helper()
	steps := PlanFaults(faults, horizon)
	if len(steps) != len(rows) {
		t.Fatalf("planned %d steps %+v, want %d", len(steps), steps, len(rows))
	}
	s := NewFaults(faults, n)
	for j, row := range rows {
		if steps[j] != row.step {
			t.Fatalf("step %d: %+v, want %+v", j, steps[j], row.step)
		}
		got := s.Apply(steps[j])
		if len(got) != len(row.changes) || (len(got) > 0 && !slices.Equal(got, row.changes)) {
			t.Fatalf("step %d %+v: changes %+v, want %+v", j, steps[j], got, row.changes)
		}
		if row.check != nil {
			if msg := row.check(s); msg != "" {
				t.Fatalf("step %d %+v: %s", j, steps[j], msg)
			}
		}
	}
}

func slowdowns(want ...float64) func(*Faults) string {
	return func(s *Faults) string {
		for i, w := range want {
			if got := s.Slowdown(i); got != w {
				return fmt.Sprintf("slowdown of %d = %g, want %g", i, got, w)
			}
		}
		return ""
	}
}

func downs(want ...bool) func(*Faults) string {
	return func(s *Faults) string {
		for i, w := range want {
			if got := s.Down(i); got != w {
				return fmt.Sprintf("down(%d) = %v, want %v", i, got, w)
			}
		}
		return ""
	}
}

func outage(want bool) func(*Faults) string {
	return func(s *Faults) string {
		if got := s.Outage(); got != want {
			return fmt.Sprintf("outage %v, want %v", got, want)
		}
		return ""
	}
}

func losses(want ...float64) func(*Faults) string {
	return func(s *Faults) string {
		for i, w := range want {
			if got := s.ReportLoss(i); math.Abs(got-w) > 1e-12 {
				return fmt.Sprintf("report loss of %d = %g, want %g", i, got, w)
			}
		}
		return ""
	}
}

// TestFaultsSlowdowns: overlapping slowdowns of one server multiply, and
// their ends bring it back to 1.
func TestFaultsSlowdowns(t *testing.T) {
	faults := []Fault{
		{Kind: Slowdown, Server: 0, At: 0, For: 10 * ms, Factor: 2},
		{Kind: Slowdown, Server: 0, At: 5 * ms, For: 10 * ms, Factor: 3},
		{Kind: Slowdown, Server: 1, At: 5 * ms, Factor: 4},
	}
	set := func(i int, f float64) []Change { return []Change{{Kind: SetSlowdown, Server: i, Factor: f}} }
	runFaultRows(t, faults, 2, time.Second, []faultRow{
		// Server 0 slowed 2×.
		{FaultStep{At: 0, Fault: 0}, set(0, 2), slowdowns(2, 1)},
		// A second slowdown of server 0 multiplies: 6×.
		{FaultStep{At: 5 * ms, Fault: 1}, set(0, 6), slowdowns(6, 1)},
		// Server 1 is slowed on its own.
		{FaultStep{At: 5 * ms, Fault: 2}, set(1, 4), slowdowns(6, 4)},
		// The first ends: the second's 3× is left.
		{FaultStep{At: 10 * ms, Fault: 0, End: true}, set(0, 3), slowdowns(3, 4)},
		// The second ends: back to 1.
		{FaultStep{At: 15 * ms, Fault: 1, End: true}, set(0, 1), slowdowns(1, 4)},
	})
}

// TestFaultsOverlappingCrashes: a server is down while at least one of
// its crashes lasts: one CrashServer at the first start, one
// RestartServer at the last end.
func TestFaultsOverlappingCrashes(t *testing.T) {
	faults := []Fault{
		{Kind: Crash, Server: 0, At: 0, For: 10 * ms},
		{Kind: Crash, Server: 0, At: 5 * ms, For: 10 * ms},
		{Kind: Crash, Server: 1, At: 7 * ms, For: 1 * ms},
	}
	runFaultRows(t, faults, 2, time.Second, []faultRow{
		// Server 0 goes down.
		{FaultStep{At: 0, Fault: 0}, []Change{{Kind: CrashServer, Server: 0}}, downs(true, false)},
		// A second crash of a down server changes nothing.
		{FaultStep{At: 5 * ms, Fault: 1}, nil, downs(true, false)},
		// Server 1's crash is its own.
		{FaultStep{At: 7 * ms, Fault: 2}, []Change{{Kind: CrashServer, Server: 1}}, downs(true, true)},
		{FaultStep{At: 8 * ms, Fault: 2, End: true}, []Change{{Kind: RestartServer, Server: 1}}, downs(true, false)},
		// The first crash ends while the second lasts: still down.
		{FaultStep{At: 10 * ms, Fault: 0, End: true}, nil, downs(true, false)},
		// The last ends: back up.
		{FaultStep{At: 15 * ms, Fault: 1, End: true}, []Change{{Kind: RestartServer, Server: 0}}, downs(false, false)},
	})
}

// TestFaultsRestart: a restart brings the server up at once and ends all
// of its crashes, whose later ends change nothing; a crash after the
// restart counts; a restart of a running server does nothing.
func TestFaultsRestart(t *testing.T) {
	faults := []Fault{
		{Kind: Crash, Server: 0, At: 0, For: 30 * ms},
		{Kind: Crash, Server: 0, At: 10 * ms, For: 30 * ms},
		{Kind: Restart, Server: 0, At: 20 * ms},
		{Kind: Crash, Server: 0, At: 25 * ms, For: 10 * ms},
		{Kind: Crash, Server: 1, At: 5 * ms},
		{Kind: Restart, Server: 1, At: 20 * ms},
		{Kind: Restart, Server: 1, At: 45 * ms},
	}
	runFaultRows(t, faults, 2, time.Second, []faultRow{
		// Server 0 down.
		{FaultStep{At: 0, Fault: 0}, []Change{{Kind: CrashServer, Server: 0}}, downs(true, false)},
		// Server 1 down for ever (For 0).
		{FaultStep{At: 5 * ms, Fault: 4}, []Change{{Kind: CrashServer, Server: 1}}, downs(true, true)},
		// Overlapping crash of 0: nothing new.
		{FaultStep{At: 10 * ms, Fault: 1}, nil, downs(true, true)},
		// Restart of 0 ends both its crashes.
		{FaultStep{At: 20 * ms, Fault: 2}, []Change{{Kind: RestartServer, Server: 0}}, downs(false, true)},
		// Restart of 1 ends its endless crash.
		{FaultStep{At: 20 * ms, Fault: 5}, []Change{{Kind: RestartServer, Server: 1}}, downs(false, false)},
		// A crash after the restart takes 0 down again.
		{FaultStep{At: 25 * ms, Fault: 3}, []Change{{Kind: CrashServer, Server: 0}}, downs(true, false)},
		// The first crash's end (ended by the restart) changes nothing:
		// the new crash holds 0 down.
		{FaultStep{At: 30 * ms, Fault: 0, End: true}, nil, downs(true, false)},
		// The new crash ends: up.
		{FaultStep{At: 35 * ms, Fault: 3, End: true}, []Change{{Kind: RestartServer, Server: 0}}, downs(false, false)},
		// The second crash's end (ended by the restart) changes nothing.
		{FaultStep{At: 40 * ms, Fault: 1, End: true}, nil, downs(false, false)},
		// Restarting a running server changes nothing.
		{FaultStep{At: 45 * ms, Fault: 6}, nil, downs(false, false)},
	})
}

// TestFaultsOutages: the manager is away while at least one outage lasts.
func TestFaultsOutages(t *testing.T) {
	faults := []Fault{
		{Kind: ManagerOutage, Server: -1, At: 0, For: 10 * ms},
		{Kind: ManagerOutage, Server: -1, At: 5 * ms, For: 10 * ms},
		{Kind: ManagerOutage, Server: -1, At: 20 * ms},
		{Kind: ManagerOutage, Server: -1, At: 25 * ms, For: 5 * ms},
	}
	on := []Change{{Kind: SetOutage, Server: -1, On: true}}
	off := []Change{{Kind: SetOutage, Server: -1, On: false}}
	runFaultRows(t, faults, 1, time.Second, []faultRow{
		// Away.
		{FaultStep{At: 0, Fault: 0}, on, outage(true)},
		// A nested outage: still away, nothing new.
		{FaultStep{At: 5 * ms, Fault: 1}, nil, outage(true)},
		// The outer one ends inside the nested one: still away.
		{FaultStep{At: 10 * ms, Fault: 0, End: true}, nil, outage(true)},
		// The last ends: back.
		{FaultStep{At: 15 * ms, Fault: 1, End: true}, off, outage(false)},
		// An endless outage.
		{FaultStep{At: 20 * ms, Fault: 2}, on, outage(true)},
		// One inside it, starting and ending: nothing changes.
		{FaultStep{At: 25 * ms, Fault: 3}, nil, outage(true)},
		{FaultStep{At: 30 * ms, Fault: 3, End: true}, nil, outage(true)},
	})
}

// TestFaultsReportLoss: ReportLoss is 1 − Π(1 − loss) over the active
// lost-reports faults covering a server (Server -1 covers every one).
func TestFaultsReportLoss(t *testing.T) {
	faults := []Fault{
		{Kind: LostReports, Server: 1, At: 0, For: 20 * ms, Loss: 0.5},
		{Kind: LostReports, Server: -1, At: 10 * ms, For: 20 * ms, Loss: 0.2},
		{Kind: LostReports, Server: 0, At: 15 * ms, For: 10 * ms, Loss: 0.75},
	}
	set := func(i int) []Change { return []Change{{Kind: SetReportLoss, Server: i}} }
	runFaultRows(t, faults, 3, time.Second, []faultRow{
		// Server 1 loses half.
		{FaultStep{At: 0, Fault: 0}, set(1), losses(0, 0.5, 0)},
		// Everyone loses 0.2 more: server 1 keeps 0.5 × 0.8.
		{FaultStep{At: 10 * ms, Fault: 1}, set(-1), losses(0.2, 0.6, 0.2)},
		// Server 0 keeps 0.8 × 0.25.
		{FaultStep{At: 15 * ms, Fault: 2}, set(0), losses(0.8, 0.6, 0.2)},
		{FaultStep{At: 20 * ms, Fault: 0, End: true}, set(1), losses(0.8, 0.2, 0.2)},
		{FaultStep{At: 25 * ms, Fault: 2, End: true}, set(0), losses(0.2, 0.2, 0.2)},
		// None left.
		{FaultStep{At: 30 * ms, Fault: 1, End: true}, set(-1), losses(0, 0, 0)},
	})
}

// TestFaultsReportLost: each active lost-reports fault covering the
// server takes one draw in the order the faults started (not file
// order) and loses the report when the draw is below its loss; the
// first loss decides, with no further draw.
func TestFaultsReportLost(t *testing.T) {
	faults := []Fault{
		{Kind: LostReports, Server: 1, At: 10 * ms, Loss: 0.5},
		{Kind: LostReports, Server: -1, At: 5 * ms, Loss: 0.2},
		{Kind: LostReports, Server: 2, At: 0, Loss: 0.9},
	}
	s := NewFaults(faults, 3)
	if s.ReportLost(1, func() float64 { t.Fatal("drew with no fault active"); return 0 }) {
		t.Fatal("lost with no fault active")
	}
	for _, st := range PlanFaults(faults, time.Second) {
		s.Apply(st)
	}
	for _, tc := range []struct {
		name   string
		server int
		draws  []float64
		lost   bool
		used   int // draws taken
	}{
		// Server 1: fault 1 (0.2) then fault 0 (0.5); both keep. In file
		// order 0.3 < 0.5 would lose it: the order is start order.
		{"1 kept", 1, []float64{0.3, 0.9}, false, 2},
		// The second draw, fault 0's, loses it.
		{"1 second loses", 1, []float64{0.3, 0.45}, true, 2},
		// The first draw loses it: no second draw.
		{"1 first loses", 1, []float64{0.1}, true, 1},
		// Server 0: only the all-servers fault; a draw equal to the loss keeps.
		{"0 at the loss", 0, []float64{0.2}, false, 1},
		// Just below loses.
		{"0 below", 0, []float64{0.19}, true, 1},
		// Server 2: fault 2 (0.9, started first) then fault 1 (0.2).
		{"2 second loses", 2, []float64{0.95, 0.1}, true, 2},
		{"2 kept", 2, []float64{0.95, 0.5}, false, 2},
	} {
		used := 0
		u := func() float64 {
			if used >= len(tc.draws) {
				t.Fatalf("%s: more than %d draws", tc.name, len(tc.draws))
			}
			used++
			return tc.draws[used-1]
		}
		if lost := s.ReportLost(tc.server, u); lost != tc.lost || used != tc.used {
			t.Errorf("%s: lost %v after %d draws, want %v after %d", tc.name, lost, used, tc.lost, tc.used)
		}
	}
	// ReportLost loses reports at the rate ReportLoss says.
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 3 {
		const n = 20000
		lost := 0
		for range n {
			if s.ReportLost(i, r.Float64) {
				lost++
			}
		}
		p := s.ReportLoss(i)
		if got, sd := float64(lost)/n, math.Sqrt(p*(1-p)/n); math.Abs(got-p) > 5*sd {
			t.Errorf("server %d: lost %.4f of reports, ReportLoss says %.4f", i, got, p)
		}
	}
}

// TestFaultsAgainstReference applies random fault lists step by step and
// compares, after all the steps of each instant, the state with a naive
// recomputation from the faults active at that instant, and checks each
// step's changes against the state's transitions.
//
// The naive reference, from the doc comments of Faults and PlanFaults,
// at an instant t:
//   - a fault starting at or after the horizon never happens;
//   - one that does is active at t when At <= t and (For == 0 or
//     t < At+For), also past the horizon (its end is planned);
//   - a slowdown factor is the product of the server's active slowdowns;
//   - the manager is away when an outage is active;
//   - report loss is 1 − Π(1 − loss) over active covering lost-reports;
//   - a server is down when one of its crashes is active and no restart
//     of it at or before t came after that crash's start in step order
//     (an earlier time, or the same time and a later file index).
func TestFaultsAgainstReference(t *testing.T) {
	const n = 3
	const horizon = 60 * ms
	for seed := uint64(1); seed <= 300; seed++ {
		r := rand.New(rand.NewPCG(seed, 11))
		faults := make([]Fault, 1+r.IntN(12))
		for k := range faults {
			f := Fault{Kind: FaultKind(r.IntN(5)), Server: r.IntN(n)}
			// Times on a 5ms grid make ties common; some start at or after
			// the horizon, some end at or after it.
			f.At = time.Duration(r.IntN(14)) * 5 * ms
			if r.IntN(4) > 0 {
				f.For = time.Duration(1+r.IntN(8)) * 5 * ms
			}
			switch f.Kind {
			case Slowdown:
				f.Factor = []float64{0.5, 2, 3}[r.IntN(3)]
			case ManagerOutage:
				f.Server = -1
			case LostReports:
				f.Loss = []float64{0.1, 0.5, 1}[r.IntN(3)]
				if r.IntN(2) == 0 {
					f.Server = -1
				}
			}
			faults[k] = f
		}
		active := func(f Fault, at time.Duration) bool {
			return f.At < horizon && f.At <= at && (f.For == 0 || at < f.At+f.For)
		}
		naiveDown := func(i int, at time.Duration) bool {
			for c, f := range faults {
				if f.Kind != Crash || f.Server != i || !active(f, at) {
					continue
				}
				restarted := false
				for k, g := range faults {
					if g.Kind == Restart && g.Server == i && g.At < horizon && g.At <= at && (f.At < g.At || (f.At == g.At && c < k)) {
						restarted = true
					}
				}
				if !restarted {
					return true
				}
			}
			return false
		}
		naive := func(at time.Duration) (down []bool, slow []float64, away bool, loss []float64) {
			down, slow, loss = make([]bool, n), make([]float64, n), make([]float64, n)
			for i := range n {
				down[i] = naiveDown(i, at)
				slow[i] = 1
				keep := 1.0
				for _, f := range faults {
					if !active(f, at) {
						continue
					}
					switch {
					case f.Kind == Slowdown && f.Server == i:
						slow[i] *= f.Factor
					case f.Kind == LostReports && (f.Server < 0 || f.Server == i):
						keep *= 1 - f.Loss
					}
				}
				loss[i] = 1 - keep
			}
			for _, f := range faults {
				if f.Kind == ManagerOutage && active(f, at) {
					away = true
				}
			}
			return down, slow, away, loss
		}
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("seed %d, faults %+v: %s", seed, faults, fmt.Sprintf(format, args...))
		}

		steps := PlanFaults(faults, horizon)
		s := NewFaults(faults, n)
		// What a driver carrying out the changes would have.
		down, slow, away := make([]bool, n), []float64{1, 1, 1}, false
		for j, st := range steps {
			if (!st.End && st.At >= horizon) || (j > 0 && st.At < steps[j-1].At) {
				fail("step %d %+v out of order, or a start past the horizon", j, st)
			}
			before := make([]float64, n)
			for i := range n {
				before[i] = s.ReportLoss(i)
			}
			lossChanged := map[int]bool{}
			for _, c := range s.Apply(st) {
				switch c.Kind {
				case SetSlowdown:
					slow[c.Server] = c.Factor
				case CrashServer:
					if down[c.Server] {
						fail("step %+v crashes server %d, already down", st, c.Server)
					}
					down[c.Server] = true
				case RestartServer:
					if !down[c.Server] {
						fail("step %+v restarts server %d, already up", st, c.Server)
					}
					down[c.Server] = false
				case SetOutage:
					if c.On == away {
						fail("step %+v sets outage %v, already so", st, c.On)
					}
					away = c.On
				case SetReportLoss:
					lossChanged[c.Server] = true
				}
			}
			// The changes carry the state over, step by step.
			for i := range n {
				if down[i] != s.Down(i) || slow[i] != s.Slowdown(i) {
					fail("after step %+v server %d: driver has down %v slowdown %g, state %v %g", st, i, down[i], slow[i], s.Down(i), s.Slowdown(i))
				}
				if s.ReportLoss(i) != before[i] && !lossChanged[i] && !lossChanged[-1] {
					fail("step %+v changed server %d's report loss without a SetReportLoss", st, i)
				}
			}
			if away != s.Outage() {
				fail("after step %+v: driver has outage %v, state %v", st, away, s.Outage())
			}
			if j+1 < len(steps) && steps[j+1].At == st.At {
				continue // compare once the instant is complete
			}
			wantDown, wantSlow, wantAway, wantLoss := naive(st.At)
			for i := range n {
				if s.Down(i) != wantDown[i] {
					fail("at %v: down(%d) %v, reference %v", st.At, i, s.Down(i), wantDown[i])
				}
				if math.Abs(s.Slowdown(i)-wantSlow[i]) > 1e-12*wantSlow[i] {
					fail("at %v: slowdown(%d) %g, reference %g", st.At, i, s.Slowdown(i), wantSlow[i])
				}
				if math.Abs(s.ReportLoss(i)-wantLoss[i]) > 1e-12 {
					fail("at %v: report loss(%d) %g, reference %g", st.At, i, s.ReportLoss(i), wantLoss[i])
				}
			}
			if s.Outage() != wantAway {
				fail("at %v: outage %v, reference %v", st.At, s.Outage(), wantAway)
			}
		}
	}
}

func TestFaultKindNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind FaultKind
		ok   bool
	}{
		// Every action as written in scenario files.
		{"slowdown", Slowdown, true},
		{"crash", Crash, true},
		{"restart", Restart, true},
		{"manager-outage", ManagerOutage, true},
		{"lost-reports", LostReports, true},
		// Unknown names fail.
		{"Crash", 0, false},
		{"", 0, false},
	} {
		k, ok := ParseFaultKind(tc.name)
		if k != tc.kind || ok != tc.ok {
			t.Errorf("ParseFaultKind(%q) = %v, %v; want %v, %v", tc.name, k, ok, tc.kind, tc.ok)
		}
		if ok && k.String() != tc.name {
			t.Errorf("%v.String() = %q, want %q", k, k.String(), tc.name)
		}
	}
	if got := FaultKind(200).String(); got != "unknown" {
		t.Errorf("FaultKind(200) = %q", got)
	}
	names := FaultKindNames()
	if !slices.Equal(names, []string{"slowdown", "crash", "restart", "manager-outage", "lost-reports"}) {
		t.Fatalf("names %v", names)
	}
	// The list is the caller's: changing it must not rename a kind (as
	// policy's ConditionNames and the others return copies).
	names[0] = "changed"
	if got := Slowdown.String(); got != "slowdown" {
		t.Fatalf("after changing FaultKindNames()'s result, Slowdown is %q", got)
	}
	if _, ok := ParseFaultKind("slowdown"); !ok {
		t.Fatal("after changing FaultKindNames()'s result, slowdown no longer parses")
	}
}
