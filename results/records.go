// Package results owns what a run produces: the record types, streaming
// aggregation into summary.json, the CSV files, statistics, plots,
// comparison and the HTML report. It runs nothing.
package results

import "time"

// Outcome is how a page request ended.
type Outcome uint8

const (
	// Completed: the final response was a page (2xx).
	Completed Outcome = iota
	// Error: a transport error, a crash, a 5xx other than a rejection,
	// or too many redirects.
	Error
	// Rejected: refused for lack of room, by a server (full queue, 503)
	// or by the client (open-loop in-flight bound reached).
	Rejected
	// Timeout: no final response within the workload timeout.
	Timeout
	// Interrupted: in flight when the run was stopped (a signal); the
	// request neither succeeded nor failed.
	Interrupted
	// Shed: turned away by a server's shed action (503 with Retry-After
	// while its condition holds), not for lack of room.
	Shed
)

var outcomeNames = [...]string{"completed", "error", "rejected", "timeout", "interrupted", "shed"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "unknown"
}

// ParseOutcome is the inverse of Outcome.String.
func ParseOutcome(s string) (Outcome, bool) {
	for i, n := range outcomeNames {
		if n == s {
			return Outcome(i), true
		}
	}
	return 0, false
}

// MaxRecordedHops bounds Request.Hops so that records need no allocation.
const MaxRecordedHops = 8

// Hop is one HTTP exchange of a page request.
type Hop struct {
	// Server is the server index answering, -1 if unknown (for example a
	// connection refused before any server answered).
	Server int16
	// Status is the HTTP status, 0 for a transport error.
	Status int16
	// At is when the hop's response arrived, since run start.
	At time.Duration
}

// Request is the record of one scheduled page request. Every scheduled
// page request of the measured window has exactly one.
type Request struct {
	// ID is the request's sequence number in schedule order.
	ID uint64
	// Scheduled is when the request was due, since run start.
	Scheduled time.Duration
	// Sent is when it was actually sent (== Scheduled in simulation).
	Sent time.Duration
	// Done is when the final response (or error) arrived.
	Done time.Duration
	// Outcome says how it ended.
	Outcome Outcome
	// Status is the final HTTP status (0 for transport errors).
	Status int
	// Redirects is how many redirects were followed.
	Redirects int
	// First is the server dispatched to, Final the one that answered
	// last (-1 when unknown).
	First, Final int
	// NHops is the number of valid entries in Hops.
	NHops int
	// Hops are the exchanges, in order (at most MaxRecordedHops kept).
	Hops [MaxRecordedHops]Hop
	// Objects is the number of embedded objects fetched after the page;
	// ObjectsDone when the last completed (0 if none).
	Objects     int
	ObjectsDone time.Duration
}

// Reset makes r the record of a new page request id, scheduled and sent
// at, with no server known yet: what Request{ID: id, Scheduled: at, Sent:
// at, First: -1, Final: -1} is, but Hops beyond NHops (which no reader
// looks at) keep their old bytes. A simulator reuses one record per
// request slot, and clearing the whole hops array took as long as the
// rest of a page's issue.
func (r *Request) Reset(id uint64, at time.Duration) {
	r.ID, r.Scheduled, r.Sent, r.Done = id, at, at, 0
	r.Outcome, r.Status, r.Redirects = 0, 0, 0
	r.First, r.Final, r.NHops = -1, -1, 0
	r.Objects, r.ObjectsDone = 0, 0
}

// Latency is from the scheduled time to the final response.
func (r *Request) Latency() time.Duration { return r.Done - r.Scheduled }

// SendLag is actual minus scheduled send time.
func (r *Request) SendLag() time.Duration { return r.Sent - r.Scheduled }

// AddHop appends a hop, keeping the first MaxRecordedHops.
func (r *Request) AddHop(h Hop) {
	if r.NHops < MaxRecordedHops {
		r.Hops[r.NHops] = h
	}
	r.NHops++
}

// ServerSample is one server's state at one sampling tick.
type ServerSample struct {
	// At is the tick time since run start.
	At time.Duration
	// Server is the server index.
	Server int
	// QueueLength is waiting plus in service.
	QueueLength int
	// InService is requests being served.
	InService int
	// QueueDelay by the configured estimator.
	QueueDelay time.Duration
	// Served, Redirected, Rejected are counts since the previous tick.
	Served, Redirected, Rejected int
	// Up is false while the server is crashed.
	Up bool
	// ReportedQueueLength and ReportedQueueDelay are what the manager's
	// current view says of this server (stale by up to one interval).
	ReportedQueueLength int
	ReportedQueueDelay  time.Duration
	// BusyTime is the worker-time spent serving since the previous
	// tick, summed over workers (utilisation = BusyTime / (interval ×
	// workers)).
	BusyTime time.Duration
}

// Summary is summary.json: the contract in DESIGN.md.
type Summary struct {
	Scenario string `json:"scenario"`
	Variant  string `json:"variant"`
	// Variants are the scenario's variants, base first, as its file
	// lists them, when the run was one of them (as Expand made it): the
	// place of Variant in it is the variant's colour in
	// every figure, whichever variants a run selected (see VariantsOf).
	Variants  []string `json:"variants,omitempty"`
	Mode      Mode     `json:"mode"`
	Seed      uint64   `json:"seed"`
	DurationS float64  `json:"duration_s"`
	// WarmupS is the unmeasured start: measured times run from WarmupS
	// to WarmupS+DurationS in the CSVs' t_s columns.
	WarmupS       float64         `json:"warmup_s"`
	Requests      RequestCounts   `json:"requests"`
	LatencyMS     LatencyStats    `json:"latency_ms"`
	Redirects     RedirectStats   `json:"redirects"`
	ThroughputRPS float64         `json:"throughput_rps"`
	SendLagMS     SendLagStats    `json:"send_lag_ms"`
	Servers       []ServerSummary `json:"servers"`
	// Notes say where figures come from when that is not obvious (for
	// example: closed-loop redirects from server counters).
	Notes []string `json:"notes,omitempty"`
	// Partial marks a run stopped before its end (a signal): DurationS
	// is then the measured part, and rates are over it.
	Partial bool `json:"partial,omitempty"`
	// NotStarted marks a run whose load never began: a generator that
	// got no time zero (the manager refused or did not answer, the wait
	// ran out, or it was stopped while waiting). It sent nothing.
	NotStarted bool `json:"not_started,omitempty"`
	// Thresholds are the scenario's thresholds judged on this run's
	// variant (over its replications), when it has any.
	Thresholds []ThresholdVerdict `json:"thresholds,omitempty"`
	// Shard says which share of the run this generator ran (loadgen
	// --shard, sweep --shard).
	Shard *Shard `json:"shard,omitempty"`
	// Start says how a real generator's time zero was set, when it was
	// given one (--start-at, --manager).
	Start *Start `json:"start,omitempty"`
	// Connections counts the open-loop generator's connections.
	Connections *Connections `json:"connections,omitempty"`
	// Merge lists the shards a merged directory was made of.
	Merge *Merge `json:"merge,omitempty"`
}

// The shares a shard can be of.
const (
	// ShardArrivals: a share of one run's arrivals (loadgen --shard).
	ShardArrivals = "arrivals"
	// ShardSweepPoints: a share of a sweep's points (sweep --shard).
	ShardSweepPoints = "sweep points"
)

// Shard is the i-th of n disjoint shares.
type Shard struct {
	Index int    `json:"index"`
	Count int    `json:"count"`
	Of    string `json:"of"`
}

// Start is how a generator's time zero was set and how well it kept it.
type Start struct {
	// At is the time zero, RFC 3339 with nanoseconds, on this host's clock.
	At string `json:"at"`
	// By is "start-at" or the coordinating manager's URL.
	By string `json:"by"`
	// LateMS is how long after At the generator was ready to send its
	// first request (0 when it was ready before).
	LateMS float64 `json:"late_ms"`
	// ClockOffsetMS is the manager's clock minus this host's, measured
	// at check-in (manager only); RTTMS the round trip it was measured
	// over, which bounds its error.
	ClockOffsetMS float64 `json:"clock_offset_ms"`
	RTTMS         float64 `json:"rtt_ms"`
}

// Connections counts the connections a generator opened before its
// first arrival (prewarmed) and while it ran.
type Connections struct {
	Prewarmed    int64 `json:"prewarmed"`
	OpenedDuring int64 `json:"opened_during_run"`
}

// Merge is the provenance of a merged results directory.
type Merge struct {
	Shards []MergedShard `json:"shards"`
}

// MergedShard is one shard a merge read.
type MergedShard struct {
	Dir   string `json:"dir"`
	Index int    `json:"index"`
	Sent  int64  `json:"sent"`
	Start *Start `json:"start,omitempty"`
}

// ThresholdVerdict is one threshold of the scenario judged on a run.
type ThresholdVerdict struct {
	// Metric and Threshold as written: latency_ms.p99, "< 150ms".
	Metric    string `json:"metric"`
	Threshold string `json:"threshold"`
	// Value is the metric (the mean over replications); Bound is what
	// was compared (the 95% confidence bound under replications).
	Value float64 `json:"value"`
	Bound float64 `json:"bound"`
	// Verdict is pass, fail or inconclusive; Why says by how much it
	// failed, or why it could not be judged.
	Verdict string `json:"verdict"`
	Why     string `json:"why,omitempty"`
}

// RequestCounts: sent == completed + errors + rejected + shed. Timeouts
// are errors too; Timeouts says how many of the errors they are.
type RequestCounts struct {
	Sent      int64 `json:"sent"`
	Completed int64 `json:"completed"`
	Errors    int64 `json:"errors"`
	Rejected  int64 `json:"rejected"`
	// Shed counts requests a server's shed action turned away.
	Shed     int64 `json:"shed"`
	Timeouts int64 `json:"timeouts"`
	// Interrupted counts requests in flight when the run was stopped
	// (partial runs only): sent == completed + errors + rejected + shed
	// + interrupted.
	Interrupted int64 `json:"interrupted,omitempty"`
}

// LatencyStats are over completed page requests, in milliseconds.
type LatencyStats struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

// RedirectStats: Rate is the fraction of page requests redirected at
// least once; Total counts redirects (hops).
type RedirectStats struct {
	Rate  float64 `json:"rate"`
	Total int64   `json:"total"`
}

// SendLagStats is actual minus scheduled send time, in milliseconds.
type SendLagStats struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// ServerSummary is one server's totals over the measured window.
// Utilization is busy worker-time / (time covered × workers); mean and max
// queue length and the mean, p99 and max queue delay (ms, by the
// configured estimator) are over the samples, taken every sample
// interval, so the means are time averages. The p99 is the nearest-rank
// one, at most 0.1% above the exact sample quantile.
type ServerSummary struct {
	Name             string  `json:"name"`
	Workers          int     `json:"workers"`
	Served           int64   `json:"served"`
	Redirected       int64   `json:"redirected"`
	Rejected         int64   `json:"rejected"`
	MeanQueueLength  float64 `json:"mean_queue_length"`
	MaxQueueLength   int     `json:"max_queue_length"`
	MeanQueueDelayMS float64 `json:"mean_queue_delay_ms"`
	P99QueueDelayMS  float64 `json:"p99_queue_delay_ms"`
	MaxQueueDelayMS  float64 `json:"max_queue_delay_ms"`
	Utilization      float64 `json:"utilization"`
}
