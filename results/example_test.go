package results_test

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
)

// A run hands every page request and every server sample to a Recorder,
// then closes it to get the summary and the results directory.
func Example() {
	sc := &scenarios.Scenario{
		Name: "example", Seed: 1, Duration: 10 * time.Second, Warmup: time.Second,
		Servers: []scenarios.ServerGroup{{Name: "web", Count: 2, Workers: 1}},
	}
	dir, _ := os.MkdirTemp("", "redirlab-example")
	defer os.RemoveAll(dir)

	rec, err := results.NewRecorder(sc, results.Sim, results.Options{Dir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	// A request web-1 redirected to web-2, served 12 ms after it was due.
	q := results.Request{ID: 1, Scheduled: 2 * time.Second, Sent: 2 * time.Second, Status: 200, Redirects: 1, First: 0, Final: 1}
	q.AddHop(results.Hop{Server: 0, Status: 302, At: q.Scheduled + 200*time.Microsecond})
	q.AddHop(results.Hop{Server: 1, Status: 200, At: q.Scheduled + 12*time.Millisecond})
	q.Done = q.Scheduled + 12*time.Millisecond
	rec.Add(&q)
	// One that web-2 rejected.
	rec.Add(&results.Request{ID: 2, Scheduled: 3 * time.Second, Sent: 3 * time.Second, Done: 3 * time.Second,
		Outcome: results.Rejected, Status: 503, First: 1, Final: 1})
	rec.AddSample(&results.ServerSample{At: 2 * time.Second, Server: 1, QueueLength: 3, InService: 1, Up: true})

	s, err := rec.Close()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("sent %d completed %d rejected %d, p50 %.3f ms, redirect rate %.2f\n",
		s.Requests.Sent, s.Requests.Completed, s.Requests.Rejected, s.LatencyMS.P50, s.Redirects.Rate)

	_ = results.ReadRequests(dir, func(r *results.Request) error {
		fmt.Println(r.ID, r.Outcome, r.Latency())
		return nil
	})
	_, err = os.Stat(filepath.Join(dir, results.SummaryFile))
	fmt.Println("summary.json written:", err == nil)
	// Output:
	// sent 2 completed 1 rejected 1, p50 12.000 ms, redirect rate 0.50
	// 1 completed 12ms
	// 2 rejected 0s
	// summary.json written: true
}
