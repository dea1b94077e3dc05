//go:build !linux

package main

import (
	"os"
	"testing"
)

// TestAcrossNetworkNamespaces needs Linux's network namespaces
// (netns_test.go); elsewhere it skips, or fails where it is required.
func TestAcrossNetworkNamespaces(t *testing.T) {
	const why = "network namespaces are Linux's"
	if os.Getenv("REDIRLAB_REQUIRE_NETNS") == "1" {
		t.Fatalf("REDIRLAB_REQUIRE_NETNS=1, but the network namespace test cannot run: %s", why)
	}
	t.Skipf("network namespace test skipped: %s (set REDIRLAB_REQUIRE_NETNS=1 to make this a failure)", why)
}
