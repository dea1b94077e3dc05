package loadgen

import (
	"testing"
	"time"
)

func TestGCEffect(t *testing.T) {
	long(t)
	url := plainServer(t)
	for _, rate := range []float64{6000, 12000} {
		t.Log(measureOpen(t, url, "poisson", rate, 4*time.Second, Options{Transport: Transport{Pools: 4, MaxConnsPerHost: 16}}))
	}
}
