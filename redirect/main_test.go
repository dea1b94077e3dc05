package redirect_test

import (
	"os"
	"testing"

	"github.com/redirlab/redirlab/internal/leaktest"
)

// TestMain runs the CPU backend when the test binary is re-executed as
// one (backend_test.go), and otherwise fails the tests if a front,
// middleware or agent outlives them.
func TestMain(m *testing.M) {
	if os.Getenv(backendEnv) != "" {
		os.Exit(runBackend())
	}
	os.Exit(leaktest.Main(m))
}
