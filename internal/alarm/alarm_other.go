//go:build !linux

package alarm

import (
	"errors"
	"time"
)

// create: timerfds are Linux only.
func create() (int, error) {
	return -1, errors.ErrUnsupported
}

// settime is never reached: New fails first.
func settime(int, time.Duration) error { return errors.ErrUnsupported }
