package server

import (
	"time"

	"github.com/redirlab/redirlab/policy"
)

// The JSON messages between servers, agents and the manager. Durations
// are integer nanoseconds (field names end in _ns) so that nothing is lost
// in transit.

// StatusMessage is a server's status: what /status serves and what the
// agent reports.
type StatusMessage struct {
	// Name is the instance name, e.g. "web-2".
	Name string `json:"name"`
	// Server is the instance index.
	Server int `json:"server"`
	// QueueLength is waiting plus in service.
	QueueLength int `json:"queue_length"`
	// Waiting is requests not yet in service.
	Waiting int `json:"waiting"`
	// InService is requests being served.
	InService int `json:"in_service"`
	// QueueDelayNS is the queue delay by the configured estimator.
	QueueDelayNS int64 `json:"queue_delay_ns"`
	// Workers serve the queue.
	Workers int `json:"workers"`
	// Up is false for a server known to be down.
	Up bool `json:"up"`
	// AtNS is when the status was measured, since the sender's start.
	AtNS int64 `json:"at_ns"`
}

// NewStatusMessage is the status message of server name with status s
// and inService requests in service.
func NewStatusMessage(name string, s policy.Status, inService int) StatusMessage {
	return StatusMessage{
		Name:         name,
		Server:       s.Server,
		QueueLength:  s.QueueLength,
		Waiting:      s.Waiting,
		InService:    inService,
		QueueDelayNS: int64(s.QueueDelay),
		Workers:      s.Workers,
		Up:           s.Up,
		AtNS:         int64(s.At),
	}
}

// Status converts the message back to the policy's type.
func (m StatusMessage) Status() policy.Status {
	return policy.Status{
		Server:      m.Server,
		QueueLength: m.QueueLength,
		Waiting:     m.Waiting,
		QueueDelay:  time.Duration(m.QueueDelayNS),
		Workers:     m.Workers,
		Up:          m.Up,
		At:          time.Duration(m.AtNS),
	}
}

// ReportMessage is an agent's POST /v1/report body.
type ReportMessage struct {
	// Name is the reporting instance; it must be a server of the
	// manager's scenario.
	Name string `json:"name"`
	// URL is the base URL the server is reachable at (scheme://host:port);
	// peers redirect there.
	URL string `json:"url"`
	// Status is the server's live status.
	Status StatusMessage `json:"status"`
	// Shared is the server's scenario's SharedDigest: the manager refuses
	// a report whose digest is not its own (a server started with other
	// --set values). Empty in a report not made by redirlab's agents,
	// which the manager takes unchecked.
	Shared string `json:"shared,omitempty"`
}

// ServerView is one server as the manager sees it.
type ServerView struct {
	StatusMessage
	// URL is the registered base URL, "" before the server first reported.
	URL string `json:"url"`
	// LastReportNS is when the manager last heard from the server, since
	// the manager's start; -1 if never.
	LastReportNS int64 `json:"last_report_ns"`
}

// InstructionMessage is the manager's word to one server under central
// placement.
type InstructionMessage struct {
	Redirect bool `json:"redirect"`
	// Target is a server index, or -1 to let the server choose.
	Target int `json:"target"`
}

// ViewMessage is the manager's published view: the answer to a report and
// to GET /v1/view. Servers is indexed by server index.
type ViewMessage struct {
	// AtNS is when the view was published, since the manager's start.
	AtNS    int64        `json:"at_ns"`
	Servers []ServerView `json:"servers"`
	// Instructions is empty under local placement.
	Instructions []InstructionMessage `json:"instructions,omitempty"`
}

// Policy converts the message to the policy's view and the base URLs by
// server index.
func (v *ViewMessage) Policy() (policy.View, []string) {
	pv := policy.View{At: time.Duration(v.AtNS), Servers: make([]policy.Status, len(v.Servers))}
	urls := make([]string, len(v.Servers))
	for i, s := range v.Servers {
		pv.Servers[i] = s.Status()
		pv.Servers[i].Server = i
		urls[i] = s.URL
	}
	if len(v.Instructions) > 0 {
		pv.Instructions = make([]policy.Instruction, len(v.Instructions))
		for i, in := range v.Instructions {
			pv.Instructions[i] = policy.Instruction{Redirect: in.Redirect, Target: in.Target}
		}
	}
	return pv, urls
}
