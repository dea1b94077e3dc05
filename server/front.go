package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/redirlab/redirlab/model"
	"github.com/redirlab/redirlab/policy"
	"github.com/redirlab/redirlab/results"
)

// This file is what a front for a real backend (package redirect) shares
// with the server: the protocol's pieces, and its place in a Cluster and
// in Serve. A front is not built here: it wraps a reverse proxy, and the
// server package does not proxy.

// ParseHops returns the hop counter of a raw query: the first
// redirlab_hop parameter, 0 when absent or malformed.
func ParseHops(rawQuery string) int { return parseHops(rawQuery) }

// IsHopKey reports whether a raw query key names the hop counter,
// escaped or not.
func IsHopKey(key string) bool { return isHopKey(key) }

// CleanPath turns a request's decoded path into a rooted, cleaned one.
func CleanPath(p string) string { return cleanPath(p) }

// AppendLocation appends the Location of a redirect to the peer at base
// (a registered base URL): the cleaned path, the query without its hop
// counter, and redirlab_hop=hop.
func AppendLocation(dst []byte, base, cleanedPath, rawQuery string, hop int) []byte {
	return appendLocation(dst, base, cleanedPath, rawQuery, hop)
}

// NewStatusMessage is the status message of server name with status st
// and inService requests in service.
func NewStatusMessage(name string, st policy.Status, inService int) StatusMessage {
	return statusMessage(name, st, inService)
}

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
	watchAgent(ctx, f.Agent(), interval, warn)
	return shutdown(f.Shutdown)
}

// ParseDemand reads a request's demand: its id from redirlab_req and its
// part from the path (k+1 for /object/<k>).
func ParseDemand(rawQuery, cleanedPath string, page bool) model.Demand {
	return parseDemand(rawQuery, cleanedPath, page)
}

// AdvertiseURL is the base URL a server listening on addr tells the
// manager: addr itself, or, bound to every interface, the local address
// that routes to the manager.
func AdvertiseURL(addr net.Addr, managerURL string) string { return advertiseURL(addr, managerURL) }
