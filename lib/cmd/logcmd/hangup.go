package logcmd

import (
	"os"

	"golang.org/x/sys/unix"
)

// hangup returns a channel that is closed when the reader of out goes away
// (a pipe whose other end closed, a terminal hung up), so that a follow ends
// at once rather than at its next write. Regular files never hang up.
func hangup(out *os.File) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		fds := []unix.PollFd{{Fd: int32(out.Fd()), Events: 0}}
		for {
			_, err := unix.Poll(fds, -1)
			if err == unix.EINTR {
				continue
			}
			if err != nil || fds[0].Revents&(unix.POLLERR|unix.POLLHUP|unix.POLLNVAL) != 0 {
				close(ch)
				return
			}
		}
	}()
	return ch
}
