package results

import (
	"testing"
	"time"
)

// BenchmarkRecorderAdd measures Add on a simulator-like stream: 3 million
// completions per second of run time, a quarter redirected, one in twenty
// rejected. NoRecords is what sim --no-records pays per request; Records
// adds the requests.csv row.
func BenchmarkRecorderAdd(b *testing.B) {
	for _, c := range []struct {
		name string
		opts func(b *testing.B) Options
	}{
		{"NoRecords", func(*testing.B) Options { return Options{} }},
		{"Records", func(b *testing.B) Options { return Options{Dir: b.TempDir()} }},
	} {
		b.Run(c.name, func(b *testing.B) {
			sc := testScenario()
			r := newTestRecorder(b, sc, c.opts(b))
			q := Request{Sent: sc.Warmup, Status: 200, First: 0, Final: 1}
			q.AddHop(Hop{Server: 0, Status: 302})
			q.AddHop(Hop{Server: 1, Status: 200})
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				q.ID = uint64(i)
				q.Scheduled = sc.Warmup + time.Duration(i)*333*time.Nanosecond
				q.Sent = q.Scheduled
				q.Done = q.Scheduled + time.Duration(200+i%5000)*time.Microsecond
				q.Hops[0].At = q.Scheduled + 200*time.Microsecond
				q.Hops[1].At = q.Done
				q.Redirects = 0
				if i%4 == 0 {
					q.Redirects = 1
				}
				q.Outcome = Completed
				if i%20 == 0 {
					q.Outcome = Rejected
				}
				r.Add(&q)
			}
			b.StopTimer()
			if _, err := r.Close(); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkAggregatorAdd is the aggregation alone, per record, on the
// stream of BenchmarkRecorderAdd: no lock, no CSV. Compare runs with
// benchstat.
func BenchmarkAggregatorAdd(b *testing.B) {
	sc := testScenario()
	a, err := NewAggregator(sc, Sim)
	if err != nil {
		b.Fatal(err)
	}
	q := Request{Sent: sc.Warmup, Status: 200, First: 0, Final: 1}
	q.AddHop(Hop{Server: 0, Status: 302})
	q.AddHop(Hop{Server: 1, Status: 200})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		q.ID = uint64(i)
		q.Scheduled = sc.Warmup + time.Duration(i)*333*time.Nanosecond
		q.Sent = q.Scheduled
		q.Done = q.Scheduled + time.Duration(200+i%5000)*time.Microsecond
		q.Redirects = 0
		if i%4 == 0 {
			q.Redirects = 1
		}
		q.Outcome = Completed
		if i%20 == 0 {
			q.Outcome = Rejected
		}
		a.Add(&q)
	}
	b.StopTimer()
	if _, err := a.Close(); err != nil {
		b.Fatal(err)
	}
}
