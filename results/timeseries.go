package results

import (
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Second is one row of timeseries.csv: the counted page requests that
// finished (by Request.Done) within one second of the measured window.
// Seconds run from the end of the warmup, one row per second up to the
// last request's completion, empty seconds included.
//
// Columns, in order:
//
//	t_s         T: start of the second, since run start (warmup included)
//	requests    Requests: records that finished in the second, any outcome
//	completed   Completed
//	errors      Errors (timeouts included, as in summary.json)
//	rejected    Rejected
//	shed        Shed
//	timeouts    Timeouts (a subset of errors)
//	redirected  Redirected: requests redirected at least once
//	redirects   Redirects: redirects (hops) of those requests
//	p50_ms      P50 latency of the completed requests, 1% resolution
//	p99_ms      P99 likewise
//	max_ms      Max latency of the completed requests, exact
//
// The three latency cells are empty in a second without completions (read
// back as 0).
//
// Redirect rate in a second is redirected / requests; throughput is
// completed per second.
type Second struct {
	T                                                                            time.Duration
	Requests, Completed, Errors, Rejected, Shed, Timeouts, Redirected, Redirects int64
	P50, P99, Max                                                                time.Duration
}

// openSeconds is how many of the latest seconds keep a latency histogram
// open: a completion may be recorded up to openSeconds-1 seconds after
// newer ones (concurrent recorders in real runs) and still count in its
// second's percentiles.
const openSeconds = 8

// series builds the per-second time series while recording.
type series struct {
	start time.Duration // warmup: second 0 starts here
	limit int           // highest second index kept; later ones are clamped
	secs  []Second
	open  [openSeconds]openSecond
	// late counts completions whose second's histogram had been closed:
	// they count in every column but p50/p99.
	late int64
	// beyond counts records that finished after the limit and were
	// counted in the last second kept.
	beyond int64
	// The second of the latest record, [curFrom, curTo): records come
	// mostly in completion order, so most fall in it again.
	cur            int
	curFrom, curTo time.Duration
	curRow         *Second // &secs[cur], kept so that add skips second
}

type openSecond struct {
	sec int // second index held, -1 when free
	h   *hdr.Histogram
}

func newSeries(warmup, duration time.Duration) *series {
	s := &series{
		start: warmup,
		// One hour past the end is more than any timeout; a Done beyond
		// that is a broken record, not a reason to allocate without bound.
		limit: int((duration+time.Hour)/time.Second) + 1,
		secs:  make([]Second, 0, int(duration/time.Second)+2),
	}
	for i := range s.open {
		s.open[i] = openSecond{sec: -1, h: newSecondHistogram()}
	}
	return s
}

// second returns the row for a completion time outside the current
// second, growing the series.
func (s *series) second(done time.Duration) (int, *Second) {
	i := 0
	if done > s.start {
		i = int((done - s.start) / time.Second)
	}
	if i > s.limit {
		i = s.limit
		s.beyond++
	}
	for len(s.secs) <= i {
		s.secs = append(s.secs, Second{T: s.start + time.Duration(len(s.secs))*time.Second})
	}
	if i < s.limit && done >= s.start {
		s.cur, s.curFrom, s.curTo = i, s.secs[i].T, s.secs[i].T+time.Second
	}
	if s.curTo > s.curFrom {
		s.curRow = &s.secs[s.cur] // secs may have moved
	}
	return i, &s.secs[i]
}

// add counts one record; lat is its histogram value (completed only).
func (s *series) add(q *Request, lat int64) {
	i, row := s.cur, s.curRow
	if q.Done < s.curFrom || q.Done >= s.curTo {
		i, row = s.second(q.Done)
	}
	row.Requests++
	switch q.Outcome {
	case Completed:
		row.Completed++
		if d := time.Duration(lat); d > row.Max {
			row.Max = d
		}
		o := &s.open[uint(i)%openSeconds] // i >= 0: a mask
		if o.sec != i {
			if o.sec > i {
				s.late++
				break
			}
			s.flush(o)
			o.sec = i
		}
		_ = o.h.RecordValue(lat) // lat is in range: clampHist
	case Rejected:
		row.Rejected++
	case Shed:
		row.Shed++
	case Timeout:
		row.Errors++
		row.Timeouts++
	default:
		row.Errors++
	}
	if q.Redirects >= 1 {
		row.Redirected++
		row.Redirects += int64(q.Redirects)
	}
}

// flush writes an open second's percentiles and frees its histogram.
func (s *series) flush(o *openSecond) {
	if o.sec >= 0 && o.h.TotalCount() > 0 {
		row := &s.secs[o.sec]
		row.P50 = min(quantile(o.h, 0.50), row.Max)
		row.P99 = min(quantile(o.h, 0.99), row.Max)
		o.h.Reset()
	}
	o.sec = -1
}

// finish closes every open second; the series is complete afterwards.
func (s *series) finish() []Second {
	for i := range s.open {
		s.flush(&s.open[i])
	}
	return s.secs
}
