package proc

// macOS cannot tell which process holds a socket without libproc, which Go
// cannot call without cgo.

// ListenHolder cannot tell on macOS.
func ListenHolder(p int) (pid int, comm string) { return 0, "" }

// Listening cannot tell on macOS; callers fall back on a connection.
func Listening(pids []int, p int) bool { return false }
