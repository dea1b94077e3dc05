package server

import (
	"os"
	"testing"

	"github.com/redirlab/redirlab/internal/leaktest"
)

// TestMain fails the package's tests if a server, agent, completer or
// manager outlives them.
func TestMain(m *testing.M) { os.Exit(leaktest.Main(m)) }
