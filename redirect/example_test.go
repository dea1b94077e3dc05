package redirect_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/redirlab/redirlab/redirect"
	"github.com/redirlab/redirlab/scenarios"
	"github.com/redirlab/redirlab/server"
)

// Put redirlab in front of two ordinary net/http handlers, with a real
// manager on 127.0.0.1. web-1 has one worker and room for one request:
// while its worker is busy the queue-length condition holds, and a page
// request is redirected to web-2, which the manager's view says is up.
func Example() {
	sc, err := scenarios.Parse("pair.yaml", []byte(`name: pair
duration: 1s
servers:
  - {name: web, count: 2, workers: 1, queue_capacity: 1, service: {dist: const}}
manager: {report_interval: 10ms}
policy: {condition: queue-length, threshold: 0}
workload:
  arrival: {process: poisson, rate: 1/s}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := server.NewManager(server.ManagerConfig{Scenario: sc})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := m.Start(); err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()

	busy, release := make(chan struct{}), make(chan struct{})
	var urls []string
	for _, name := range []string{"web-1", "web-2"} {
		app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if name == "web-1" && r.URL.Query().Get("slow") == "1" {
				close(busy)
				<-release
			}
			// The application never sees redirlab's hop counter.
			fmt.Fprintf(w, "hello from %s, query %q", name, r.URL.RawQuery)
		})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Println(err)
			return
		}
		mw, err := redirect.New(redirect.Config{Scenario: sc, Server: name, Advertise: "http://" + ln.Addr().String(), ManagerURL: m.URL()}, app)
		if err != nil {
			fmt.Println(err)
			return
		}
		urls = append(urls, "http://"+ln.Addr().String())
		srv := &http.Server{Handler: mw}
		go srv.Serve(ln)
		defer srv.Close()
		if err := mw.Start(); err != nil {
			fmt.Println(err)
			return
		}
		defer mw.Close()
	}
	web1 := urls[0]

	// Keep web-1's one worker busy.
	go func() {
		if resp, err := http.Get(web1 + "/page?slow=1"); err == nil {
			resp.Body.Close()
		}
	}()
	<-busy
	defer close(release)

	client := &http.Client{
		Timeout:       5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	// Until web-1's view shows web-2 up, its full queue rejects (503).
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		resp, err := client.Get(web1 + "/page?user=7")
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			continue
		}
		loc := resp.Header.Get("Location")
		fmt.Println(resp.StatusCode, "from", resp.Header.Get("X-Redirlab-Server"), "to web-2:", strings.HasPrefix(loc, urls[1]+"/page?"))
		fmt.Println("location query:", loc[strings.Index(loc, "?"):])
		resp, err = client.Get(loc)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, "from", resp.Header.Get("X-Redirlab-Server")+":", string(body))
		return
	}
	fmt.Println("no redirect within 5s")
	// Output:
	// 302 from web-1 to web-2: true
	// location query: ?user=7&redirlab_hop=1
	// 200 from web-2: hello from web-2, query "user=7"
}
