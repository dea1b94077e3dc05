package server

import (
	"math"
	"time"

	"github.com/redirlab/redirlab/internal/alarm"
)

// This file ends services. One goroutine per server, the completer,
// keeps the services in progress in a min-heap by scheduled end, sleeps
// until the earliest, finishes every service that is due (handing each
// freed worker to the oldest waiter, whose end joins the heap) and wakes
// their handlers. It sleeps on a Go timer and an alarm (a timerfd) at
// once: Go timers fire up to 1 ms late when the process is idle, which
// would make every response leave half a millisecond late on average.
// One sleeper for the whole server keeps one timerfd per server and
// costs a handler no more than one wake-up, at the end of its service.

// never is a wake-up time that is never reached.
const never = time.Duration(math.MaxInt64)

// completerLinger is how long an idle completer waits for work before it
// ends; the next service starts another. It saves starting one per
// request on a lightly loaded server.
const completerLinger = time.Second

// waiter is one admitted request's handle: in the machine's queue while
// it waits, in the server's heap while in service. Its handler receives
// on ch when the service has finished (the time, since run start).
type waiter struct {
	ch    chan time.Duration
	end   time.Duration // scheduled end of service, once in service
	epoch uint64        // incarnation that admitted the request
	page  bool
}

// endHeap is a binary min-heap of waiters in service by end.
type endHeap []*waiter

func (h *endHeap) push(w *waiter) {
	*h = append(*h, w)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s[p].end <= s[i].end {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

// pop removes and returns the waiter with the earliest end; h is not empty.
func (h *endHeap) pop() *waiter {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s[n] = nil // drop the handle for the garbage collector
	s = s[:n]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < n && s[l].end < s[m].end {
			m = l
		}
		if r := l + 1; r < n && s[r].end < s[m].end {
			m = r
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// inServiceLocked hands w, just put in service until w.end, to the
// completer, starting one if none runs. s.mu is held.
func (s *Server) inServiceLocked(w *waiter) {
	s.ends.push(w)
	if !s.completing {
		s.completing = true
		s.completerDone = make(chan struct{})
		go s.complete(s.completerDone)
		return
	}
	if w.end < s.wakeAt {
		// The completer sleeps past this end: wake it to sleep less.
		s.wakeAt = w.end
		s.kickLocked()
	}
}

// kickLocked makes the completer look again at once. s.mu is held.
func (s *Server) kickLocked() {
	select {
	case s.kick <- struct{}{}:
	default: // already kicked
	}
}

// complete is the completer. It ends after completerLinger without
// services in progress, or at once when the server is closed.
func (s *Server) complete(done chan struct{}) {
	defer close(done)
	var al *alarm.Alarm
	var tick <-chan struct{}
	if !s.cfg.NoAlarm {
		// Without an alarm (not Linux), the Go timer alone.
		if a, err := alarm.New(); err == nil {
			al, tick = a, a.C()
			defer a.Close()
		}
	}
	timer := time.NewTimer(never)
	defer timer.Stop()
	idleSince := never
	for {
		s.mu.Lock()
		now := s.now()
		s.finishDueLocked(now)
		wake := never
		switch {
		case len(s.ends) > 0:
			wake, idleSince = s.ends[0].end, never
		case s.closed || (idleSince != never && now-idleSince >= completerLinger):
			s.completing = false
			s.mu.Unlock()
			return
		case idleSince == never:
			idleSince = now
		}
		s.wakeAt = wake
		s.mu.Unlock()

		var d time.Duration
		if wake == never {
			d = idleSince + completerLinger - s.now()
		} else {
			d = wake - s.now()
			if d <= 0 {
				continue
			}
			if al != nil {
				al.Set(d) // prompt when the process is idle
			}
		}
		timer.Reset(d) // prompt when the process is busy
		select {
		case <-timer.C:
		case <-tick: // maybe stale: the loop looks at the time
		case <-s.kick:
		}
	}
}

// finishDueLocked finishes every service whose end is at or before now,
// in order of end, and wakes their handlers. A waiter handed a worker
// starts when the previous service was due to end (model.Server.Finish), so a
// late completer does not stretch services: one whose end has passed as
// well finishes in the same call. s.mu is held.
func (s *Server) finishDueLocked(now time.Duration) {
	for len(s.ends) > 0 && s.ends[0].end <= now {
		w := s.ends.pop()
		next, nextEnd, ok := s.m.Finish(now, w.epoch, w.page, w.end, w)
		if ok {
			next.end, next.epoch = nextEnd, w.epoch
			s.ends.push(next)
		}
		w.ch <- now // buffered, and each waiter is sent to once
	}
}
