package model

// The wire protocol between browsers and servers, the same for real
// servers, redirlab's browsers and fronts.
const (
	// ServerHeader names, in every answer, the server that gave it.
	ServerHeader = "X-Redirlab-Server"
	// ShedHeader marks a 503 of the shed action (policy.action shed),
	// which browsers record as shed, not rejected for a full queue.
	ShedHeader = "X-Redirlab-Shed"
	// DemandParam is the query parameter carrying a page request's id,
	// which names its service demand (Demand) wherever it is served.
	DemandParam = "redirlab_req"
	// HopParam is the query parameter counting the redirects a request
	// has followed; browsers drop custom headers across redirects.
	HopParam = "redirlab_hop"
)

// Random streams: every draw of a run comes from rand.NewPCG(seed,
// stream), so that a simulated and a real run of one scenario and seed
// see the same arrivals and dispatch, and adding a server does not shift
// another's draws.
const (
	// StreamArrivals drives the arrival schedule.
	StreamArrivals = 1
	// StreamDispatch drives the browsers' first-server choice.
	StreamDispatch = 2
	// StreamManager drives the manager: the agents' report order in
	// simulation, central instructions and lost reports.
	StreamManager = 3
	// StreamPolicy + i drives server i's redirect decisions.
	StreamPolicy = 3 << 20
	// StreamAgent + i drives server i's agent (real report loss).
	StreamAgent = 4 << 20
)
