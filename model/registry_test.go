package model

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/redirlab/redirlab/policy"
)

func newRegistry(workers []int, p policy.Config, expire time.Duration) *Registry {
	return NewRegistry(RegistryConfig{Workers: workers, Policy: p, Expire: expire, Rand: rand.New(rand.NewPCG(1, 1))})
}

// upReport is an up server's report with the given queue length.
func upReport(url string, length int) Report {
	return Report{Status: policy.Status{QueueLength: length, Workers: 1, Up: true}, URL: url}
}

func view(r *Registry) policy.View {
	var v policy.View
	r.ViewInto(&v)
	return v
}

// TestRegistryExpiry is the state-machine part of server's
// TestRegistryExpiry.
func TestRegistryExpiry(t *testing.T) {
	r := newRegistry([]int{1, 1}, policy.Config{}, 300*ms)
	if _, _, seen := r.Reported(0); seen || view(r).Servers[0].Up {
		t.Fatalf("before any report: %+v", view(r).Servers[0])
	}
	if err := r.Report(0, 1, upReport("http://127.0.0.1:2000", 4)); err != nil {
		t.Fatal(err)
	}
	r.Tick(300 * ms) // silent exactly 300ms: not yet expired
	if !r.Up(1) {
		t.Fatal("expired at exactly the expiry")
	}
	r.Tick(301 * ms)
	if r.Up(1) {
		t.Fatal("not expired after 301ms of silence")
	}
	if s := view(r).Servers[1]; s.Up || s.QueueLength != 4 || s.Server != 1 {
		t.Fatalf("expired server in the view: %+v", s)
	}
	if rep, last, seen := r.Reported(1); !seen || last != 0 || rep.URL != "http://127.0.0.1:2000" || rep.Status.Up || rep.Status.QueueLength != 4 {
		t.Fatalf("expired server's report: %+v, last %v, seen %v", rep, last, seen)
	}
	// Reporting again brings it back.
	r.Report(400*ms, 1, upReport("http://127.0.0.1:2000", 1))
	if !r.Up(1) {
		t.Fatal("a reporting server stays down")
	}
	// An outage long past the expiry, then its end: nobody expires at the
	// first tick after it.
	r.SetOutage(500*ms, true)
	r.SetOutage(5*time.Second, false)
	r.Tick(5*time.Second + 10*ms)
	if !r.Up(1) {
		t.Fatal("expired right after an outage")
	}
	if r.Up(0) {
		t.Fatal("a server that never reported is up")
	}
}

// TestRegistryNeverHeard: a server never heard of is down in the view
// with its configured workers and its index.
func TestRegistryNeverHeard(t *testing.T) {
	r := newRegistry([]int{2, 8, 1}, policy.Config{}, time.Second)
	if r.Len() != 3 {
		t.Fatalf("len %d", r.Len())
	}
	r.Report(5*ms, 0, upReport("http://a", 0))
	r.Tick(10 * ms)
	v := view(r)
	for i, want := range []policy.Status{
		// Server 0 reported: up, with what it said (its report's workers).
		{Server: 0, Workers: 1, Up: true},
		// Server 1 never reported: down with its 8 configured workers.
		{Server: 1, Workers: 8},
		// Server 2 never reported: down with its 1 worker.
		{Server: 2, Workers: 1},
	} {
		if v.Servers[i] != want {
			t.Errorf("server %d: %+v, want %+v", i, v.Servers[i], want)
		}
	}
	if v.At != 10*ms || v.Instructions != nil {
		t.Errorf("view at %v instructions %v, want 10ms and none (local)", v.At, v.Instructions)
	}
	if rep, last, seen := r.Reported(1); seen || last != 0 || rep.URL != "" || rep.Status.Workers != 8 {
		t.Errorf("Reported(1) = %+v, %v, %v", rep, last, seen)
	}
	// Silence does not bring it up, nor does the end of an outage.
	r.SetOutage(20*ms, true)
	r.SetOutage(30*ms, false)
	r.Tick(40 * ms)
	if r.Up(1) {
		t.Fatal("a never-heard server came up")
	}
}

// TestRegistryReport: the index is the report's server whatever its
// status says; a report of a down server marks it down at once; a bad
// index is refused.
func TestRegistryReport(t *testing.T) {
	r := newRegistry([]int{1, 1}, policy.Config{}, time.Second)
	rep := upReport("http://b", 3)
	rep.Status.Server = 7
	rep.InService = 1
	if err := r.Report(0, 1, rep); err != nil {
		t.Fatal(err)
	}
	if got, last, seen := r.Reported(1); got.Status.Server != 1 || got.InService != 1 || got.URL != "http://b" || last != 0 || !seen {
		t.Fatalf("Reported(1) = %+v, %v, %v", got, last, seen)
	}
	if s := view(r).Servers[1]; s.Server != 1 || s.QueueLength != 3 || !s.Up {
		t.Fatalf("view server 1: %+v", s)
	}
	down := upReport("http://b", 0)
	down.Status.Up = false
	r.Report(1*ms, 1, down)
	if r.Up(1) {
		t.Fatal("up after reporting down")
	}
	for _, i := range []int{-1, 2} {
		if err := r.Report(2*ms, i, upReport("x", 0)); err == nil || errors.Is(err, ErrOutage) {
			t.Errorf("report of server %d: %v, want an index error", i, err)
		}
	}
}

// TestRegistryOutage: during an outage reports are refused and Tick
// neither expires nor recomputes; after it, known servers get a full
// expiry from its end, and a server expired before it stays down.
func TestRegistryOutage(t *testing.T) {
	p := policy.Config{Condition: policy.QueueLength, LengthThreshold: 2, Placement: policy.Central, MaxHops: 1, Fraction: 1}
	r := newRegistry([]int{1, 1, 1}, p, 300*ms)
	r.Report(0, 0, upReport("http://a", 5))
	r.Report(0, 1, upReport("http://b", 0))
	r.Tick(10 * ms)
	if in := view(r).Instructions; !in[0].Redirect || in[0].Target != 1 {
		t.Fatalf("instructions %+v, want a → b", in)
	}
	r.SetOutage(100*ms, true)
	if !r.InOutage() {
		t.Fatal("not in outage")
	}
	// A report during the outage is refused and changes nothing.
	if err := r.Report(150*ms, 0, upReport("http://a", 0)); !errors.Is(err, ErrOutage) {
		t.Fatalf("report during an outage: %v, want ErrOutage", err)
	}
	if err := r.Report(150*ms, 2, upReport("http://c", 0)); !errors.Is(err, ErrOutage) {
		t.Fatalf("report during an outage: %v, want ErrOutage", err)
	}
	if _, _, seen := r.Reported(2); seen {
		t.Fatal("a refused report made its server known")
	}
	// Tick during the outage: long past the expiry, nobody expires, the
	// instructions are not recomputed, the view keeps its time.
	r.Tick(2 * time.Second)
	v := view(r)
	if !r.Up(0) || !r.Up(1) || !v.Instructions[0].Redirect || v.At != 10*ms || r.TickedAt() != 10*ms {
		t.Fatalf("after a tick in an outage: up %v %v, view %+v", r.Up(0), r.Up(1), v)
	}
	// Both were last heard at 0, long before the outage ends at 3s: both
	// get a full expiry from its end.
	r.SetOutage(3*time.Second, false)
	if r.InOutage() {
		t.Fatal("still in outage")
	}
	r.Tick(3*time.Second + 300*ms)
	if !r.Up(0) || !r.Up(1) {
		t.Fatal("expired by the outage itself")
	}
	if _, last, _ := r.Reported(0); last != 3*time.Second {
		t.Fatalf("last heard %v, want the outage's end", last)
	}
	r.Report(3*time.Second+200*ms, 0, upReport("http://a", 5))
	r.Tick(3*time.Second + 300*ms + 1)
	if !r.Up(0) || r.Up(1) {
		t.Fatalf("up %v %v, want 0 up (reported) and 1 expired", r.Up(0), r.Up(1))
	}
	// Now recomputed: b is down, nobody to send a to.
	if in := view(r).Instructions; !in[0].Redirect || in[0].Target != -1 {
		t.Fatalf("instructions %+v, want a flagged without a target", in)
	}
	// A server expired before an outage stays down after it.
	r.SetOutage(4*time.Second, true)
	r.SetOutage(5*time.Second, false)
	r.Tick(5*time.Second + 1)
	if r.Up(1) {
		t.Fatal("the end of an outage brought up an expired server")
	}
	// Ending an outage that is not on refreshes nobody.
	r.Report(6*time.Second, 0, upReport("http://a", 0))
	r.SetOutage(7*time.Second, false)
	r.Tick(7 * time.Second)
	if r.Up(0) {
		t.Fatal("SetOutage(false) out of an outage refreshed server 0")
	}
}

// TestRegistryCentral is the port of server's TestRegistryCentral.
func TestRegistryCentral(t *testing.T) {
	p := policy.Config{Condition: policy.QueueLength, LengthThreshold: 2, Placement: policy.Central, MaxHops: 1, Fraction: 1}
	r := newRegistry([]int{1, 1, 1}, p, time.Second)
	r.Report(0, 0, upReport("http://127.0.0.1:1", 5))
	r.Report(0, 1, upReport("http://127.0.0.1:2", 1))
	r.Report(0, 2, upReport("http://127.0.0.1:3", 0))
	if in := view(r).Instructions; len(in) != 3 || in[0].Redirect || in[0].Target != -1 {
		t.Fatalf("instructions before the first tick: %+v", in)
	}
	r.Tick(10 * ms)
	in := view(r).Instructions
	// a is over the threshold; c is the least loaded calm peer.
	if !in[0].Redirect || in[0].Target != 2 || in[1].Redirect || in[2].Redirect {
		t.Fatalf("instructions %+v, want a → c only", in)
	}
	// c goes silent and expires: a is sent to b instead.
	r.Report(2*time.Second, 0, upReport("http://127.0.0.1:1", 5))
	r.Report(2*time.Second, 1, upReport("http://127.0.0.1:2", 1))
	r.Tick(2*time.Second + 10*ms)
	if in := view(r).Instructions; !in[0].Redirect || in[0].Target != 1 {
		t.Fatalf("instructions with c down: %+v, want a → b", in)
	}
	// a calms down: flag cleared.
	r.Report(3*time.Second, 0, upReport("http://127.0.0.1:1", 0))
	r.Tick(3*time.Second + 10*ms)
	if in := view(r).Instructions; in[0].Redirect {
		t.Fatalf("instructions after a calmed: %+v", in)
	}
}

// TestRegistryViewInto: ViewInto reuses the caller's slices, drops
// instructions under local placement, and the view is a copy.
func TestRegistryViewInto(t *testing.T) {
	r := newRegistry([]int{1, 1}, policy.Config{}, time.Second)
	r.Report(0, 0, upReport("http://a", 2))
	v := policy.View{
		Servers:      make([]policy.Status, 5),
		Instructions: []policy.Instruction{{Redirect: true}},
	}
	first := &v.Servers[0]
	r.ViewInto(&v)
	if len(v.Servers) != 2 || &v.Servers[0] != first || v.Instructions != nil {
		t.Fatalf("view %+v: want 2 servers in the caller's array, no instructions", v)
	}
	v.Servers[0].QueueLength = 99
	if again := view(r); again.Servers[0].QueueLength != 2 {
		t.Fatal("the view aliases the registry's state")
	}
	// Central: instructions are copied out too.
	c := newRegistry([]int{1, 1}, policy.Config{Condition: policy.QueueLength, Placement: policy.Central, MaxHops: 1, Fraction: 1}, time.Second)
	c.Report(0, 0, upReport("http://a", 2))
	c.Report(0, 1, upReport("http://b", 0))
	c.Tick(1 * ms)
	w := view(c)
	w.Instructions[0] = policy.Instruction{Target: -1}
	if again := view(c); !again.Instructions[0].Redirect || again.Instructions[0].Target != 1 {
		t.Fatalf("instructions %+v: the view aliases the registry's", again.Instructions)
	}
}
