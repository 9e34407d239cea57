package supervise

import (
	"os/signal"
	"syscall"
)

// ignoredSignals returns the signals that may be ignored now. macOS has no
// /proc to read the dispositions from: the runtime knows of those it was
// told to ignore, and the job-control signals, which it leaves alone
// unless asked, are taken in any case (a supervisor has no terminal to be
// stopped by).
func ignoredSignals() []syscall.Signal {
	var out []syscall.Signal
	for _, sig := range catchable(31) {
		switch {
		case signal.Ignored(sig), sig == syscall.SIGTSTP, sig == syscall.SIGTTIN, sig == syscall.SIGTTOU:
			out = append(out, sig)
		}
	}
	return out
}

// unblockSignals: on macOS the mask a supervisor starts with is passed on
// (documented in the README).
func unblockSignals() {}
