package supervise

import (
	"os"
	"os/signal"
	"syscall"
)

// A program starts with every signal at its default disposition and an
// empty signal mask (SPEC §12), whatever its supervisor inherited or does
// for itself.
//
// Go resets, in the child of a fork, every signal the runtime handles; what
// stays ignored through exec is what the runtime does not handle: signals
// ignored when the supervisor started (by a shell's `trap '' QUIT`, nohup's
// HUP, a background job's INT) and never handed to the runtime. So the
// supervisor hands each of them to the runtime, with a channel nobody reads:
// for the supervisor they stay as good as ignored, and its programs get
// them at their default. It never calls signal.Ignore, which would reach
// the programs.
//
// The mask a forked child gets is the one the supervisor started with; a
// supervisor started with signals blocked clears its mask and executes
// itself again (see sigstate_linux.go), before anything else.

// swallowed keeps the signals the supervisor receives but does not act on.
var swallowed = make(chan os.Signal, 1)

// resetSignals hands every signal that is ignored now to the runtime.
func resetSignals() {
	for _, sig := range ignoredSignals() {
		signal.Notify(swallowed, sig)
	}
}

// catchable lists the signals a program can set: all but KILL and STOP.
func catchable(max int) []syscall.Signal {
	var out []syscall.Signal
	for s := 1; s <= max; s++ {
		if sig := syscall.Signal(s); sig != syscall.SIGKILL && sig != syscall.SIGSTOP {
			out = append(out, sig)
		}
	}
	return out
}
