package policy_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/redirlab/redirlab/policy"
)

// A server holding more requests than the threshold redirects the arrival
// to the least loaded peer of the manager's last view.
func ExampleConfig_Decide() {
	cfg := policy.Config{
		Condition:       policy.QueueLength,
		LengthThreshold: 8,
		Target:          policy.LeastLoaded,
		MaxHops:         1,
		Fraction:        1,
	}
	view := policy.View{Servers: []policy.Status{
		{Server: 0, QueueLength: 12, Workers: 4, Up: true},
		{Server: 1, QueueLength: 6, Workers: 4, Up: true},
		{Server: 2, QueueLength: 2, Workers: 4, Up: true},
	}}
	self := policy.Status{Server: 0, QueueLength: 12, Workers: 4, Up: true}
	rng := rand.New(rand.NewPCG(1, 1))

	fmt.Println(cfg.Decide(self, view, 0, 0, rng)) // first arrival: redirect
	fmt.Println(cfg.Decide(self, view, 1, 0, rng)) // already redirected once: serve
	// Output:
	// {true 2 false}
	// {false -1 false}
}
