// Package leaktest fails a package's tests when goroutines outlive them:
// a server, agent, manager, browser or pacer left running is a leak.
package leaktest

import (
	"fmt"
	"net/http"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// Main runs m, then fails the run (exit 1) if any goroutine is left.
// Idle kept-alive connections of the tests' own net/http clients are not
// leaks: their transports close them after their idle timeout.
func Main(m *testing.M) int {
	code := m.Run()
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	if err := goleak.Find(
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
	); err != nil && code == 0 {
		fmt.Fprintln(os.Stderr, "goleak:", err)
		code = 1
	}
	return code
}
