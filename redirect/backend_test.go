package redirect_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redirlab/redirlab/dist"
)

// The backend: this test binary re-executed with backendEnv set. It
// listens on 127.0.0.1, prints its address, and answers each request
// after work drawn from the request's demand (exponential), the same for
// a request wherever it lands: with backendEnv=cpu, hashing a 4 KiB
// block (mean backendRounds rounds: real CPU work); with
// backendEnv=sleep, sleeping (mean backendSleep), an answer time that
// does not depend on the machine's load.
const (
	backendEnv    = "REDIRLAB_TEST_BACKEND"
	backendRounds = 1000
	backendSleep  = 6 * time.Millisecond
)

func runBackend() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(ln.Addr().String())
	block := make([]byte, 4096)
	err = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := 0.5
		if id, err := strconv.ParseUint(r.URL.Query().Get("redirlab_req"), 10, 64); err == nil {
			u = dist.Uniform(1, id, 0)
		}
		w.Header().Set("Content-Type", "text/plain")
		if os.Getenv(backendEnv) == "sleep" {
			d := time.Duration(-math.Log(1-u) * float64(backendSleep))
			time.Sleep(d)
			fmt.Fprintf(w, "slept %v\n", d)
			return
		}
		rounds := int(-math.Log(1-u)*backendRounds) + 1
		sum := sha256.Sum256(block)
		for range rounds {
			copy(block, sum[:])
			sum = sha256.Sum256(block)
		}
		fmt.Fprintf(w, "%x %d\n", sum[:4], rounds)
	}))
	fmt.Fprintln(os.Stderr, err)
	return 1
}

// startBackend starts the backend of the kind (cpu or sleep) in another
// process and returns its base URL; it is killed when the test ends.
func startBackend(t *testing.T, kind string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), backendEnv+"="+kind)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	addr := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		addr <- strings.TrimSpace(line)
	}()
	select {
	case a := <-addr:
		if a == "" {
			t.Fatal("the backend printed no address")
		}
		return "http://" + a
	case <-time.After(10 * time.Second):
		t.Fatal("the backend did not start within 10s")
	}
	return ""
}
