package results

import (
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// BackendFile is backend.csv, written by a real run through fronts
// (servers with an upstream): one row per request a front passed to its
// backend, written as the services end, warmup included:
//
//	t_s         when the request got its worker (its service began), since run start
//	server      the front's instance name
//	id          the page request's id (redirlab_req; "" without one)
//	part        0 for the page, k+1 for its object k
//	service_ms  how long the request held the front's worker: its wake-up and the backend's answer, body included
//	status      the status the front answered (502 for an upstream error, 504 for a timeout, 0 when the browser left first)
//	outcome     ok | error (the backend failed, answered garbage or broke off) | timeout (no answer within workload.timeout) | canceled (the browser left first)
//
// It is absent with Options.NoRecords and from runs without fronts.
const BackendFile = "backend.csv"

var backendHeader = []string{"t_s", "server", "id", "part", "service_ms", "status", "outcome"}

// BackendOutcome is how one backend exchange ended.
type BackendOutcome uint8

const (
	// BackendOK: the backend answered (whatever its status).
	BackendOK BackendOutcome = iota
	// BackendError: the exchange failed (refused, reset, a bad answer).
	BackendError
	// BackendTimeout: no answer within the front's upstream timeout.
	BackendTimeout
	// BackendCanceled: the browser went away before the answer.
	BackendCanceled
)

var backendOutcomeNames = [...]string{"ok", "error", "timeout", "canceled"}

func (o BackendOutcome) String() string {
	if int(o) < len(backendOutcomeNames) {
		return backendOutcomeNames[o]
	}
	return "unknown"
}

// Backend is one request a front passed to its backend.
type Backend struct {
	// At is when its service began, since run start; Took how long it
	// held the worker.
	At, Took time.Duration
	// Server is the front's index.
	Server int
	// ID is the page request's id (HasID false without one); Part 0 the
	// page, k+1 its object k.
	ID    uint64
	HasID bool
	Part  uint64
	// Status is the answer's HTTP status.
	Status  int
	Outcome BackendOutcome
}

// BackendWriter streams backend.csv as the fronts' services end; it is
// safe for concurrent use. The file is BackendFile.tmp until Close.
type BackendWriter struct {
	mu    sync.Mutex
	s     *stream
	names []string
	buf   []byte
}

// NewBackendWriter starts dir/backend.csv; names are the instance names
// by index.
func NewBackendWriter(dir string, names []string) (*BackendWriter, error) {
	s, err := createStream(dir, BackendFile, backendHeader)
	if err != nil {
		return nil, err
	}
	return &BackendWriter{s: s, names: names}, nil
}

// Add writes one record.
func (w *BackendWriter) Add(r *Backend) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = appendBackend(w.buf[:0], r, w.names)
	w.s.write(w.buf)
}

// Close flushes the file and gives it its final name.
func (w *BackendWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.s.finish()
}

// appendBackend writes one backend.csv row.
func appendBackend(b []byte, r *Backend, names []string) []byte {
	b = appendSeconds(b, r.At)
	b = append(b, ',')
	b = append(b, serverName(names, r.Server)...)
	b = append(b, ',')
	if r.HasID {
		b = strconv.AppendUint(b, r.ID, 10)
	}
	b = append(b, ',')
	b = strconv.AppendUint(b, r.Part, 10)
	b = append(b, ',')
	b = appendMillis(b, r.Took)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = append(b, ',')
	b = append(b, r.Outcome.String()...)
	b = append(b, '\n')
	return b
}

// ReadBackend calls fn for every row of dir/backend.csv, with the
// front's instance name (Server is its index in summary.json).
func ReadBackend(dir string, fn func(r *Backend, name string) error) error {
	index, err := serverIndex(dir)
	if err != nil {
		return err
	}
	var r Backend
	return readCSV(filepath.Join(dir, BackendFile), backendHeader, func(row *csvRow) error {
		r = Backend{}
		r.At = row.seconds("t_s")
		name := row.get("server")
		r.Server = row.server("server", index)
		if row.get("id") != "" {
			r.ID, r.HasID = row.uint("id"), true
		}
		r.Part = row.uint("part")
		r.Took = row.millis("service_ms")
		r.Status = int(row.int("status"))
		switch o := row.get("outcome"); o {
		case "ok":
			r.Outcome = BackendOK
		case "error":
			r.Outcome = BackendError
		case "timeout":
			r.Outcome = BackendTimeout
		case "canceled":
			r.Outcome = BackendCanceled
		default:
			row.fail("outcome", fmt.Errorf("%q is not ok, error, timeout or canceled", o))
		}
		if row.err != nil {
			return row.err
		}
		return fn(&r, name)
	})
}
