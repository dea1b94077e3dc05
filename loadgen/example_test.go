package loadgen_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/redirlab/redirlab/loadgen"
	"github.com/redirlab/redirlab/results"
	"github.com/redirlab/redirlab/scenarios"
)

// Run drives servers that are already running. Here two loopback servers
// mimic redirlab's conventions: web-1 redirects every fresh request to
// web-2. Round-robin dispatch sends half the browsers to web-1, so half
// the page requests are redirected; every hop is in the records.
func ExampleRun() {
	var urls []string
	for i := range 2 {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set(loadgen.ServerHeader, fmt.Sprintf("web-%d", i+1))
			if i == 0 && r.URL.Query().Get("redirlab_hop") == "" {
				http.Redirect(w, r, urls[1]+r.URL.Path+"?redirlab_hop=1", http.StatusFound)
				return
			}
			w.Write([]byte("page"))
		}))
		defer s.Close()
		urls = append(urls, s.URL)
	}
	sc, err := scenarios.Parse("example.yaml", []byte(strings.TrimSpace(`
name: example
duration: 1s
servers:
  - {name: web, count: 2, service: {dist: const, mean: 1ms}}
workload:
  dispatch: round-robin
  arrival: {process: constant, rate: 20/s}
`)))
	if err != nil {
		fmt.Println(err)
		return
	}
	rec, err := results.NewRecorder(sc, results.Real, results.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := loadgen.Run(context.Background(), sc, urls, rec, loadgen.Options{}); err != nil {
		fmt.Println(err)
		return
	}
	sum, err := rec.Close()
	if err != nil {
		fmt.Println(err)
		return
	}
	q := sum.Requests
	fmt.Printf("sent %d, completed %d, redirect rate %.2f, redirects %d\n", q.Sent, q.Completed, sum.Redirects.Rate, sum.Redirects.Total)
	// Output: sent 20, completed 20, redirect rate 0.50, redirects 10
}
