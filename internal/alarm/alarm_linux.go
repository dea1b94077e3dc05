package alarm

import (
	"time"

	"golang.org/x/sys/unix"
)

// create makes a non-blocking timerfd on CLOCK_MONOTONIC, the clock Go's
// monotonic readings (time.Now, time.Since) come from, so an alarm never
// fires before a duration measured with them has passed.
func create() (int, error) {
	return unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
}

// settime arms fd to expire once, d (> 0) from now.
func settime(fd int, d time.Duration) error {
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	return unix.TimerfdSettime(fd, 0, &spec, nil)
}
