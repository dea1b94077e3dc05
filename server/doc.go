// Package server is redirlab's real system: the redirecting web server,
// the agent that reports a server's status to the manager, the central
// manager, and Cluster, which runs a scenario's servers and manager
// in-process on 127.0.0.1 and applies its faults.
//
// # Layers
//
// Like etcd's raft: policy is the pure decision; package model holds the
// single-threaded, clock-free state machines (model.Server for one
// server, model.ViewHolder for its view, model.Registry for the manager,
// model.Faults for the fault plan), the same ones the simulator drives;
// package plan resolves the scenario for both. Server, Agent, Manager and
// Cluster wrap them with a mutex, timers, goroutines and net/http, and
// TestDifferentialSimAndServer checks that both drivers use the model
// alike.
//
// # Server
//
// Page requests (the workload path and anything under it) and embedded
// objects (/object/<k>) enter one bounded FIFO: capacity counts waiting
// plus in service. Workers are slots, not goroutines: a request's handler
// goroutine blocks until its service has ended. One goroutine per server,
// the completer, keeps the services in progress in a heap by scheduled
// end, sleeps until the earliest, finishes every service that is due,
// hands each freed slot straight to the oldest waiter and wakes the
// handlers whose service ended: one wake-up per request, and the mutex is
// held only for state transitions, never across service. The completer
// sleeps on a Go timer and an alarm (a timerfd, internal/alarm) at once:
// Go timers alone fire up to 1 ms late when the process is idle, and
// every answer would leave half a millisecond late on average. A service
// runs on its scheduled time line: the next service starts when the
// previous one was due to end, not when the completer actually woke, so
// lateness on a busy machine does not stretch the modelled service time.
// Status, capacity and busy time follow the same time line: a service
// whose scheduled end has passed is over, and the oldest waiter is in
// service in its place, even while the completer that makes it so is
// late. A zero-length service (objects served from memory) starts and
// ends in one critical section, without the completer.
//
// Service times come from the scenario's distributions (dist). A request
// carrying redirlab_req=<id> (the load generator sends it; redirects keep
// it) is served the quantile of dist.Uniform(seed, id, part), part 0 for
// the page and k+1 for /object/<k>: the very demand the simulator gives the
// same request. Any other request draws from the server's seeded stream.
//
// At each page arrival the server calls policy's Decide with its live
// status, the last view from its agent (none when older than
// manager.view_ttl), the hop count from the redirlab_hop query parameter
// (absent or malformed: 0) and its arrival sequence number. The policy
// comes before the capacity check: a full server still redirects when the
// condition holds; only requests it would serve are rejected (503 with
// Retry-After). Under the shed action the condition's arrivals get 503
// with Retry-After and X-Redirlab-Shed instead of a redirect. A redirect is 302 or 307 to the registered base URL of the
// chosen peer, the request's cleaned path (always one leading '/', escaped
// afresh) and its query without redirlab_hop, plus redirlab_hop=hops+1.
// Nothing of the request (path, query, Host header) can change the scheme
// or host, and only base URLs from the configuration or the manager's
// registry (scheme://host:port, checked by NormalizeBaseURL) are
// registered. A peer without a registered URL, or marked down in the view,
// is never a target. Objects are never redirected.
//
// A client that goes away keeps its place in the queue: the server learns
// of it only when it writes the answer, as a real server would. A crash
// closes the listener and every connection; requests waiting or in service
// fail (their handlers abort the connection); counters survive; a restart
// listens again on the same address with an empty queue. The agent is the
// server's companion on its host rather than part of its process: it
// outlives a crash, reports the server down (so the manager knows within
// an interval instead of after manager.expire) and keeps the view, as the
// simulator's agents do.
//
// Endpoints: the pages and objects, GET /status (StatusMessage as JSON),
// GET /metrics (Prometheus text from the registry the server was given).
// Every answer carries X-Redirlab-Server: <instance name>. Served counts
// pages and objects (both use the queue and the workers); Pages counts
// pages alone.
//
// # Agent and manager
//
// The agent POSTs a ReportMessage to the manager's /v1/report every report
// interval (0 in the scenario means 10ms here: only the simulator has an
// exact view) and installs the ViewMessage in the answer. The first report
// goes out at once. After a failure it retries after interval × 2, × 4, ...
// capped (1s by default). A lost report (the lost-reports fault) is no
// exchange at all and the agent keeps its interval.
//
// The manager registers servers by instance name with the URL they
// advertise, marks a server down when it has not reported for
// manager.expire (checked every interval), and under central placement
// recomputes policy's Instruct flags every interval. Its answer to a
// report is the current view: every server's last report, whether it is
// up, its URL, and the instructions. GET /v1/view and GET /v1/servers
// serve the same; GET /metrics its own metrics. During an outage it
// answers 503 to everything and does not tick; when it comes back it
// treats every known server as having just reported. The simulator models
// the same exchange (sim's package documentation).
//
// # Several hosts
//
// Serve runs one server alone and RunManager the manager alone. A server
// only needs the manager's URL: it advertises its own (the listener's
// address, or for a listener on every interface the local address that
// routes to the manager) and learns its peers' from the view.
package server
