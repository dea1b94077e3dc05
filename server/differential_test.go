package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redirlab/redirlab/model"
	"github.com/redirlab/redirlab/policy"
	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
	"github.com/redirlab/redirlab/sim"
)

// nullRecorder takes a simulation's records and drops them.
type nullRecorder struct{}

func (nullRecorder) Add(*results.Request)            {}
func (nullRecorder) AddSample(*results.ServerSample) {}
func (nullRecorder) Note(string)                     {}

// differential is the scenario both drivers run: three servers near
// saturation, reports every 50ms, a slowdown, lost reports, a manager
// outage and, last, a crash (a restart would need a listener).
const differential = `
name: differential
seed: 7
duration: 3s
sample_interval: 100ms
servers:
  - {name: web, count: 3, workers: 2, queue_capacity: 12, service: {dist: exp, mean: 10ms}}
manager: {report_interval: 50ms, decision: local}
policy: {condition: queue-length, threshold: 3, target: least-loaded}
workload:
  arrival: {process: poisson, rate: 520/s}
network: {rtt: 0s}
faults:
  - {at: 500ms, server: web-2, action: slowdown, factor: 3, for: 1s}
  - {at: 800ms, server: web-2, action: slowdown, factor: 2, for: 400ms}
  - {at: 1200ms, action: lost-reports, loss: 0.5, for: 500ms}
  - {at: 1800ms, action: manager-outage, for: 300ms}
  - {at: 2500ms, server: web-3, action: crash}
`

// TestDifferentialSimAndServer feeds the arrivals, demands, views and
// fault changes of a simulation, at their times, to real servers (their
// HTTP handlers, their completers, in virtual time) and checks that the
// real servers' model makes the same decision at every arrival and has
// the same queue and counters at every sample: the two drivers use the
// one model alike.
func TestDifferentialSimAndServer(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  []string
	}{
		// Local placement on queue length.
		{"queue-length", nil},
		// Local placement on head-of-line queue delay.
		{"queue-delay", []string{"policy.condition=queue-delay", "policy.threshold=15ms"}},
		// The ewma estimator, a random target and a fraction: the policy's draws.
		{"ewma-random", []string{"policy.condition=queue-delay", "policy.threshold=8ms", "policy.estimator=ewma", "policy.target=random", "policy.fraction=0.7"}},
		// Central placement: the manager's instructions in the views.
		{"central", []string{"manager.decision=central"}},
		// The shed action on queue length: 503s marked shed, no redirects.
		{"shed", []string{"policy.action=shed"}},
		// The adaptive limit, shedding: windows and latency samples alike.
		{"adaptive-shed", []string{"policy.condition=adaptive", "policy.action=shed", "policy.adaptive.window=50ms", "policy.adaptive.initial_limit=6", "policy.adaptive.min_limit=2"}},
		// The adaptive limit, redirecting.
		{"adaptive-redirect", []string{"policy.condition=adaptive", "policy.adaptive.window=50ms", "policy.adaptive.initial_limit=6", "policy.adaptive.min_limit=2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := scenarios.Parse("differential.yaml", []byte(differential), tc.set...)
			if err != nil {
				t.Fatal(err)
			}
			var events []sim.Event
			if err := sim.Trace(context.Background(), sc, nullRecorder{}, func(e *sim.Event) { events = append(events, *e) }); err != nil {
				t.Fatal(err)
			}
			replay(t, sc, events)
		})
	}
}

// answer is what a real server answered one request.
type answer struct {
	code     int
	location string
	aborted  bool
	shed     bool // the shed header
}

// replay drives real servers with the simulation's events and compares.
func replay(t *testing.T, sc *scenarios.Scenario, events []sim.Event) {
	synctest.Test(t, func(t *testing.T) {
		n := len(sc.Instances())
		urls := make([]string, n)
		for i := range urls {
			urls[i] = fmt.Sprintf("http://127.0.0.1:%d", 1000+i)
		}
		start := time.Now()
		servers := make([]*Server, n)
		for i := range servers {
			s, err := New(Config{Scenario: sc, Index: i, NoAlarm: true, RunStart: start, Peers: urls})
			if err != nil {
				t.Fatal(err)
			}
			servers[i] = s
		}
		defer func() {
			for _, s := range servers {
				s.Close()
			}
		}()
		var arrivals, redirects, samples int
		kinds := map[model.ArrivalKind]int{}
		for k, e := range events {
			if d := start.Add(e.At).Sub(time.Now()); d > 0 {
				time.Sleep(d)
			}
			synctest.Wait() // services due by now have ended
			var s *Server
			if e.Server >= 0 {
				s = servers[e.Server]
			}
			switch e.Kind {
			case sim.Arrival:
				arrivals++
				got := make(chan answer, 1)
				go func() { got <- serve(s, e) }()
				synctest.Wait()
				var a answer
				select {
				case a = <-got:
				default:
					a.code = 0 // still waiting or in service: admitted
				}
				if want := expected(e.Answer, urls); a != want {
					t.Fatalf("event %d at %v: request %d (hops %d) at %s: real %+v, sim %v %+v", k, e.At, e.Request, e.Hops, s.Name(), a, e.Answer.Kind, want)
				}
				kinds[e.Answer.Kind]++
			case sim.View:
				s.SetView(viewMessage(e.View, urls))
			case sim.Fault:
				switch e.Change.Kind {
				case model.SetSlowdown:
					s.SetSlowdown(e.Change.Factor)
				case model.CrashServer:
					s.Crash()
				case model.RestartServer:
					t.Fatal("the differential scenario has no restart")
				}
				// Outages and lost reports act through the views.
			case sim.Sample:
				samples++
				got := s.Sample(e.At)
				want := e.Sample
				got.ReportedQueueLength, got.ReportedQueueDelay = want.ReportedQueueLength, want.ReportedQueueDelay
				if got != want {
					t.Fatalf("event %d: sample of %s at %v:\n real %+v\n sim  %+v", k, s.Name(), e.At, got, want)
				}
			}
		}
		redirects = kinds[model.Redirected] + kinds[model.Shed]
		if arrivals < 1000 || redirects < 50 || kinds[model.Queued] < 50 || kinds[model.Refused] < 10 || samples < 3*n {
			t.Fatalf("too little compared: %d arrivals %v, %d samples", arrivals, kinds, samples)
		}
		t.Logf("%d arrivals (%v) and %d samples agree", arrivals, kinds, samples)
	})
}

// serve sends e's request to s's handler and returns its answer; a crash
// aborts the handler.
func serve(s *Server, e sim.Event) (a answer) {
	defer func() {
		if r := recover(); r != nil {
			if r != http.ErrAbortHandler {
				panic(r)
			}
			a = answer{aborted: true}
		}
	}()
	path := "/page"
	if e.Object {
		path = "/object/" + strconv.FormatUint(e.Demand.Part-1, 10)
	}
	q := url.Values{model.DemandParam: {strconv.FormatUint(e.Demand.ID, 10)}}
	if e.Hops > 0 {
		q.Set(model.HopParam, strconv.Itoa(e.Hops))
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path+"?"+q.Encode(), nil))
	a = answer{code: w.Code, shed: w.Header().Get(model.ShedHeader) != ""}
	if loc, err := url.Parse(w.Header().Get("Location")); err == nil && loc.Host != "" {
		a.location = loc.Scheme + "://" + loc.Host // the target; the path and query are tested elsewhere
	}
	return a
}

// expected is the immediate answer a real server gives for the model's
// answer a; an admitted request has none yet.
func expected(a model.Arrival, urls []string) answer {
	switch a.Kind {
	case model.Redirected:
		return answer{code: http.StatusFound, location: urls[a.Target]}
	case model.Rejected:
		return answer{code: http.StatusServiceUnavailable}
	case model.Shed:
		return answer{code: http.StatusServiceUnavailable, shed: true}
	case model.Refused:
		return answer{aborted: true}
	}
	return answer{}
}

// viewMessage is the manager's message for view v with every server at
// its URL.
func viewMessage(v policy.View, urls []string) *ViewMessage {
	m := &ViewMessage{AtNS: int64(v.At)}
	for i, st := range v.Servers {
		m.Servers = append(m.Servers, ServerView{StatusMessage: NewStatusMessage(fmt.Sprint(i), st, 0), URL: urls[i]})
	}
	for _, in := range v.Instructions {
		m.Instructions = append(m.Instructions, InstructionMessage{Redirect: in.Redirect, Target: in.Target})
	}
	return m
}
