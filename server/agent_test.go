package server

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redirlab/redirlab/scenarios"
)

// handlerTransport answers HTTP requests by calling a handler in-process,
// so that agents run inside a synctest bubble without real sockets. While
// down is set it fails like an unreachable host.
type handlerTransport struct {
	h    http.Handler
	down atomic.Bool

	mu    sync.Mutex
	calls []time.Time
}

func (f *handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	f.calls = append(f.calls, time.Now())
	f.mu.Unlock()
	if f.down.Load() {
		return nil, errors.New("connection refused")
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec.Result(), nil
}

func (f *handlerTransport) gaps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []time.Duration
	for i := 1; i < len(f.calls); i++ {
		out = append(out, f.calls[i].Sub(f.calls[i-1]))
	}
	return out
}

func TestAgentBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, err := NewManager(ManagerConfig{Scenario: testScenario()})
		if err != nil {
			t.Fatal(err)
		}
		tr := &handlerTransport{h: m.Handler()}
		tr.down.Store(true)
		views := 0
		a := &Agent{
			ManagerURL: "http://manager.test",
			Interval:   10 * ms,
			MaxBackoff: 100 * ms,
			Client:     &http.Client{Transport: tr, Timeout: time.Second},
			Report:     func() ReportMessage { return report("web-1", "http://127.0.0.1:1000", 0) },
			Apply:      func(*ViewMessage) { views++ },
			Rand:       rand.New(rand.NewPCG(1, 1)),
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { a.Run(ctx); close(done) }()

		// Failing: the first report at once, then 20, 40, 80ms, capped at 100ms.
		time.Sleep(445 * ms)
		want := []time.Duration{20 * ms, 40 * ms, 80 * ms, 100 * ms, 100 * ms, 100 * ms}
		if got := tr.gaps(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("gaps while failing %v, want %v", got, want)
		}
		if c := a.Counts(); c.Failed != 7 || c.Sent != 0 || views != 0 {
			t.Fatalf("counts %+v, views %d", c, views)
		}
		// The manager answers again: the next retry (at 540ms) succeeds and
		// the normal interval resumes (550ms).
		tr.down.Store(false)
		time.Sleep(110 * ms) // to 555ms
		synctest.Wait()
		g := tr.gaps()
		if last := g[len(g)-1]; last != 10*ms || views != 2 {
			t.Fatalf("after recovery gaps %v (views %d), want 100ms then 10ms", g[len(want):], views)
		}

		// Lost reports: nothing reaches the manager, no backoff (the agent
		// cannot tell), the interval goes on.
		calls := len(tr.gaps())
		a.SetLoss(1)
		time.Sleep(100 * ms)
		if n := len(tr.gaps()); n != calls {
			t.Fatalf("%d reports reached the manager during total loss", n-calls)
		}
		if c := a.Counts(); c.Lost != 10 {
			t.Fatalf("lost %d reports in 100ms at 10ms intervals, want 10", c.Lost)
		}
		a.SetLoss(0)
		time.Sleep(20 * ms)
		if n := len(tr.gaps()); n == calls {
			t.Fatal("reports did not resume after the loss ended")
		}
		cancel()
		<-done
	})
}

// cluster2 is a manager and two servers wired through in-process
// transports (no sockets), for synctest: web-1 has 2 workers, one of them
// held, so it is over the threshold 0 from the start.
type cluster2 struct {
	m       *Manager
	servers [2]*Server
	tr      *handlerTransport
	cancel  [2]context.CancelFunc
	done    [2]chan struct{}
	// held is web-1's request that occupies a worker until released.
	held held
}

func newCluster2(t *testing.T, mutate ...func(*scenarios.Scenario)) *cluster2 {
	sc := testScenario(group("web", 2, 2, 16, constService(0)))
	for _, f := range mutate {
		f(sc)
	}
	sc.Manager.ViewTTL = 200 * ms
	sc.Manager.Expire = 300 * ms
	m, err := NewManager(ManagerConfig{Scenario: sc})
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster2{m: m, tr: &handlerTransport{h: m.Handler()}}
	go m.tickLoop()
	for i := range c.servers {
		s, err := New(Config{
			Scenario: sc, Index: i, ManagerURL: "http://manager.test", MaxBackoff: 100 * ms, NoAlarm: true,
			Client: &http.Client{Transport: c.tr, Timeout: time.Second},
		})
		if err != nil {
			t.Fatal(err)
		}
		s.advert = fmt.Sprintf("http://127.0.0.1:%d", 1000+i)
		s.agent = s.newAgent()
		c.servers[i] = s
	}
	c.held = occupy(c.servers[0], 1)[0]
	for i := range c.servers {
		c.startAgent(i)
	}
	return c
}

func (c *cluster2) startAgent(i int) {
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel[i], c.done[i] = cancel, make(chan struct{})
	go func() { c.servers[i].agent.Run(ctx); close(c.done[i]) }()
}

func (c *cluster2) stopAgent(i int) {
	c.cancel[i]()
	<-c.done[i]
}

func (c *cluster2) close() {
	for i := range c.servers {
		c.stopAgent(i)
	}
	close(c.m.stop)
	<-c.m.done
}

// askPage asks web-1 for a page and returns the status and Location.
func (c *cluster2) askPage() (int, string) {
	rec := httptest.NewRecorder()
	c.servers[0].ServeHTTP(rec, httptest.NewRequest("GET", "/page", nil))
	return rec.Code, rec.Header().Get("Location")
}

func TestViewExpiry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster2(t)
		defer c.close()
		time.Sleep(15 * ms) // both registered at 0ms; views at 10ms name both
		synctest.Wait()
		if code, loc := c.askPage(); code != 302 || loc != "http://127.0.0.1:1001/page?redirlab_hop=1" {
			t.Fatalf("overloaded with a fresh view: %d %q", code, loc)
		}
		// Outage from 15ms: the last view web-1 got is from 10ms; it is
		// used until 210ms (TTL 200ms) and not after.
		c.m.SetOutage(true)
		time.Sleep(195 * ms) // 210ms
		if code, _ := c.askPage(); code != 302 {
			t.Fatalf("view 200ms old (TTL 200ms): %d, want a redirect", code)
		}
		time.Sleep(2 * ms) // 212ms
		if code, _ := c.askPage(); code != 200 {
			t.Fatalf("view past its TTL: %d, want served", code)
		}
		// The manager answers again at 225ms; retries at 20, 40, 80, 160,
		// 260ms (backoff 20, 40, 80, 100): the view is back at 260ms.
		time.Sleep(13 * ms) // 225ms
		c.m.SetOutage(false)
		time.Sleep(34 * ms) // 259ms
		if code, _ := c.askPage(); code != 200 {
			t.Fatalf("before the next retry: %d, want served", code)
		}
		time.Sleep(2 * ms)
		synctest.Wait()
		if code, _ := c.askPage(); code != 302 {
			t.Fatalf("after the retry: %d, want a redirect", code)
		}
	})
}

func TestNoRedirectToDownPeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster2(t)
		defer c.close()
		time.Sleep(15 * ms)
		synctest.Wait()
		if code, _ := c.askPage(); code != 302 {
			t.Fatalf("with web-2 up: %d, want a redirect", code)
		}
		// web-2 falls silent (its last report at 10ms); the manager marks
		// it down at the first tick more than 300ms later (320ms), web-1
		// learns it at its next report.
		c.stopAgent(1)
		time.Sleep(325 * ms)
		synctest.Wait()
		if v := c.m.View(); v.Servers[1].Up {
			t.Fatal("the manager still has web-2 up")
		}
		if code, _ := c.askPage(); code != 200 {
			t.Fatalf("with web-2 down: %d, want served", code)
		}
		// web-2 reports again: redirects resume.
		c.startAgent(1)
		time.Sleep(15 * ms)
		synctest.Wait()
		if code, _ := c.askPage(); code != 302 {
			t.Fatalf("with web-2 back: %d, want a redirect", code)
		}
	})
}

func TestLostReports(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster2(t)
		defer c.close()
		time.Sleep(15 * ms)
		c.servers[0].SetReportLoss(1)
		// web-1 neither reports nor hears: the manager expires it after
		// 300ms, and its own view runs out after 200ms.
		time.Sleep(330 * ms)
		synctest.Wait()
		if v := c.m.View(); v.Servers[0].Up || !v.Servers[1].Up {
			t.Fatalf("manager view: web-1 up %v, web-2 up %v; want down, up", v.Servers[0].Up, v.Servers[1].Up)
		}
		if code, _ := c.askPage(); code != 200 {
			t.Fatalf("web-1 with an expired view: %d, want served", code)
		}
		if a := c.servers[0].Agent(); a.Counts().Lost < 30 {
			t.Fatalf("lost %d reports in 330ms at 10ms", a.Counts().Lost)
		}
	})
}

// TestCrashReportedDown: a crashed server's agent reports it down, so the
// manager marks it down at once (not after manager.expire) and peers stop
// redirecting to it within an interval or two.
func TestCrashReportedDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster2(t)
		defer c.close()
		time.Sleep(15 * ms)
		synctest.Wait()
		if code, _ := c.askPage(); code != 302 {
			t.Fatalf("with web-2 up: %d, want a redirect", code)
		}
		c.servers[1].Crash()
		time.Sleep(10 * ms) // web-2's agent reported at 20ms
		synctest.Wait()
		if v := c.m.View(); v.Servers[1].Up {
			t.Fatal("the manager has crashed web-2 up")
		}
		time.Sleep(10 * ms) // web-1 heard at 30ms at the latest
		synctest.Wait()
		if code, _ := c.askPage(); code != 200 {
			t.Fatalf("with web-2 crashed: %d, want served", code)
		}
		if a := c.servers[1].Agent(); a.Counts().Failed != 0 {
			t.Fatalf("web-2's agent failed %d exchanges", a.Counts().Failed)
		}
	})
}

// TestCentralPlacement: under central placement web-1 redirects only once
// the manager, at a tick, has flagged it from its reported queue, and
// stops when the flag is cleared.
func TestCentralPlacement(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster2(t, func(sc *scenarios.Scenario) { sc.Manager.Decision = "central" })
		defer c.close()
		// At 0 both report (web-1 with queue length 1 > 0); the first tick
		// at 10ms flags web-1; web-1 hears it at its report at 10ms or 20ms.
		synctest.Wait()
		if code, _ := c.askPage(); code != 200 {
			t.Fatalf("before any instruction: %d, want served", code)
		}
		time.Sleep(25 * ms)
		synctest.Wait()
		if v := c.m.View(); !v.Instructions[0].Redirect || v.Instructions[0].Target != 1 || v.Instructions[1].Redirect {
			t.Fatalf("instructions %+v, want web-1 → web-2 only", v.Instructions)
		}
		if code, loc := c.askPage(); code != 302 || loc != "http://127.0.0.1:1001/page?redirlab_hop=1" {
			t.Fatalf("flagged: %d %q, want a redirect to web-2", code, loc)
		}
		// web-1's queue empties (the held request ends): the next report
		// says 0, the next tick clears the flag, the next report brings it.
		s := c.servers[0]
		s.mu.Lock()
		release(s, c.held)
		s.mu.Unlock()
		time.Sleep(30 * ms)
		synctest.Wait()
		if code, _ := c.askPage(); code != 200 {
			t.Fatalf("flag cleared: %d, want served", code)
		}
	})
}

// TestAgentSaysWhyRefused: an agent the manager answers with an error
// says what it answered, a wrong token as such, and its watcher tells
// the server's user so rather than that the manager is silent.
func TestAgentSaysWhyRefused(t *testing.T) {
	m := startManager(t, time.Second)
	for _, tc := range []struct {
		name, token, server, want string
	}{
		// A token not the manager's.
		{"wrong token", "wrong-token-0123456789", "web-1", "refused the token (401)"},
		// A server of another scenario: the manager's reason is given.
		{"another scenario", testToken, "db-1", "the manager answered 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &Agent{ManagerURL: m.URL(), Interval: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
				Client: &http.Client{Timeout: time.Second}, Token: tc.token,
				Report: func() ReportMessage { return ReportMessage{Name: tc.server, URL: "http://127.0.0.1:1"} },
				Apply:  func(*ViewMessage) {}}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); a.Run(ctx) }()
			defer func() { cancel(); <-done }()
			for k := 0; k < 200 && a.Refused() == nil; k++ {
				time.Sleep(10 * time.Millisecond)
			}
			if ae := a.Refused(); ae == nil || !strings.Contains(ae.Error(), tc.want) {
				t.Fatalf("refused: %v, want %q", ae, tc.want)
			} else if tc.server == "db-1" && !strings.Contains(ae.Error(), "db-1") {
				t.Errorf("the manager's reason %q does not name the server", ae.Reason)
			}
			if tc.name != "wrong token" {
				return
			}
			warned := make(chan string, 1)
			wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
			defer wcancel()
			go watchAgent(wctx, a, a.Interval, func(s string) {
				select {
				case warned <- s:
				default:
				}
			})
			select {
			case s := <-warned:
				if !strings.Contains(s, "refused the token (401)") || strings.Contains(s, "no answer") {
					t.Errorf("warned %q, want the manager refusing the token", s)
				}
			case <-wctx.Done():
				t.Error("no warning in 5s")
			}
		})
	}
}

// TestWatchAgentEndsOnOtherScenario: a manager that refuses the server's
// scenario (412) ends the watch with a ConfigError, since no retry can
// cure it; other refusals are only warned about.
func TestWatchAgentEndsOnOtherScenario(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := &Agent{ManagerURL: "http://127.0.0.1:1"}
		a.refused.Store(&AnswerError{Status: "412 Precondition Failed", Code: http.StatusPreconditionFailed, Reason: "not the manager's"})
		err := watchAgent(context.Background(), a, 10*time.Millisecond, nil)
		if _, ok := errors.AsType[*ConfigError](err); !ok || !strings.Contains(err.Error(), "not the manager's") {
			t.Fatalf("got %v, want a ConfigError", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a.refused.Store(&AnswerError{Status: "409 Conflict", Code: http.StatusConflict, Reason: "held"})
		var warned []string
		if err := watchAgent(ctx, a, 10*time.Millisecond, func(s string) { warned = append(warned, s) }); err != nil || len(warned) != 1 {
			t.Fatalf("a 409: %v, warned %q; want nil and one warning", err, warned)
		}
	})
}
