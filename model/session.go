package model

import "time"

// MaxParallelObjects is how many embedded objects a browser fetches at
// once, over as many keep-alive connections.
const MaxParallelObjects = 6

// Session is what a browser does per arrival: Pages page views, each
// followed by fetching Objects embedded objects from the server that
// served the page, with Think between a page's end and the next page. A
// session goes on whatever its pages' outcomes, so the offered load does
// not depend on the servers.
type Session struct {
	// Pages per session, >= 1.
	Pages int
	// Objects embedded in each page, >= 0.
	Objects int
	// Think is the time from a page's end (objects included) to the next
	// page's scheduled start.
	Think time.Duration
	// Horizon is the end of the arrivals (warmup + duration): no page is
	// scheduled at or after it.
	Horizon time.Duration
}

// Next says what follows a page that ended at end with after pages of its
// session still to come. An open-loop session (closed false) ends with
// its last page; a closed-loop browser then starts its next session. It
// returns when the next page is due, how many pages follow that one, and
// false when nothing follows.
func (s *Session) Next(after int, closed bool, end time.Duration) (due time.Duration, afterNext int, ok bool) {
	if after <= 0 {
		if !closed {
			return 0, 0, false
		}
		after = s.Pages
	}
	due = end + s.Think
	if due >= s.Horizon {
		return 0, 0, false
	}
	return due, after - 1, true
}
