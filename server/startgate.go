package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
)

// The manager as the load generators' coordinator: every shard of a run
// checks in (POST /v1/start, asked again while it waits), and once all n
// are checked in at once, the manager answers every one with the same
// time zero, StartLead after the last check-in,
// so that the shards' arrivals interleave as one generator's would and
// their time series line up.

// StartCheckIn is a shard's check-in.
type StartCheckIn struct {
	// Run names the run, the same for every shard of it (scenario,
	// variant, seed and a digest of the scenario as run): shards of other
	// runs wait apart.
	Run string `json:"run"`
	// Shard (from 1) of Shards.
	Shard  int `json:"shard"`
	Shards int `json:"shards"`
	// Generator is random, one per generator process: a shard checking
	// in again is the same one asking, a new one after the release is a
	// new run with the same settings.
	Generator string `json:"generator"`
}

// StartAnswer is the manager's answer: Start once every shard has
// checked in, else how many have; Now is the manager's clock as it
// answered.
type StartAnswer struct {
	Start   time.Time `json:"start,omitzero"`
	Now     time.Time `json:"now"`
	Arrived int       `json:"arrived"`
	Shards  int       `json:"shards"`
	// Waiting lists the other runs whose shards are checking in, so that
	// a shard that ran other settings sees why it waits alone.
	Waiting []string `json:"waiting,omitempty"`
}

const (
	// startPoll is how long a check-in is held waiting for the others
	// before the answer says how many have come (the shard asks again):
	// well within the manager's write timeout.
	startPoll = 2 * time.Second
	// startExpire is how long a check-in stays live after its last
	// request was answered: a shard asks again at once, so one that has
	// not within it has given up or died (a killed pod withdraws
	// nothing), and the run must not start without it.
	startExpire = 3 * time.Second
	// maxStartRuns bounds the runs checking in at once.
	maxStartRuns = 32
	// startKeep is how long a released run's start is kept for a shard
	// that asks again.
	startKeep = 10 * time.Minute
)

// startGate holds the runs checking in.
type startGate struct {
	clock  func() time.Time
	lead   time.Duration
	poll   time.Duration // startPoll; shorter in tests
	expire time.Duration // startExpire; shorter in tests

	mu   sync.Mutex
	runs map[string]*startRun
}

type startRun struct {
	shards  int
	arrived map[int]*checkedIn // by shard
	// displaced are generators replaced by another of their shard (a
	// Job's new pod for a dead one): asking again, they are refused.
	displaced map[string]bool
	start     time.Time     // set on release
	released  chan struct{} // closed on release
}

// checkedIn is one shard's check-in: live while a request of it is
// held, and for expire after the last one was answered.
type checkedIn struct {
	generator string
	held      int
	seen      time.Time
}

func (c *checkedIn) live(now time.Time, expire time.Duration) bool {
	return c.held > 0 || now.Sub(c.seen) <= expire
}

func newStartGate(clock func() time.Time, lead time.Duration) *startGate {
	return &startGate{clock: clock, lead: lead, poll: startPoll, expire: startExpire, runs: map[string]*startRun{}}
}

// prune drops, before a release, the check-ins no longer live, then the
// runs left without any, and released runs kept long enough.
func (g *startGate) prune(now time.Time) {
	for name, r := range g.runs {
		if !r.start.IsZero() {
			if now.Sub(r.start) > startKeep {
				delete(g.runs, name)
			}
			continue
		}
		for shard, c := range r.arrived {
			if !c.live(now, g.expire) {
				delete(r.arrived, shard)
			}
		}
		if len(r.arrived) == 0 {
			delete(g.runs, name)
		}
	}
}

// checkIn records c, held until leave, and returns its run, released if
// c made every shard live at once.
func (g *startGate) checkIn(c StartCheckIn) (*startRun, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.clock()
	g.prune(now)
	r := g.runs[c.Run]
	if r != nil && !r.start.IsZero() {
		if a, ok := r.arrived[c.Shard]; !ok || a.generator != c.Generator {
			r = nil // released: a new generator starts the run anew
		}
	}
	if r == nil {
		if len(g.runs) >= maxStartRuns {
			return nil, fmt.Errorf("start: %d runs are checking in already", maxStartRuns)
		}
		r = &startRun{shards: c.Shards, arrived: map[int]*checkedIn{}, displaced: map[string]bool{}, released: make(chan struct{})}
		g.runs[c.Run] = r
	}
	if r.shards != c.Shards {
		return nil, fmt.Errorf("start: run %q has %d shards, and this shard says %d", c.Run, r.shards, c.Shards)
	}
	if r.displaced[c.Generator] {
		return nil, fmt.Errorf("start: shard %d/%d of run %q checked in again from another generator, which replaced this one: the same shard started twice?", c.Shard, c.Shards, c.Run)
	}
	a := r.arrived[c.Shard]
	if r.start.IsZero() && (a == nil || a.generator != c.Generator) {
		if a != nil {
			r.displaced[a.generator] = true
		}
		a = &checkedIn{generator: c.Generator}
		r.arrived[c.Shard] = a
	}
	a.held++
	if len(r.arrived) == r.shards && r.start.IsZero() {
		r.start = now.Add(g.lead)
		close(r.released)
	}
	return r, nil
}

// leave ends a held request of c: answered, its check-in stays live for
// expire; abandoned (the shard closed its connection: killed, or
// stopped), it is dropped now, unless the run is released.
func (g *startGate) leave(c StartCheckIn, r *startRun, abandoned bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if a := r.arrived[c.Shard]; a != nil && a.generator == c.Generator {
		a.held--
		a.seen = g.clock()
		if abandoned && a.held == 0 && r.start.IsZero() {
			delete(r.arrived, c.Shard)
		}
	}
}

// withdraw drops c's check-in from its run, unless released: the shard
// gave up waiting.
func (g *startGate) withdraw(c StartCheckIn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.runs[c.Run]
	if r == nil || !r.start.IsZero() {
		return
	}
	if a := r.arrived[c.Shard]; a != nil && a.generator == c.Generator {
		delete(r.arrived, c.Shard)
	}
}

// answer is what a shard of r is told now.
func (g *startGate) answer(name string, r *startRun) StartAnswer {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.clock()
	a := StartAnswer{Start: r.start, Now: now, Arrived: len(r.arrived), Shards: r.shards}
	if r.start.IsZero() {
		a.Arrived = 0
		for _, c := range r.arrived {
			if c.live(now, g.expire) {
				a.Arrived++
			}
		}
		for other, o := range g.runs {
			if other != name && o.start.IsZero() {
				a.Waiting = append(a.Waiting, other)
			}
		}
		slices.Sort(a.Waiting)
	}
	return a
}

// readCheckIn reads and checks a check-in, answering 400 when bad.
func readCheckIn(w http.ResponseWriter, r *http.Request) (StartCheckIn, bool) {
	data, err := io.ReadAll(io.LimitReader(r.Body, 4<<10+1))
	var c StartCheckIn
	if err == nil {
		err = jsonv2.Unmarshal(data, &c, jsonv2.RejectUnknownMembers(true))
	}
	switch {
	case err != nil:
		http.Error(w, "start: "+err.Error(), http.StatusBadRequest)
		return c, false
	case c.Run == "" || len(c.Run) > 512 || c.Generator == "" || len(c.Generator) > 64:
		http.Error(w, "start: run must be a name of 1 to 512 bytes, generator of 1 to 64", http.StatusBadRequest)
		return c, false
	case c.Shards < 1 || c.Shards > 1024 || c.Shard < 1 || c.Shard > c.Shards:
		http.Error(w, fmt.Sprintf("start: shard %d of %d: want 1 <= shard <= shards <= 1024", c.Shard, c.Shards), http.StatusBadRequest)
		return c, false
	}
	return c, true
}

func (m *Manager) handleStart(w http.ResponseWriter, r *http.Request) {
	c, ok := readCheckIn(w, r)
	if !ok {
		return
	}
	run, err := m.starts.checkIn(c)
	if err != nil {
		http.Error(w, err.Error(), http.StatusConflict)
		return
	}
	t := time.NewTimer(m.starts.poll)
	defer t.Stop()
	select {
	case <-run.released:
	case <-t.C:
	case <-r.Context().Done():
	}
	m.starts.leave(c, run, r.Context().Err() != nil)
	if r.Context().Err() == nil {
		writeJSON(w, m.starts.answer(c.Run, run))
	}
}

// handleStartWithdraw is DELETE /v1/start: a shard that gave up waiting
// withdraws its check-in, so that the others do not start without it.
func (m *Manager) handleStartWithdraw(w http.ResponseWriter, r *http.Request) {
	c, ok := readCheckIn(w, r)
	if !ok {
		return
	}
	m.starts.withdraw(c)
	w.WriteHeader(http.StatusNoContent)
}

// StartClient checks a shard in with a manager and waits for the time
// zero of its run.
type StartClient struct {
	// ManagerURL is the manager's base URL; Token its control-plane token.
	ManagerURL, Token string
	// CheckIn says which run and shard.
	CheckIn StartCheckIn
	// Timeout bounds the wait for every shard to check in.
	Timeout time.Duration
	// HTTP is the client used. Default: one with a 10 s timeout.
	HTTP *http.Client
}

// StartTime is a time zero received from the manager.
type StartTime struct {
	// At is the time zero on this host's clock (with a monotonic reading).
	At time.Time
	// ManagerAt is it on the manager's clock.
	ManagerAt time.Time
	// Offset is the manager's clock minus this host's, measured over the
	// round trip RTT (within RTT/2).
	Offset, RTT time.Duration
}

// clockSamples is how many quick exchanges measure the clock offset
// once released (the one of least round trip is used).
const clockSamples = 3

// Await checks in, waits until every shard has, and measures the clock
// offset with a few quick exchanges once released.
func (c StartClient) Await(ctx context.Context) (StartTime, error) {
	if c.HTTP == nil {
		c.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if c.Timeout <= 0 {
		return StartTime{}, errors.New("start: no timeout")
	}
	deadline := time.Now().Add(c.Timeout)
	var last StartAnswer
	for {
		a, _, _, err := c.post(ctx)
		if err != nil {
			if ctx.Err() != nil {
				c.withdraw()
			}
			return StartTime{}, err
		}
		if !a.Start.IsZero() {
			break
		}
		last = a
		if time.Now().After(deadline) {
			c.withdraw()
			msg := fmt.Sprintf("start: waited %v for the shards of %s: %d of %d checked in with %s", c.Timeout, c.CheckIn.Run, last.Arrived, last.Shards, c.ManagerURL)
			if len(last.Waiting) > 0 {
				msg += fmt.Sprintf("; the manager has shards of other runs waiting (other settings?): %s", strings.Join(last.Waiting, "; "))
			}
			return StartTime{}, errors.New(msg)
		}
	}
	// The release answer came after a long wait: its round trip says
	// nothing of the offset. Asking again is answered at once.
	var best StartTime
	for k := range clockSamples {
		a, t0, t1, err := c.post(ctx)
		if err != nil {
			return StartTime{}, err
		}
		rtt := t1.Sub(t0)
		if k > 0 && rtt >= best.RTT {
			continue
		}
		mid := t0.Add(rtt / 2)
		best = StartTime{
			At:        mid.Add(a.Start.Sub(a.Now)),
			ManagerAt: a.Start,
			Offset:    a.Now.Sub(mid),
			RTT:       rtt,
		}
	}
	return best, nil
}

// Check asks the manager once, before anything is made for the run,
// whether it answers and accepts the token: a shard that could not
// check in then fails at once, leaving no results directory behind.
func (c StartClient) Check(ctx context.Context) error {
	if c.HTTP == nil {
		c.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	req, err := c.request(ctx, http.MethodGet, "/v1/servers", false)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("start: the manager at %s does not answer: %w", c.ManagerURL, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	return c.answerError(resp, data)
}

// answerError is the error of an answer other than 200 OK, with body
// data; nil for 200.
func (c StartClient) answerError(resp *http.Response, data []byte) error {
	switch {
	case resp.StatusCode == http.StatusOK:
		return nil
	case resp.StatusCode == http.StatusUnauthorized && c.Token == "":
		return fmt.Errorf("start: the manager at %s refused the request without a token (401): give the manager's --token-file", c.ManagerURL)
	case resp.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("start: the manager at %s refused the token (401): give the manager's --token-file", c.ManagerURL)
	}
	return fmt.Errorf("start: the manager at %s answered %s: %s", c.ManagerURL, resp.Status, strings.TrimSpace(string(data)))
}

// request is a request to the manager's path, with the token and, for a
// check-in, the check-in as its body.
func (c StartClient) request(ctx context.Context, method, path string, checkIn bool) (*http.Request, error) {
	var body io.Reader
	if checkIn {
		data, _ := json.Marshal(c.CheckIn)
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.ManagerURL, "/")+path, body)
	if err != nil {
		return nil, err
	}
	if checkIn {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	return req, nil
}

// withdrawTimeout bounds a withdrawal: best effort, since the manager
// drops a check-in not renewed anyway.
const withdrawTimeout = time.Second

// withdraw tells the manager this shard no longer waits.
func (c StartClient) withdraw() {
	ctx, cancel := context.WithTimeout(context.Background(), withdrawTimeout)
	defer cancel()
	req, err := c.request(ctx, http.MethodDelete, "/v1/start", true)
	if err != nil {
		return
	}
	if resp, err := c.HTTP.Do(req); err == nil {
		resp.Body.Close()
	}
}

// post checks in once, and returns the answer with the local times
// around the exchange.
func (c StartClient) post(ctx context.Context) (a StartAnswer, t0, t1 time.Time, err error) {
	req, err := c.request(ctx, http.MethodPost, "/v1/start", true)
	if err != nil {
		return a, t0, t1, fmt.Errorf("start: %w", err)
	}
	t0 = time.Now()
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return a, t0, t1, fmt.Errorf("start: checking in with the manager: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	t1 = time.Now()
	if err != nil {
		return a, t0, t1, fmt.Errorf("start: reading the manager's answer: %w", err)
	}
	if err := c.answerError(resp, data); err != nil {
		return a, t0, t1, err
	}
	if err := json.Unmarshal(data, &a); err != nil || a.Now.IsZero() {
		return a, t0, t1, fmt.Errorf("start: the manager at %s answered %q: not a start answer (is it a redirlab manager?)", c.ManagerURL, data)
	}
	return a, t0, t1, nil
}
