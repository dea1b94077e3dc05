package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redirlab/redirlab/model"
)

// Agent reports a server's status to the manager every Interval and hands
// the view in the answer to the server. When an exchange fails it retries
// with exponential backoff (Interval × 2, × 4, ... capped at MaxBackoff);
// the server meanwhile keeps its last view until the view's TTL runs out.
type Agent struct {
	// ManagerURL is the manager's base URL.
	ManagerURL string
	// Interval between reports.
	Interval time.Duration
	// MaxBackoff caps the delay between retries after failures.
	MaxBackoff time.Duration
	// Client makes the exchanges; its Timeout bounds each one.
	Client *http.Client
	// Report returns what to send.
	Report func() ReportMessage
	// Apply receives each view.
	Apply func(*ViewMessage)
	// Rand decides which reports are lost (SetLoss); used only by Run's
	// goroutine.
	Rand *rand.Rand
	// Token is the manager's, sent as a bearer token ("" for none).
	Token string

	loss                 atomic.Uint64 // math.Float64bits of the loss probability
	sent, lost, failures atomic.Int64
	refused              atomic.Pointer[AnswerError] // the last exchange's, if the manager refused it
}

// AnswerError is the manager answering an exchange with other than a
// view: it was reached, and refused the report.
type AnswerError struct {
	// Status is the HTTP status, such as "401 Unauthorized".
	Status string
	// Code is its number.
	Code int
	// Reason is the answer's first line, the manager's reason.
	Reason string
}

func (e *AnswerError) Error() string {
	if e.Code == http.StatusUnauthorized {
		return "the manager refused the token (401): give the manager's --token-file"
	}
	if e.Reason == "" {
		return "the manager answered " + e.Status
	}
	return fmt.Sprintf("the manager answered %s: %s", e.Status, e.Reason)
}

// Refused returns why the manager refused the last exchange, or nil when
// it did not (answered with a view, or could not be reached).
func (a *Agent) Refused() *AnswerError { return a.refused.Load() }

// AgentCounts are an agent's cumulative counts.
type AgentCounts struct {
	// Sent counts exchanges answered with a view.
	Sent int64
	// Lost counts reports dropped by the lost-reports fault.
	Lost int64
	// Failed counts exchanges that failed (manager unreachable, outage,
	// bad answer).
	Failed int64
}

// Counts returns the agent's counts so far.
func (a *Agent) Counts() AgentCounts {
	return AgentCounts{Sent: a.sent.Load(), Lost: a.lost.Load(), Failed: a.failures.Load()}
}

// SetLoss makes the agent drop each report with probability p (the
// lost-reports fault): a lost report never reaches the manager and no
// view comes back; the agent tries again after the normal interval, as it
// cannot tell a lost report from a slow one.
func (a *Agent) SetLoss(p float64) { a.loss.Store(math.Float64bits(p)) }

// Start runs the agent in a goroutine until stop, which ends it and
// waits for it: the server and a front's middleware both run theirs so.
func (a *Agent) Start() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}

// Run reports until ctx is done. The first report goes out at once, so a
// fresh server registers without waiting an interval.
func (a *Agent) Run(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	failed := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		began := time.Now()
		delay := a.Interval
		if p := math.Float64frombits(a.loss.Load()); p > 0 && a.Rand.Float64() < p {
			a.lost.Add(1)
		} else if err := a.exchange(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			ae, _ := errors.AsType[*AnswerError](err)
			a.refused.Store(ae)
			a.failures.Add(1)
			failed++
			delay = model.Backoff(a.Interval, a.MaxBackoff, failed)
		} else {
			a.refused.Store(nil)
			a.sent.Add(1)
			failed = 0
		}
		// Keep the schedule: the exchange's own duration counts against
		// the interval.
		t.Reset(max(delay-time.Since(began), 0))
	}
}

// exchange sends one report and applies the view in the answer.
func (a *Agent) exchange(ctx context.Context) error {
	body, err := json.Marshal(a.Report())
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.ManagerURL+"/v1/report", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if a.Token != "" {
		req.Header.Set("Authorization", "Bearer "+a.Token)
	}
	resp, err := a.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		reason, _, _ := strings.Cut(strings.TrimSpace(string(data)), "\n")
		return &AnswerError{Status: resp.Status, Code: resp.StatusCode, Reason: reason}
	}
	var v ViewMessage
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&v); err != nil {
		return fmt.Errorf("manager view: %v", err)
	}
	a.Apply(&v)
	return nil
}
