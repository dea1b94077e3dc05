// Package scenarios owns the scenario schema: strict YAML decoding,
// defaults, validation with file:line:field errors, --set overrides,
// variants, and the embedded example scenarios.
package scenarios

import (
	"time"
)

// Scenario is one validated scenario: what servers exist, how they decide
// to redirect, and what traffic they see. It is the single source of
// truth for sim runs, real runs and servers started alone.
type Scenario struct {
	// Name identifies the scenario in summaries and plots.
	Name string `yaml:"name"`
	// Description says what question the scenario answers.
	Description string `yaml:"description"`
	// Seed seeds every random stream of the run (arrivals, service times,
	// dispatch, policy). Default 1.
	Seed uint64 `yaml:"seed"`
	// Duration is the measured part of the run. Required, > 0.
	Duration time.Duration `yaml:"duration"`
	// Warmup is run before Duration and not counted. Default 0.
	Warmup time.Duration `yaml:"warmup"`
	// Replications is the number of seeds (Seed, Seed+1, ...) a run
	// repeats the scenario with; summaries then carry 95% confidence
	// intervals. Default 1.
	Replications int `yaml:"replications"`
	// SampleInterval is how often each server's state is sampled into
	// servers.csv. Default 100ms.
	SampleInterval time.Duration `yaml:"sample_interval"`
	// SampleIntervalDefault is true when neither the file nor an
	// override gave sample_interval: results may then write servers.csv
	// at a coarser interval on a long run, and say so. The canonical YAML
	// leaves such a default out, so that it stays one.
	SampleIntervalDefault bool `yaml:"-"`
	// Servers are the server groups; each expands to Count instances.
	Servers []ServerGroup `yaml:"servers"`
	// Manager configures status reporting and decision placement.
	Manager Manager `yaml:"manager"`
	// Policy is the redirect policy.
	Policy Policy `yaml:"policy"`
	// Workload is the browser traffic.
	Workload Workload `yaml:"workload"`
	// Network models the network in simulation.
	Network Network `yaml:"network"`
	// Faults are applied at their times.
	Faults []Fault `yaml:"faults"`
	// Variants are the same workload and seed under other settings.
	Variants []Variant `yaml:"variants"`
	// Thresholds are pass/fail limits on the summary, by summary.json
	// path: {latency_ms.p99: "< 150ms", redirects.rate: "< 0.25"}. A run
	// that misses one fails (exit 1).
	Thresholds map[string]string `yaml:"thresholds"`
	// Limits are Thresholds resolved, sorted by metric (a variant's own
	// thresholds override the base's by metric).
	Limits []Limit `yaml:"-"`

	// File is the path (or "embedded:NAME") the scenario was read from.
	File string `yaml:"-"`
	// Variant is the variant this scenario is: "" for a scenario without
	// variants, "base" for the file as written when it has variants.
	Variant string `yaml:"-"`

	// src is what the scenario was decoded from; Expand decodes it again
	// with each variant's settings.
	src *source
	// from is the variant this scenario was expanded from (nil for the
	// base and a scenario without variants).
	from *variantOf
}

// variantOf is a variant's place in its file and its settings.
type variantOf struct {
	index int
	set   map[string]string
	all   []string // every run Expand made, base first
}

// ServerGroup is Count identical servers. Instances are named
// "<name>-<i>" (i from 1); a group of one also answers to its bare name.
type ServerGroup struct {
	// Name of the group; instance names derive from it.
	Name string `yaml:"name"`
	// Count is the number of instances. Default 1.
	Count int `yaml:"count"`
	// Workers serve the queue in parallel. Default 1; must be >= 1.
	Workers int `yaml:"workers"`
	// QueueCapacity bounds accepted requests (waiting plus in service);
	// an arrival at a full queue is rejected (HTTP 503). Default 1024.
	QueueCapacity int `yaml:"queue_capacity"`
	// Service is the service-time distribution of a page request.
	Service Service `yaml:"service"`
	// ObjectService is the service-time distribution of an embedded
	// object. Default: const 0 (served straight from memory).
	ObjectService Service `yaml:"object_service"`
	// PageBytes is the size of a page body. Default 2048.
	PageBytes int `yaml:"page_bytes"`
	// ObjectBytes is the size of an embedded object body. Default 8192.
	ObjectBytes int `yaml:"object_bytes"`
	// Weight is the group's share under weighted dispatch. Default 1.
	Weight float64 `yaml:"weight"`
	// Upstream, when set, is the base URL of a real backend: each
	// instance is then a front, a reverse proxy whose service is the
	// backend's answer (real runs only).
	Upstream string `yaml:"upstream"`
}

// Service is a service-time distribution.
type Service struct {
	// Dist is const | exp | lognormal | pareto | empirical.
	Dist string `yaml:"dist"`
	// Mean service time (const, exp, lognormal, pareto). For pareto it
	// is derived from Min and Max when they are given; for empirical it
	// is set to the samples' mean on loading.
	Mean time.Duration `yaml:"mean"`
	// CV is the coefficient of variation (lognormal). Default 1.
	CV float64 `yaml:"cv"`
	// Alpha is the tail index of the bounded Pareto. Default 1.5.
	Alpha float64 `yaml:"alpha"`
	// Min and Max bound the Pareto (Min derived from Mean when 0;
	// Max default 1000 × Min).
	Min time.Duration `yaml:"min"`
	Max time.Duration `yaml:"max"`
	// File is a CSV/text file of service times (one duration or one
	// number of milliseconds per line), relative to the scenario file
	// (empirical).
	File string `yaml:"file"`

	// Samples holds the empirical samples after loading.
	Samples []time.Duration `yaml:"-"`
}

// Manager configures the agents and the central manager.
type Manager struct {
	// ReportInterval is how often agents report status and the manager
	// publishes its view. 0 means an exact, always-current view (sim
	// only; real runs use 10ms). Default 100ms.
	ReportInterval *time.Duration `yaml:"report_interval"`
	// Decision is local | central. Default local.
	Decision string `yaml:"decision"`
	// ViewTTL: a server whose last view is older than this stops
	// redirecting. Default 10 × ReportInterval, at least 1s.
	ViewTTL time.Duration `yaml:"view_ttl"`
	// Expire: the manager marks a server down when it has not reported
	// for this long. Default 3 × ReportInterval, at least 300ms.
	Expire time.Duration `yaml:"expire"`
}

// Policy is the redirect policy as written in the file.
type Policy struct {
	// Condition is none | queue-length | queue-delay | adaptive.
	// Default none.
	Condition string `yaml:"condition"`
	// Action is what a server does while the condition holds: redirect
	// | shed (503 with Retry-After). Default redirect.
	Action string `yaml:"action"`
	// Adaptive is the adaptive condition's concurrency-limit rule.
	Adaptive Adaptive `yaml:"adaptive"`
	// Threshold is a count for queue-length, a duration for queue-delay.
	Threshold Threshold `yaml:"threshold"`
	// Estimator of queue delay: hol | ewma | predicted. Default hol.
	Estimator string `yaml:"estimator"`
	// EWMAWeight is the weight of a new wait in the ewma estimator.
	// Default 0.1.
	EWMAWeight float64 `yaml:"ewma_weight"`
	// Target is least-loaded | random | round-robin | p2c | probe.
	// Default least-loaded.
	Target string `yaml:"target"`
	// ProbeLimit is how many peers probe samples at most. Default 3.
	ProbeLimit int `yaml:"probe_limit"`
	// MaxHops: a request redirected this many times is served. Default 1.
	MaxHops int `yaml:"max_hops"`
	// Fraction of arrivals redirected while the condition holds, in
	// (0, 1]. Default 1.
	Fraction *float64 `yaml:"fraction"`
	// Status is the redirect status code, 302 or 307. Default 302.
	Status int `yaml:"status"`
}

// Adaptive is the gradient rule of condition adaptive (policy.Gradient):
// minRTT is the mean latency of the first MinRTTRequests completions;
// then every Window the limit moves towards gradient × limit +
// √(gradient × limit), gradient = minRTT × (1 + Buffer) / the window's
// mean latency, clamped to [0.5, 2].
type Adaptive struct {
	// Window is how often the limit is recomputed from the latencies
	// completed in it. Default 100ms.
	Window time.Duration `yaml:"window"`
	// InitialLimit is the limit before the first window. Default 20.
	InitialLimit int `yaml:"initial_limit"`
	// MinLimit is the lowest the limit goes. Default 3.
	MinLimit int `yaml:"min_limit"`
	// MaxLimit is the highest the limit goes. Default 1000.
	MaxLimit int `yaml:"max_limit"`
	// MinRTTRequests is how many completions, at the start with the
	// limit at MinLimit, the minimum latency is measured over. Default 50.
	MinRTTRequests int `yaml:"min_rtt_requests"`
	// Buffer is the share a window's mean latency may exceed minRTT by
	// and still count as no queueing. Default 0.25.
	Buffer *float64 `yaml:"buffer"`
	// Smoothing is the weight of each window's new estimate, in (0, 1].
	// Default 0.2.
	Smoothing float64 `yaml:"smoothing"`
}

// Threshold is a queue-length count or a queue-delay duration, decided by
// the condition it belongs to.
type Threshold struct {
	// Raw is the value as written ("" when absent).
	Raw string
	// Count is the threshold as a count (queue-length).
	Count int
	// Delay is the threshold as a duration (queue-delay).
	Delay time.Duration
}

// Workload is the browser traffic.
type Workload struct {
	// Dispatch is how a browser picks its first server: random |
	// round-robin | weighted | jsq | p2c. Default random.
	Dispatch string `yaml:"dispatch"`
	// Arrival is the arrival process of browser sessions.
	Arrival Arrival `yaml:"arrival"`
	// Session is what a browser does per arrival.
	Session Session `yaml:"session"`
	// Timeout bounds one page request, redirect hops included. Default 10s.
	Timeout time.Duration `yaml:"timeout"`
	// MaxInFlight bounds open-loop page requests in flight; a request
	// scheduled beyond it is recorded as rejected by the client.
	// Default 10000.
	MaxInFlight int `yaml:"max_in_flight"`
	// MaxRedirects is how many redirects a browser follows before it
	// gives up with an error. Default 10.
	MaxRedirects int `yaml:"max_redirects"`
	// Path is the page path requested. Default /page.
	Path string `yaml:"path"`
}

// Arrival is an arrival process.
type Arrival struct {
	// Process is constant | poisson | ramp | steps | mmpp | trace | closed.
	Process string `yaml:"process"`
	// Rate (constant, poisson), e.g. 900/s.
	Rate Rate `yaml:"rate"`
	// From and To (ramp): linear from From to To over warmup+duration.
	From Rate `yaml:"from"`
	To   Rate `yaml:"to"`
	// Steps (steps): rates held for given times, in order; the last
	// rate holds to the end.
	Steps []Step `yaml:"steps"`
	// States (mmpp): Poisson rates with exponential dwell times; on
	// leaving a state the process moves to a uniformly chosen other one.
	States []MMPPState `yaml:"states"`
	// File (trace): a CSV of offsets (seconds, or durations such as
	// 1.5ms) or a common/combined access log, relative to the scenario.
	File string `yaml:"file"`
	// Concurrency (closed): browsers that each wait for their answer.
	Concurrency int `yaml:"concurrency"`
	// Requests (closed): total page requests; 0 runs for the duration.
	Requests int `yaml:"requests"`

	// Offsets holds the trace's arrival offsets after loading.
	Offsets []time.Duration `yaml:"-"`
}

// Rate is an arrival rate in requests per second, written "900/s",
// "54000/min" or "1.5k/s".
type Rate float64

// Step is one phase of a steps arrival process.
type Step struct {
	Rate Rate          `yaml:"rate"`
	For  time.Duration `yaml:"for"`
}

// MMPPState is one state of a Markov-modulated Poisson process.
type MMPPState struct {
	Rate Rate `yaml:"rate"`
	// Dwell is the mean time spent in the state.
	Dwell time.Duration `yaml:"dwell"`
}

// Session is what a browser does per arrival: Pages page views, each
// followed by fetching Objects embedded objects from the server that
// served the page, with Think time between page views. The next page of a
// session is scheduled Think after the previous page and its objects
// completed; its latency counts from that scheduled time.
type Session struct {
	// Pages per session. Default 1.
	Pages int `yaml:"pages"`
	// Objects embedded in each page. Default 0.
	Objects int `yaml:"objects"`
	// Think time between pages. Default 0.
	Think time.Duration `yaml:"think"`
}

// Network models the network in simulation.
type Network struct {
	// RTT is paid once per HTTP exchange (each hop, each object).
	// Default 200us.
	RTT time.Duration `yaml:"rtt"`
	// Overhead is per-request server CPU cost outside the service time
	// (parsing, writing), added to every exchange. Default 0.
	Overhead time.Duration `yaml:"overhead"`
}

// Fault is an event applied at a time since run start (warmup included).
type Fault struct {
	// At is when the fault starts.
	At time.Duration `yaml:"at"`
	// Server is the instance name (web-2), for server faults.
	Server string `yaml:"server"`
	// Action is slowdown | crash | restart | manager-outage | lost-reports.
	Action string `yaml:"action"`
	// Factor multiplies service times (slowdown). Must be > 0.
	Factor float64 `yaml:"factor"`
	// For is how long the fault lasts; 0 means to the end of the run
	// (crash then never restarts unless a restart fault follows).
	For time.Duration `yaml:"for"`
	// Loss is the share of reports lost (lost-reports). Default 1.
	Loss float64 `yaml:"loss"`

	// ServerIndex is the resolved instance index (-1 for cluster faults).
	ServerIndex int `yaml:"-"`
}

// Variant is the same scenario with other settings.
type Variant struct {
	// Name of the variant; sub-directory name in results.
	Name string `yaml:"name"`
	// Set maps dotted paths to values, as --set does.
	Set map[string]string `yaml:"set"`
	// Thresholds override the scenario's thresholds by metric in this
	// variant.
	Thresholds map[string]string `yaml:"thresholds"`
}

// Instance is one server of the expanded cluster.
type Instance struct {
	// Index is the server's index, 0-based, in file order.
	Index int
	// Name is "<group>-<i>".
	Name string
	// Group is the group the instance belongs to.
	Group *ServerGroup
}
