//go:build !linux

package loadgen

import "time"

// precisePacerThread is Linux only; elsewhere the pacer spins.
func precisePacerThread() (ok bool, undo func()) { return false, func() {} }

func preciseSleep(time.Duration) {}
