package server_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/redirlab/redirlab/scenarios"
	"github.com/redirlab/redirlab/server"
)

// Start a scenario's servers and manager on 127.0.0.1 and ask one server
// for a page. A browser would follow a redirect itself; this client does
// not, to show what the server answered.
func ExampleNewCluster() {
	sc, err := scenarios.Parse("two.yaml", []byte(`name: two
duration: 1s
servers:
  - {name: web, count: 2, workers: 2, service: {dist: const, mean: 1ms}}
manager: {report_interval: 10ms}
policy: {condition: queue-length, threshold: 4}
workload:
  arrival: {process: poisson, rate: 100/s}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := server.NewCluster(sc, server.ClusterOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := c.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	client := &http.Client{
		Timeout:       5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Get(c.URLs()[1] + "/page")
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("X-Redirlab-Server"), resp.ContentLength)
	// Output:
	// 200 web-2 2048
}

// The redirect target is always a registered peer: here the server is
// given its peer's URL and a view in which that peer is up, and is
// overloaded (threshold 0 with one request held), so it redirects.
func ExampleServer_ServeHTTP() {
	sc, err := scenarios.Parse("hot.yaml", []byte(`name: hot
duration: 1s
servers:
  - {name: hot, workers: 1, service: {dist: const, mean: 1h}}
  - {name: cool, workers: 1, service: {dist: const, mean: 0s}}
policy: {condition: queue-length, threshold: 0}
workload:
  arrival: {process: poisson, rate: 1/s}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	hot, err := server.New(server.Config{Scenario: sc, Index: 0, Peers: []string{"", "http://127.0.0.1:8081"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := hot.Start(); err != nil {
		fmt.Println(err)
		return
	}
	defer hot.Close()
	hot.SetView(&server.ViewMessage{Servers: []server.ServerView{
		{StatusMessage: server.StatusMessage{Name: "hot", Workers: 1, Up: true}},
		{StatusMessage: server.StatusMessage{Name: "cool", Server: 1, Workers: 1, Up: true}},
	}})
	go http.Get(hot.URL() + "/page") // held for an hour (until Close)
	for hot.Status().InService == 0 {
		time.Sleep(time.Millisecond)
	}

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(hot.URL() + "/page?id=7")
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Location"))
	// Output:
	// 302 http://127.0.0.1:8081/page?id=7&redirlab_hop=1
}
