package server

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/redirlab/redirlab/results"
)

// This file is what a front for a real backend (package redirect) shares
// with the server besides the protocol's pieces (location.go, wire.go):
// its place in a Cluster and in Serve. A front is not built here: it
// wraps a reverse proxy, and the server package does not proxy.

// HTTPServer is an http.Server serving h with t's timeouts (Write
// defaulting to write) and bounded headers.
func (t Timeouts) HTTPServer(h http.Handler, write time.Duration) *http.Server {
	t.fill(write)
	return t.httpServer(h)
}

// Front is a cluster member that fronts a real backend (a scenario
// server with an upstream), built by ClusterOptions.Front.
type Front interface {
	// Start listens, counts time from runStart and, when managerURL is
	// not "", starts the agent reporting there.
	Start(runStart time.Time, managerURL string) error
	// URL is the advertised base URL and Addr the listening address
	// (after Start).
	URL() string
	Addr() string
	// Agent is the front's agent (nil before Start or without a manager).
	Agent() *Agent
	// Sample is the front's state at run time at, as Server.Sample.
	Sample(at time.Duration) results.ServerSample
	// SetReportLoss makes the agent drop each report with probability p.
	SetReportLoss(p float64)
	// Shutdown stops accepting and lets held requests finish until ctx
	// is done; Close stops at once. Both are for good.
	Shutdown(ctx context.Context) error
	Close() error
}

// ServeFront runs one front alone (redirlab serve of a server with an
// upstream) until ctx is done, as Serve runs a server: ready is told the
// address once it listens, warn when the agent loses the manager and
// when it has it back.
func ServeFront(ctx context.Context, f Front, managerURL string, interval time.Duration, ready func(addr string), warn func(msg string)) error {
	if managerURL == "" {
		return errors.New("serve: a manager URL is required")
	}
	if err := f.Start(time.Now(), managerURL); err != nil {
		return err
	}
	if ready != nil {
		ready(f.Addr())
	}
	werr := watchAgent(ctx, f.Agent(), interval, warn)
	return errors.Join(werr, shutdown(f.Shutdown))
}
