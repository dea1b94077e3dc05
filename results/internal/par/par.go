// Package par runs the writing of a results directory's files and
// figures concurrently, at most a fixed number at a time, and reports
// each file written.
package par

import (
	"runtime"
	"sync"
	"time"
)

// Writing is one writing phase: a bound on the jobs doing work at once
// and a progress callback. A nil *Writing runs at GOMAXPROCS without
// progress. Jobs that only wait for others (a page waiting for its
// figures) hold no slot, so nesting does not deadlock and the bound holds
// for the work itself.
type Writing struct {
	slots    chan struct{}
	stop     <-chan struct{} // closed: start no more work
	stopped  bool
	start    time.Time
	mu       sync.Mutex
	files    int
	progress func(Progress)
}

// Progress is the state of a writing phase after one more file.
type Progress struct {
	// Files written so far.
	Files int
	// File is the one just written.
	File string
	// Elapsed since the phase began.
	Elapsed time.Duration
}

// New starts a writing phase of at most parallel jobs at once (0 or less:
// GOMAXPROCS); progress, when set, is called after every file, never
// concurrently.
func New(parallel int, progress func(Progress)) *Writing {
	if parallel <= 0 {
		parallel = runtime.GOMAXPROCS(0)
	}
	return &Writing{slots: make(chan struct{}, parallel), start: time.Now(), progress: progress}
}

// orDefault is w, or a phase at GOMAXPROCS without progress.
func (w *Writing) orDefault() *Writing {
	if w == nil {
		return New(0, nil)
	}
	return w
}

// StopOn makes the phase start no more work once stop is closed: what
// is being written is finished (every file whole), the rest is left out,
// and Stopped says so.
func (w *Writing) StopOn(stop <-chan struct{}) *Writing {
	w.stop = stop
	return w
}

// Stopped reports whether work was left out because of StopOn.
func (w *Writing) Stopped() bool {
	if w == nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stopped
}

// Stopping reports whether the phase was told to stop, and notes that
// work is being left out: a caller asks before work it may skip (a
// figure, a page), never before work others need.
func (w *Writing) Stopping() bool {
	if w == nil || w.stop == nil {
		return false
	}
	select {
	case <-w.stop:
		w.mu.Lock()
		w.stopped = true
		w.mu.Unlock()
		return true
	default:
		return false
	}
}

// Do runs fn in a slot: at most parallel Do run at once.
func (w *Writing) Do(fn func()) {
	w = w.orDefault()
	w.slots <- struct{}{}
	defer func() { <-w.slots }()
	fn()
}

// Wrote reports a file written.
func (w *Writing) Wrote(file string) {
	if w == nil || w.progress == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.files++
	w.progress(Progress{Files: w.files, File: file, Elapsed: time.Since(w.start)})
}

// Each runs fn(0) .. fn(n-1) concurrently, each in a slot, and returns
// when all are done. Results are the caller's to place by index, so the
// outcome does not depend on the order jobs finish in.
func (w *Writing) Each(n int, fn func(i int)) {
	w = w.orDefault()
	if n == 1 {
		w.Do(func() { fn(0) })
		return
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { w.Do(func() { fn(i) }) })
	}
	wg.Wait()
}

// EachUnlessStopped is Each for jobs that may be left out once the phase
// is stopping (see StopOn): each job not started by then is skipped.
func (w *Writing) EachUnlessStopped(n int, fn func(i int)) {
	w.Each(n, func(i int) {
		if !w.Stopping() {
			fn(i)
		}
	})
}

// All runs fn(0) .. fn(n-1) concurrently without taking slots, for jobs
// that mostly wait on jobs run with Do or Each, and returns when all are
// done.
func All(n int, fn func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { fn(i) })
	}
	wg.Wait()
}
