package sim

import "time"

// kind says what an event does when it fires.
type kind uint8

const (
	// evPage: a browser issues a page request (next page of a session
	// after think time, or a closed-loop browser's next request).
	evPage kind = iota
	// evReach: a request (page or object) reaches its server.
	evReach
	// evDone: a worker finishes serving a request.
	evDone
	// evResponse: a server's answer (page, object, redirect, rejection
	// or error) reaches the browser.
	evResponse
	// evReport: agents report and the manager publishes its view.
	evReport
	// evSample: every server is sampled into the recorder.
	evSample
	// evFault: a fault starts or ends.
	evFault
)

// kindBits is how many low bits of event.key hold the kind.
const kindBits = 4

// event is one scheduled occurrence. Events are ordered by time, then by
// the sequence number they were scheduled with, so that events due at the
// same instant fire in the order they were scheduled (FIFO) and a run is
// a pure function of its scenario and seed.
type event struct {
	at time.Duration
	// key is seq<<kindBits | kind: comparing keys compares sequence
	// numbers, since seq is unique.
	key uint64
	// slot is a request slot, a fault index or unused.
	slot int32
	// gen is the slot's generation when the event was scheduled; a
	// stale event (its slot freed and reused since) is ignored.
	gen uint32
}

func (e *event) kind() kind { return kind(e.key & (1<<kindBits - 1)) }

// before is the event order: time, then sequence number.
func before(a, b *event) bool {
	return a.at < b.at || (a.at == b.at && a.key < b.key)
}

// eventHeap is a binary min-heap of events by (at, seq). It is typed so
// that the hot loop makes no interface calls (container/heap would).
type eventHeap struct {
	ev  []event
	seq uint64
	// popped: ev[0] was returned by pop and is still in place. The next
	// push takes its place with one sift-down (a finishing service most
	// often schedules the next one), instead of a removal and an
	// insertion; the next look at the heap removes it otherwise. Keys are
	// unique, so the order of pops is the same either way.
	popped bool
}

// push schedules an event of kind k at time at, stamping the next
// sequence number.
func (h *eventHeap) push(at time.Duration, k kind, slot int32, gen uint32) {
	h.seq++
	e := event{at: at, key: h.seq<<kindBits | uint64(k), slot: slot, gen: gen}
	if h.popped {
		h.popped = false
		h.down(e)
		return
	}
	h.ev = append(h.ev, e)
	a := h.ev
	i := len(a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !before(&e, &a[p]) {
			break
		}
		a[i] = a[p]
		i = p
	}
	a[i] = e
}

// nextSeq stamps a sequence number for an entry kept outside the heap
// (deadlines, the next session start), so that it is ordered with the
// heap's events.
func (h *eventHeap) nextSeq() uint64 {
	h.seq++
	return h.seq
}

// settle removes the event pop returned, if it is still in place.
func (h *eventHeap) settle() {
	if h.popped {
		h.removeTop()
	}
}

// removeTop removes the root event.
func (h *eventHeap) removeTop() {
	h.popped = false
	n := len(h.ev) - 1
	e := h.ev[n]
	h.ev = h.ev[:n]
	if n > 0 {
		h.down(e)
	}
}

// down puts e in place of the root event, which is gone, and sifts it
// down. Indices are unsigned and children are reached through pointers
// so that the loop has no bounds checks.
func (h *eventHeap) down(e event) {
	a := h.ev
	n := uint(len(a))
	hole := &a[0]
	i := uint(0)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		c, m := &a[l], l
		if r := l + 1; r < n {
			if rc := &a[r]; before(rc, c) {
				c, m = rc, r
			}
		}
		if !before(c, &e) {
			break
		}
		*hole = *c
		hole, i = c, m
	}
	*hole = e
}

// len is the number of pending events.
func (h *eventHeap) len() int {
	h.settle()
	return len(h.ev)
}

// top is the earliest event, nil if there is none.
func (h *eventHeap) top() *event {
	h.settle()
	if len(h.ev) == 0 {
		return nil
	}
	return &h.ev[0]
}

// popTop is pop for a caller that has just had top from top, with no
// push since.
func (h *eventHeap) popTop(top *event) event {
	h.popped = true
	return *top
}

// pop removes and returns the earliest event; the heap must not be empty.
func (h *eventHeap) pop() event {
	h.settle()
	h.popped = true
	return h.ev[0]
}

// deadline is a page request's timeout, kept in a FIFO rather than the
// heap: page requests are issued in non-decreasing time and all share the
// workload timeout, so their deadlines arrive in order.
type deadline struct {
	at   time.Duration
	seq  uint64
	slot int32
	gen  uint32
}

// ring is a growable FIFO ring buffer.
type ring[T any] struct {
	buf  []T
	head int
	n    int
}

func (r *ring[T]) len() int { return r.n }

func (r *ring[T]) push(v T) {
	if r.n == len(r.buf) {
		r.grow()
	}
	i := r.head + r.n
	if i >= len(r.buf) {
		i -= len(r.buf)
	}
	r.buf[i] = v
	r.n++
}

func (r *ring[T]) grow() {
	nb := make([]T, max(8, 2*len(r.buf)))
	for i := 0; i < r.n; i++ {
		j := r.head + i
		if j >= len(r.buf) {
			j -= len(r.buf)
		}
		nb[i] = r.buf[j]
	}
	r.buf = nb
	r.head = 0
}

// front is the oldest element; the ring must not be empty.
func (r *ring[T]) front() *T { return &r.buf[r.head] }

func (r *ring[T]) pop() T {
	v := r.buf[r.head]
	r.head++
	if r.head == len(r.buf) {
		r.head = 0
	}
	r.n--
	return v
}
