package results

// Sink is where a run puts its records as it makes them: a *Recorder
// (locked, aggregating and writing), an *Aggregator (one goroutine,
// memory only), or a test's collector. The simulator and the load
// generator write to a Sink.
type Sink interface {
	// Add records one page request; the sink does not retain q.
	Add(q *Request)
	// AddSample records one server's state at a sampling tick; the sink
	// does not retain s.
	AddSample(s *ServerSample)
	// Note adds a sentence to the summary's notes.
	Note(msg string)
}

var (
	_ Sink = (*Recorder)(nil)
	_ Sink = (*Aggregator)(nil)
)
