package loadgen

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// fdAlarm wakes the pacer at a precise time through a timerfd read by the
// netpoller. Go timers fire up to 1 ms late when the process is idle (the
// netpoller waits in whole milliseconds, rounding sub-millisecond waits up
// to 1 ms), but a file descriptor becoming readable ends that wait at
// once. The pacer waits on both: the Go timer is prompt when the process
// is busy, the timerfd when it is idle. Waiting this way releases the P,
// so a worker just handed a request runs at once.
type fdAlarm struct {
	fd   int
	file *os.File
	tick chan struct{}
	done chan struct{}
}

// newAlarm returns nil if timerfds are not available; the pacer then
// spins before due times instead.
func newAlarm() alarm {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil
	}
	a := &fdAlarm{fd: fd, file: os.NewFile(uintptr(fd), "loadgen-timerfd"), tick: make(chan struct{}, 1), done: make(chan struct{})}
	go a.read()
	return a
}

func (a *fdAlarm) read() {
	defer close(a.done)
	var buf [8]byte
	for {
		if _, err := a.file.Read(buf[:]); err != nil {
			return // closed
		}
		select {
		case a.tick <- struct{}{}:
		default: // a tick is already waiting
		}
	}
}

// set arms the alarm to fire once, d from now.
func (a *fdAlarm) set(d time.Duration) {
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(max(int64(d), 1))}
	unix.TimerfdSettime(a.fd, 0, &spec, nil)
}

func (a *fdAlarm) C() <-chan struct{} { return a.tick }

func (a *fdAlarm) close() {
	a.file.Close()
	<-a.done
}
