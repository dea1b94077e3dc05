package runner

import (
	"os"
	"testing"

	"github.com/redirlab/redirlab/internal/leaktest"
)

// TestMain fails the package's tests if a run leaves its cluster,
// generator or writers running.
func TestMain(m *testing.M) { os.Exit(leaktest.Main(m)) }
