// Package alarm wakes a goroutine at a precise time when the process is
// idle, where a Go timer would be up to a millisecond late.
//
// On Linux the Go runtime, with nothing to run, waits in the netpoller
// (epoll_wait) for its next timer, and that wait counts whole
// milliseconds: a sub-millisecond wait is rounded up to 1 ms, so an idle
// process's timers fire on average about half a millisecond late. A file
// descriptor becoming readable ends that wait at once. An Alarm is a
// timerfd (CLOCK_MONOTONIC, the clock behind Go's monotonic time) read by
// the netpoller: armed for a due time, it ticks on C promptly.
//
// When the process is busy the opposite holds: every scheduling round
// runs due Go timers, while a readable descriptor may wait for a
// processor to go idle. So a waiter selects on both an Alarm and a Go
// timer set for the same time, and acts on whichever comes first (see the
// example). Waiting this way blocks the goroutine (no thread is held, no
// spinning).
//
// Timerfds are Linux only: elsewhere New returns an error wrapping
// errors.ErrUnsupported and callers wait on their Go timer alone.
//
// An Alarm reads its descriptor in a goroutine of its own, which is not
// durably blocked in the sense of testing/synctest: do not use one inside
// a synctest bubble (virtual time would stand still), wait on the Go timer
// alone there.
package alarm

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// Alarm is a one-shot wake-up that can be re-armed. Set and C may be used
// from any goroutine; Close releases it.
type Alarm struct {
	file *os.File
	raw  syscall.RawConn
	tick chan struct{}
	done chan struct{}
}

// New returns an unarmed alarm. It fails (wrapping errors.ErrUnsupported
// outside Linux) when no timerfd can be made.
func New() (*Alarm, error) {
	fd, err := create()
	if err != nil {
		return nil, fmt.Errorf("alarm: %w", err)
	}
	// The descriptor is non-blocking, so os.NewFile hands it to the
	// netpoller: a Read parks the goroutine instead of a thread.
	file := os.NewFile(uintptr(fd), "alarm-timerfd")
	raw, err := file.SyscallConn()
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("alarm: %w", err)
	}
	a := &Alarm{file: file, raw: raw, tick: make(chan struct{}, 1), done: make(chan struct{})}
	go a.read()
	return a, nil
}

// read turns each expiry of the timerfd into a tick, until Close.
func (a *Alarm) read() {
	defer close(a.done)
	var buf [8]byte // the number of expiries; one is all that matters
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

// Set arms the alarm to fire once, d from now (d <= 0: at once),
// replacing any earlier setting. It fails only after Close.
func (a *Alarm) Set(d time.Duration) error {
	var err error
	// Control keeps the descriptor open during the call: after Close the
	// number may belong to another file.
	if cerr := a.raw.Control(func(fd uintptr) { err = settime(int(fd), max(d, 1)) }); cerr != nil {
		return fmt.Errorf("alarm: %w", cerr)
	}
	if err != nil {
		return fmt.Errorf("alarm: %w", err)
	}
	return nil
}

// C receives a tick when the alarm fires. It holds at most one tick, and
// a tick may be left over from an earlier setting that was not waited
// for: a waiter checks the time after a tick rather than trust it.
func (a *Alarm) C() <-chan struct{} { return a.tick }

// Close disarms the alarm, releases its descriptor and waits for its
// reader goroutine to end. A second Close returns an error.
func (a *Alarm) Close() error {
	if err := a.file.Close(); err != nil {
		return fmt.Errorf("alarm: %w", err)
	}
	<-a.done
	return nil
}
