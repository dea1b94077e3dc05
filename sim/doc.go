// Package sim is redirlab's discrete-event simulator: the scenario's
// servers, agents, manager, browsers and faults in virtual time, recording
// exactly what a real run records.
//
// # Engine
//
// The clock is a time.Duration since run start (int64 nanoseconds). Events
// are concrete structs in a typed binary heap ordered by time, ties broken
// by the sequence number stamped when the event was scheduled, so events
// due at the same instant fire in the order they were scheduled and a run
// is a pure function of its scenario and seed. Deadlines (of page
// requests and of objects) live in a FIFO beside the heap (they are set in
// time order and share one timeout) and carry sequence numbers from the
// same counter. One goroutine
// runs everything; nothing sleeps. Request state lives in a slice of slots
// recycled through a free list, each server's FIFO is a ring buffer of slot
// indices, and every event carries its slot's generation so that an event
// made stale by a crash or a timeout is ignored. Exchanges with zero
// network delay are processed inline, at the same virtual instant.
//
// Besides deadlines and the next session start of the open-loop arrival
// process (also kept beside the heap: there is only ever one), the event
// kinds are: page issue (next page after think time, or a closed-loop
// browser's next request), reach (a request arrives at a server), done (a
// worker finishes), response (an answer arrives at the browser), report
// (the manager's tick, or one agent's exchange), sample (every server is
// sampled) and fault (start or end).
//
// # Network
//
// network.rtt is one round trip per HTTP exchange, split RTT/2 each way:
// a request sent at t reaches its server at t+RTT/2, and an answer the
// server gives at u reaches the browser at u+overhead+RTT/2. So a page
// served without waiting has latency RTT + overhead + service, and each
// redirect hop adds RTT + overhead. network.overhead is per-exchange server
// CPU outside the service time (parsing, writing); it delays the answer
// but does not occupy a worker. A refused connection (server down) costs
// one RTT and no overhead.
//
// # Servers
//
// Servers, their views, the manager's registry, the fault state and the
// sessions are package model's state machines, the ones the real servers
// use; this package drives them from its event loop.
//
// A server has `workers` workers serving one FIFO. queue_capacity counts
// waiting plus in service. At a page arrival the server first asks
// policy.Decide with its live status (queue length and waiting counted
// before the arrival, queue delay by the estimator at that instant), the
// view it holds, the request's hop count, its own arrival sequence number
// and its own random stream. A redirect is answered with policy.status
// (302/307) naming the target, without using a worker; under the shed
// action the request is answered 503 instead, recorded shed; otherwise the
// request is rejected with 503 if the queue is full, else queued. The
// adaptive condition's limit (policy.Gradient) comes from the latencies
// of the server's completions, windows closed at virtual times. Service
// times are the request's own demand (dist.Uniform of the seed, its id and
// part) under the group's service distribution (objects: object_service),
// multiplied at service start by the slowdown in force. Queue delay estimators: hol = age of the
// oldest waiting request; ewma = moving average of measured waits
// (enqueue to service start, pages and objects, 0 for an immediate
// start) with weight policy.ewma_weight, starting from 0 and reset by a
// crash; predicted = policy.EstimateDelay from waiting, workers and the
// configured mean service time.
//
// Counted per server per sample interval, as the real server counts:
// served = requests (pages and objects) whose service completed at the
// server, including those whose browser had already timed out (a request
// failed by a crash is not served); redirected = page arrivals answered
// with a redirect; rejected = arrivals answered 503. Busy time is
// worker-time in service.
//
// # Agents and manager
//
// With report_interval I > 0 the manager and the agents behave as the real
// ones do. Every I from 0 the manager ticks: it marks down servers whose
// last report is older than manager.expire and, under central placement,
// recomputes policy.Instruct's flags from the reported statuses. Every
// agent exchanges with the manager every I from 0 (after the tick at the
// same instant, agents in a fixed random order): it reports its server's
// status (a crashed server's agent reports it down) and receives in the
// answer the manager's current view (every server's last report, up as
// the manager believes, never-heard-of servers down, the last tick's
// instructions), which its server installs at once. So a server's news of
// a peer is between 0 and 2I old when it decides. A lost report is no
// exchange at all (no view either). While the manager is away exchanges
// fail and an agent retries after I×2, I×4, ... capped at 1 s; when the
// manager is back it treats every known server as having just reported.
// A server whose view was received more than manager.view_ttl ago decides
// with an empty view, so it stops redirecting, as a real server does.
//
// With I = 0 the view is exact: the live state of every server at the
// instant of each decision (queue delays recomputed then when the
// condition is queue-delay; instructions recomputed at each arrival under
// central placement). A manager outage then freezes the view as it was
// (it expires after view_ttl like any view), and lost-reports has no
// effect (the run says so in a note).
//
// # Browsers
//
// Sessions start at the times of arrival's schedule for
// rand.NewPCG(seed, 1), the same schedule a real run uses. Each page
// request's first server is chosen by workload.dispatch through package
// dispatch, the load generator's own, from the stream (seed, 2): random,
// round-robin, weighted (group weight), or the ideal front ends jsq
// (least live queue length among up servers, ties at random; none up:
// random) and p2c (two distinct servers at random, the one with the
// shorter live queue; a down one loses). A browser follows redirects (up to workload.max_redirects,
// then an error) and, once the page is answered 200, fetches
// session.objects embedded objects from the server that served the page,
// six at a time as the load generator's browsers do (each an exchange
// through that server's queue, with no redirect decision, bounded by
// workload.timeout; a timed-out object counts as not fetched). The
// next page of a session is scheduled session.think after the previous
// page and its objects ended; its latency counts from that time. A page
// not answered within workload.timeout of its scheduled time is recorded
// as a timeout at that instant, with a last hop (server -1, status 0);
// its request stays where it is (a server cannot know the browser left)
// and the session goes on. Open-loop page requests beyond
// workload.max_in_flight are refused by the client (rejected, status 0, no
// hop). The closed-loop process runs `concurrency` browsers that each
// issue their next page request (sessions, think time and objects as
// above) when the previous ends, until `requests` have been issued or the
// horizon passes.
//
// The ideal front ends jsq and p2c read the servers' live queue lengths
// and skip down servers; the real load generator's front end counts its
// own outstanding requests per server instead, which a crashed server
// answers at once, so the two differ when a server is down.
//
// No page request is scheduled at or after warmup+duration; the run then
// drains until every page request has its record, and ends with a last
// (partial-interval) server sample.
//
// # Records
//
// One results.Request per page request, written when it ends: Scheduled =
// Sent, Done (final answer, or the timeout instant), Outcome, Status (0 for
// transport errors and timeouts), Redirects followed, First server and
// Final (the last server that answered, -1 if none did), one Hop per page
// exchange (server, status, arrival time at the browser; server -1 and
// status 0 for a refused or reset connection or a timeout), Objects
// fetched with a 200 and ObjectsDone (when the last object ended). One
// results.ServerSample per server every sample_interval (and one at the
// end): queue length, in service, queue delay by the estimator, the
// counts above, up, the manager's last record of the server (the live
// values under an exact view) and busy time.
//
// # Faults
//
// slowdown multiplies service times started while it lasts; crash fails
// every request waiting or in service (the reset reaches the browser RTT/2
// later) and refuses arrivals until a restart (crash with `for` restarts
// itself); manager-outage makes the manager unreachable (see above);
// lost-reports loses each report of the named server (or of all servers)
// with probability loss. Overlapping faults mean what model.Faults says:
// slowdowns multiply, a server is down while any of its crashes lasts and
// a restart ends them all, outages nest, and each lost-reports fault
// drops a report independently. A fault that starts before the horizon
// ends when it ends, even while the run drains.
package sim
