package supervise

import "golang.org/x/sys/unix"

// waitExited blocks until the child pid has ended, without reaping it: the
// zombie keeps the PID, and so the process group ID, from being reused while
// the supervisor may still signal the group.
func waitExited(pid int) error {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			return err
		}
	}
}

// bigPipe asks for a 1 MiB pipe buffer, so that a burst of output waits in
// the kernel rather than blocking the program while the supervisor writes.
func bigPipe(fd uintptr) {
	unix.FcntlInt(fd, unix.F_SETPIPE_SZ, 1<<20)
}
