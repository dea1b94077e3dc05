// Package model is redirlab's middle layer: the clock-free,
// single-threaded state machines of the system, shared by both drivers.
//
//   - Server: one web server's bounded FIFO queue, workers, queue-delay
//     estimators, crash and restart, and counters; it asks policy.Decide at
//     each page arrival.
//   - ViewHolder: the manager's view as a server last received it, ignored
//     once older than the view TTL.
//   - Registry: the manager's state: reports, expiry, central
//     instructions, outages and resume.
//   - Faults: the scenario's faults compiled into a time-ordered list of
//     typed steps, and the state they leave each server in.
//   - Session: what a browser does after a page: the next page, its think
//     time, its embedded objects, the horizon.
//
// Every method takes the current time (since run start) as an argument;
// nothing here reads a clock, sleeps, locks, does I/O or starts a
// goroutine. Randomness is passed in. The simulator (package sim) calls
// these from its event loop; the real system (package server) serialises
// calls with a mutex and drives them from timers and HTTP handlers. A fix
// here is a fix in both, and a differential test keeps the drivers honest.
package model
