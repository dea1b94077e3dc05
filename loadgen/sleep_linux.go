package loadgen

import (
	"runtime"
	"syscall"
	"time"
)

// prSetTimerSlack is prctl's PR_SET_TIMERSLACK.
const prSetTimerSlack = 29

// precisePacerThread locks the pacer to its OS thread and sets that
// thread's timer slack to 1ns, so that nanosleep wakes within tens of
// microseconds instead of the default 50µs slack (and instead of Go
// timers, which fire about 1 ms late when the process is idle). It
// returns false if the kernel refuses; the pacer then spins instead.
func precisePacerThread() (ok bool, undo func()) {
	runtime.LockOSThread()
	if _, _, errno := syscall.RawSyscall6(syscall.SYS_PRCTL, prSetTimerSlack, 1, 0, 0, 0, 0); errno != 0 {
		runtime.UnlockOSThread()
		return false, func() {}
	}
	return true, func() {
		// Restore the default slack before the thread serves others.
		syscall.RawSyscall6(syscall.SYS_PRCTL, prSetTimerSlack, 0, 0, 0, 0, 0)
		runtime.UnlockOSThread()
	}
}

// preciseSleep sleeps d in the kernel on the calling (locked) thread.
func preciseSleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	syscall.Nanosleep(&ts, nil)
}
