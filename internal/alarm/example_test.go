package alarm_test

import (
	"fmt"
	"time"

	"github.com/redirlab/redirlab/internal/alarm"
)

// A precise sleep: wait on a Go timer (prompt when the process is busy)
// and an alarm (prompt when it is idle) set for the same due time, and
// look at the clock after either, since a tick may be a stale one.
func Example() {
	a, err := alarm.New()
	var tick <-chan struct{} // nil without an alarm: the timer alone
	if err == nil {
		defer a.Close()
		tick = a.C()
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()

	due := time.Now().Add(2 * time.Millisecond)
	for {
		d := time.Until(due)
		if d <= 0 {
			break
		}
		if a != nil {
			a.Set(d)
		}
		timer.Reset(d)
		select {
		case <-timer.C:
		case <-tick:
		}
	}
	fmt.Println("due time reached")
	// Output: due time reached
}
