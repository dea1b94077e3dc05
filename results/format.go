package results

import (
	"strconv"
	"time"
)

// The files of a results directory. Every number carries its unit in the
// column name; times are seconds since run start (warmup included) with 6
// decimals, durations are milliseconds with 3 decimals, so every time in
// every file has microsecond resolution. Columns are read by name, so a
// reader tolerates columns added later.
const (
	// SummaryFile is summary.json: the Summary, indented, fields in the
	// order of the Summary struct, figures rounded (milliseconds to 3
	// decimals, rates and ratios to 6) so the same run gives the same bytes.
	// It is written last: a directory with summary.json is complete.
	SummaryFile = "summary.json"

	// RequestsFile is requests.csv, one row per counted page request (those
	// scheduled at or after the warmup), in the order they were recorded:
	//
	//	id             Request.ID
	//	scheduled_s    when the request was due
	//	sent_lag_ms    actual minus scheduled send time
	//	latency_ms     scheduled time to final response (or error)
	//	outcome        completed | error | rejected | timeout | interrupted | shed
	//	status         final HTTP status, 0 for transport errors
	//	redirects      redirects followed
	//	first          server dispatched to ("" when unknown)
	//	final          server that answered last ("" when unknown)
	//	nhops          HTTP exchanges made (may exceed the 8 listed in hops)
	//	hops           exchanges as server:status joined by '>', e.g. web-1:302>web-3:200
	//	hop_times_ms   when each listed hop's response arrived, since scheduled, joined by '>'
	//	objects        embedded objects fetched after the page
	//	objects_ms     scheduled time to the last object ("" when objects is 0)
	//
	// It is absent with Options.NoRecords.
	RequestsFile = "requests.csv"

	// ServersFile is servers.csv, one row per ServerSample in arrival
	// order, warmup included; on a long run whose scenario leaves
	// sample_interval at its default, one row per ServersEvery samples of
	// a server (the summary's notes then give the interval written):
	//
	//	t_s                      sampling tick
	//	server                   instance name (web-1)
	//	queue_length             waiting plus in service
	//	in_service               being served
	//	queue_delay_ms           by the configured estimator
	//	served                   page requests served since the previous tick
	//	redirected               redirected since the previous tick
	//	rejected                 rejected since the previous tick
	//	up                       1 while up, 0 while crashed
	//	reported_queue_length    what the manager's view says (stale by up to one report interval)
	//	reported_queue_delay_ms  likewise
	//	busy_ms                  worker-time spent serving since the previous tick, summed over workers
	ServersFile = "servers.csv"

	// TimeseriesFile is timeseries.csv: see Second for its columns.
	TimeseriesFile = "timeseries.csv"

	// ScenarioFile is scenario.yaml: the scenario exactly as run, all
	// defaults filled.
	ScenarioFile = "scenario.yaml"
)

var (
	requestsHeader = []string{"id", "scheduled_s", "sent_lag_ms", "latency_ms", "outcome", "status",
		"redirects", "first", "final", "nhops", "hops", "hop_times_ms", "objects", "objects_ms"}
	serversHeader = []string{"t_s", "server", "queue_length", "in_service", "queue_delay_ms", "served",
		"redirected", "rejected", "up", "reported_queue_length", "reported_queue_delay_ms", "busy_ms"}
	timeseriesHeader = []string{"t_s", "requests", "completed", "errors", "rejected", "shed", "timeouts",
		"redirected", "redirects", "p50_ms", "p99_ms", "max_ms"}
)

// appendHeader writes a CSV header line.
func appendHeader(b []byte, cols []string) []byte {
	for i, c := range cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, c...)
	}
	return append(b, '\n')
}

// micros rounds a duration to whole microseconds, half away from zero.
func micros(d time.Duration) int64 {
	if d < 0 {
		return -((-int64(d) + 500) / 1000)
	}
	return (int64(d) + 500) / 1000
}

// appendMillis writes d in milliseconds with 3 decimals (microseconds).
func appendMillis(b []byte, d time.Duration) []byte {
	return appendFixed(b, micros(d), 3)
}

// appendSeconds writes d in seconds with 6 decimals (microseconds).
func appendSeconds(b []byte, d time.Duration) []byte {
	return appendFixed(b, micros(d), 6)
}

var pow10 = [...]int64{1, 10, 100, 1000, 10000, 100000, 1000000}

// appendFixed writes v / 10^dec with exactly dec decimals, without going
// through floating point (and without fmt: it runs once per request).
func appendFixed(b []byte, v int64, dec int) []byte {
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	p := pow10[dec]
	b = strconv.AppendInt(b, v/p, 10)
	b = append(b, '.')
	frac := v % p
	for p /= 10; p > 0; p /= 10 {
		b = append(b, byte('0'+frac/p%10))
	}
	return b
}

// appendRequest writes one requests.csv row. names maps server indices to
// instance names.
func appendRequest(b []byte, q *Request, names []string) []byte {
	b = strconv.AppendUint(b, q.ID, 10)
	b = append(b, ',')
	b = appendSeconds(b, q.Scheduled)
	b = append(b, ',')
	b = appendMillis(b, q.SendLag())
	b = append(b, ',')
	b = appendMillis(b, q.Latency())
	b = append(b, ',')
	b = append(b, q.Outcome.String()...)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(q.Status), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(q.Redirects), 10)
	b = append(b, ',')
	b = append(b, serverName(names, q.First)...)
	b = append(b, ',')
	b = append(b, serverName(names, q.Final)...)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(q.NHops), 10)
	b = append(b, ',')
	n := min(max(q.NHops, 0), MaxRecordedHops)
	for i := range n {
		if i > 0 {
			b = append(b, '>')
		}
		b = append(b, serverName(names, int(q.Hops[i].Server))...)
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(q.Hops[i].Status), 10)
	}
	b = append(b, ',')
	for i := range n {
		if i > 0 {
			b = append(b, '>')
		}
		b = appendMillis(b, q.Hops[i].At-q.Scheduled)
	}
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(q.Objects), 10)
	b = append(b, ',')
	if q.Objects > 0 {
		b = appendMillis(b, q.ObjectsDone-q.Scheduled)
	}
	return append(b, '\n')
}

// appendSample writes one servers.csv row.
func appendSample(b []byte, s *ServerSample, name string) []byte {
	b = appendSeconds(b, s.At)
	b = append(b, ',')
	b = append(b, name...)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(s.QueueLength), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(s.InService), 10)
	b = append(b, ',')
	b = appendMillis(b, s.QueueDelay)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(s.Served), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(s.Redirected), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(s.Rejected), 10)
	b = append(b, ',')
	if s.Up {
		b = append(b, '1')
	} else {
		b = append(b, '0')
	}
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(s.ReportedQueueLength), 10)
	b = append(b, ',')
	b = appendMillis(b, s.ReportedQueueDelay)
	b = append(b, ',')
	b = appendMillis(b, s.BusyTime)
	return append(b, '\n')
}

// appendSecond writes one timeseries.csv row.
func appendSecond(b []byte, s *Second) []byte {
	b = appendSeconds(b, s.T)
	for _, v := range [...]int64{s.Requests, s.Completed, s.Errors, s.Rejected, s.Shed, s.Timeouts, s.Redirected, s.Redirects} {
		b = append(b, ',')
		b = strconv.AppendInt(b, v, 10)
	}
	for _, d := range [...]time.Duration{s.P50, s.P99, s.Max} {
		b = append(b, ',')
		if s.Completed > 0 {
			b = appendMillis(b, d)
		}
	}
	return append(b, '\n')
}

// serverName is the instance name of index i, "" when i is not a server
// (-1: unknown).
func serverName(names []string, i int) string {
	if i < 0 || i >= len(names) {
		return ""
	}
	return names[i]
}
