package server

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/redirlab/redirlab/policy"
)

// Registry is the manager's state as a single-threaded, clock-free state
// machine: which servers exist, where they are, what they last reported,
// which are down, and (under central placement) the instructions. Time
// enters as now, since the manager's start.
type Registry struct {
	names   []string
	index   map[string]int
	entries []entry
	// instructions is nil under local placement.
	instructions []policy.Instruction
	policy       policy.Config
	expire       time.Duration
	rng          *rand.Rand
	tickedAt     time.Duration
}

type entry struct {
	url    string
	status StatusMessage
	last   time.Duration
	seen   bool
	up     bool
}

// NewRegistry returns a registry of the named servers (index order) in
// which no server has reported yet. Servers silent for longer than expire
// are marked down.
func NewRegistry(names []string, p policy.Config, expire time.Duration, rng *rand.Rand) *Registry {
	r := &Registry{
		names:   append([]string(nil), names...),
		index:   make(map[string]int, len(names)),
		entries: make([]entry, len(names)),
		policy:  p,
		expire:  expire,
		rng:     rng,
	}
	for i, n := range names {
		r.index[n] = i
	}
	if p.Placement == policy.Central {
		r.instructions = make([]policy.Instruction, len(names))
		for i := range r.instructions {
			r.instructions[i].Target = -1
		}
	}
	return r
}

// Report records a server's report received at now and returns its index.
// The name must be one of the registry's servers and the URL a valid base
// URL; the server is up from now until it reports down or falls silent.
func (r *Registry) Report(now time.Duration, m ReportMessage) (int, error) {
	i, ok := r.index[m.Name]
	if !ok {
		return -1, fmt.Errorf("report: unknown server %q", m.Name)
	}
	u, err := NormalizeBaseURL(m.URL)
	if err != nil {
		return -1, fmt.Errorf("report from %s: %v", m.Name, err)
	}
	e := &r.entries[i]
	e.url = u
	e.status = m.Status
	e.status.Name = m.Name
	e.status.Server = i
	e.last = now
	e.seen = true
	e.up = m.Status.Up
	return i, nil
}

// Tick expires servers silent for longer than the expiry at now and,
// under central placement, recomputes the instructions from the reported
// statuses. The manager calls it every report interval.
func (r *Registry) Tick(now time.Duration) {
	for i := range r.entries {
		e := &r.entries[i]
		if e.up && now-e.last > r.expire {
			e.up = false
		}
	}
	r.tickedAt = now
	if r.instructions == nil {
		return
	}
	statuses := make([]policy.Status, len(r.entries))
	for i := range r.entries {
		statuses[i] = r.status(i)
	}
	copy(r.instructions, r.policy.Instruct(statuses, r.rng))
}

// Resume is called when the manager answers again after an outage at now:
// every known server is treated as having just reported, so that the
// outage itself does not expire them all before they can report again.
func (r *Registry) Resume(now time.Duration) {
	for i := range r.entries {
		if r.entries[i].seen {
			r.entries[i].last = now
		}
	}
}

// status is server i's last reported status with Up as the manager
// believes it.
func (r *Registry) status(i int) policy.Status {
	s := r.entries[i].status.Status()
	s.Server = i
	s.Up = r.entries[i].up
	return s
}

// Up reports whether the manager believes server i is up.
func (r *Registry) Up(i int) bool { return r.entries[i].up }

// Reported is server i's last reported status (Up as the manager believes
// it) and whether it ever reported.
func (r *Registry) Reported(i int) (policy.Status, bool) {
	return r.status(i), r.entries[i].seen
}

// View is the published view: every server's last report, up-ness and
// URL, and the instructions of the last tick.
func (r *Registry) View() ViewMessage {
	v := ViewMessage{AtNS: int64(r.tickedAt), Servers: make([]ServerView, len(r.entries))}
	for i := range r.entries {
		e := &r.entries[i]
		sv := ServerView{StatusMessage: e.status, URL: e.url, LastReportNS: -1}
		sv.Name = r.names[i]
		sv.Server = i
		sv.Up = e.up
		if e.seen {
			sv.LastReportNS = int64(e.last)
		}
		v.Servers[i] = sv
	}
	if r.instructions != nil {
		v.Instructions = make([]InstructionMessage, len(r.instructions))
		for i, in := range r.instructions {
			v.Instructions[i] = InstructionMessage{Redirect: in.Redirect, Target: in.Target}
		}
	}
	return v
}
