//go:build !linux

package loadgen

// newAlarm: timerfds are Linux only; elsewhere the pacer spins before
// due times.
func newAlarm() alarm { return nil }
