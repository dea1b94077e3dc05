package dispatch_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/redirlab/redirlab/dispatch"
)

// A join-the-shortest-queue front end over three servers. The caller says
// what the dispatcher sees: here queue lengths and whether each server is
// up. The shortest queue wins; a down server is skipped however short its
// queue. The random stream is the caller's, seeded as the simulator and
// the load generator seed theirs, (seed, 2).
func ExampleDispatcher_Pick() {
	p, err := dispatch.Parse("jsq")
	if err != nil {
		panic(err)
	}
	d, err := dispatch.New(p, make([]float64, 3)) // one weight per server; jsq reads only how many
	if err != nil {
		panic(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))

	queue := []int64{4, 2, 3}
	up := []bool{true, true, true}
	load := func(i int) (int64, bool) { return queue[i], up[i] }

	fmt.Println(d.Pick(load, rng)) // server 1 has the shortest queue
	up[1] = false
	fmt.Println(d.Pick(load, rng)) // server 1 is down: the next shortest
	// Output:
	// 1
	// 2
}

// Weighted dispatch sends each server a share of the requests
// proportional to its weight; a zero weight receives none. It reads no
// load, so the load function may be nil.
func ExampleNew_weighted() {
	d, err := dispatch.New(dispatch.Weighted, []float64{1, 3, 0})
	if err != nil {
		panic(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	count := make([]int, 3)
	for range 10000 {
		count[d.Pick(nil, rng)]++
	}
	fmt.Printf("about 1/4, 3/4, none: %.2f %.2f %.2f\n",
		float64(count[0])/10000, float64(count[1])/10000, float64(count[2])/10000)
	// Output:
	// about 1/4, 3/4, none: 0.25 0.75 0.00
}

// Parse names the valid policies when it rejects one.
func ExampleParse() {
	_, err := dispatch.Parse("dns")
	fmt.Println(err)
	// Output:
	// unknown dispatch "dns" (want one of random, round-robin, weighted, jsq, p2c)
}
