package supervise

import (
	"errors"
	"os"
)

// macOS has no /proc/PID/fd through which to open another process's pipes:
// a program whose supervisor died keeps running (its output waits in the
// pipe it holds), shows as unsupervised, and can be stopped, but not
// adopted.
var errNoAdoption = errors.New("adoption needs Linux (/proc/PID/fd)")

func openHeldPipes(pid int) (*os.File, *os.File, error) { return nil, nil, errNoAdoption }

func writeEnds(out, errp *os.File) (*os.File, *os.File, error) { return nil, nil, errNoAdoption }

func takeSocket(pid, fd int) *os.File { return nil }
