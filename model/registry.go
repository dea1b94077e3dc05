package model

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/redirlab/redirlab/policy"
)

// ErrOutage is a report refused because the manager is in an outage.
var ErrOutage = errors.New("manager outage")

// HeldError is a report refused because another server, at another URL,
// holds the name and is live: it reported within the expiry.
type HeldError struct {
	Server int
	URL    string // the holder's
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("server %d is held by %s, which reported within the expiry", e.Server, e.URL)
}

// Report is what one agent tells the manager about its server.
type Report struct {
	// Status is the server's live status when the agent measured it.
	Status policy.Status
	// InService is how many requests were being served.
	InService int
	// URL is the base URL the server is reachable at; opaque here.
	URL string
}

// RegistryConfig describes the cluster to the manager.
type RegistryConfig struct {
	// Workers is each server's worker count, by server index: a server
	// never heard of has it in the view too.
	Workers []int
	// Policy is the redirect policy; under central placement the
	// registry computes instructions.
	Policy policy.Config
	// Expire: a server silent for longer than this is marked down.
	Expire time.Duration
	// Rand supplies the randomness of central instructions.
	Rand *rand.Rand
}

// Registry is the manager's state: which servers have reported, where
// they are, what they last said, which are down, and under central
// placement the instructions. Time is since the manager's start.
type Registry struct {
	cfg     RegistryConfig
	entries []entry
	// instructions is nil under local placement.
	instructions []policy.Instruction
	statuses     []policy.Status // scratch for Tick
	tickedAt     time.Duration
	outage       bool
}

type entry struct {
	report Report
	last   time.Duration
	seen   bool
	up     bool
}

// NewRegistry returns a registry in which no server has reported yet.
func NewRegistry(cfg RegistryConfig) *Registry {
	n := len(cfg.Workers)
	r := &Registry{cfg: cfg, entries: make([]entry, n), statuses: make([]policy.Status, n)}
	for i := range r.entries {
		r.entries[i].report.Status = policy.Status{Server: i, Workers: cfg.Workers[i]}
	}
	if cfg.Policy.Placement == policy.Central {
		r.instructions = make([]policy.Instruction, n)
		for i := range r.instructions {
			r.instructions[i].Target = -1
		}
	}
	return r
}

// Len is the number of servers.
func (r *Registry) Len() int { return len(r.entries) }

// Report records server i's report received at now. The server is up
// from now until it reports down or falls silent. During an outage the
// report is refused with ErrOutage. A report from another URL than the
// one that holds the name is refused with a HeldError while the holder
// is live (it reported within the expiry): nobody takes over a live
// server's place.
func (r *Registry) Report(now time.Duration, i int, rep Report) error {
	if r.outage {
		return ErrOutage
	}
	if i < 0 || i >= len(r.entries) {
		return fmt.Errorf("report: server index %d out of range", i)
	}
	e := &r.entries[i]
	if e.seen && rep.URL != e.report.URL && now-e.last <= r.cfg.Expire {
		return &HeldError{Server: i, URL: e.report.URL}
	}
	e.report = rep
	e.report.Status.Server = i
	e.last, e.seen, e.up = now, true, rep.Status.Up
	return nil
}

// Tick is the manager's periodic work at now: it marks down servers
// silent for longer than the expiry and, under central placement,
// recomputes the instructions from the reported statuses. Nothing happens
// during an outage.
func (r *Registry) Tick(now time.Duration) {
	if r.outage {
		return
	}
	for i := range r.entries {
		e := &r.entries[i]
		if e.up && now-e.last > r.cfg.Expire {
			e.up = false
		}
	}
	r.tickedAt = now
	if r.instructions == nil {
		return
	}
	for i := range r.entries {
		r.statuses[i] = r.status(i)
	}
	copy(r.instructions, r.cfg.Policy.Instruct(r.statuses, r.cfg.Rand))
}

// SetOutage starts (on) or ends an outage at now. While it lasts the
// manager refuses reports and neither expires servers nor recomputes
// instructions. When it ends, every known server is treated as having
// just reported, so that the outage itself expires none before it can
// report again.
func (r *Registry) SetOutage(now time.Duration, on bool) {
	if r.outage && !on {
		for i := range r.entries {
			if r.entries[i].seen {
				r.entries[i].last = now
			}
		}
	}
	r.outage = on
}

// InOutage reports whether the manager is in an outage.
func (r *Registry) InOutage() bool { return r.outage }

// status is server i's last reported status with Up as the manager
// believes it.
func (r *Registry) status(i int) policy.Status {
	s := r.entries[i].report.Status
	s.Server = i
	s.Up = r.entries[i].up
	return s
}

// Up reports whether the manager believes server i is up.
func (r *Registry) Up(i int) bool { return r.entries[i].up }

// Reported is server i's last report (Up as the manager believes it),
// when the manager last heard from it, and whether it ever reported.
func (r *Registry) Reported(i int) (rep Report, last time.Duration, seen bool) {
	e := &r.entries[i]
	rep = e.report
	rep.Status = r.status(i)
	return rep, e.last, e.seen
}

// ViewInto writes the published view into v, reusing its slices: every
// server's last report with Up as the manager believes it, and the
// instructions of the last tick.
func (r *Registry) ViewInto(v *policy.View) {
	n := len(r.entries)
	if cap(v.Servers) < n {
		v.Servers = make([]policy.Status, n)
	}
	v.Servers = v.Servers[:n]
	for i := range v.Servers {
		v.Servers[i] = r.status(i)
	}
	if r.instructions != nil {
		v.Instructions = append(v.Instructions[:0], r.instructions...)
	} else {
		v.Instructions = nil
	}
	v.At = r.tickedAt
}

// TickedAt is when the manager last ticked.
func (r *Registry) TickedAt() time.Duration { return r.tickedAt }

// Backoff is an agent's delay before its next exchange after failed
// consecutive failures (failed >= 1): interval × 2, × 4, ..., capped at
// maxDelay. The real agent and the simulated one back off alike.
func Backoff(interval, maxDelay time.Duration, failed int) time.Duration {
	d := interval
	for i := 0; i < failed && d < maxDelay; i++ {
		d *= 2
	}
	return min(d, maxDelay)
}
