package supervise

import "golang.org/x/sys/unix"

// waitExited blocks until the child pid has ended, without reaping it: the
// zombie keeps the PID, and so the process group ID, from being reused while
// the supervisor may still signal the group. macOS has no WNOWAIT in x/sys,
// so it waits for NOTE_EXIT in kevent.
func waitExited(pid int) error {
	kq, err := unix.Kqueue()
	if err != nil {
		return err
	}
	defer unix.Close(kq)
	ev := unix.Kevent_t{Ident: uint64(pid), Filter: unix.EVFILT_PROC, Flags: unix.EV_ADD | unix.EV_ONESHOT, Fflags: unix.NOTE_EXIT}
	if _, err := unix.Kevent(kq, []unix.Kevent_t{ev}, nil, nil); err != nil {
		if err == unix.ESRCH {
			return nil // already ended
		}
		return err
	}
	out := make([]unix.Kevent_t, 1)
	for {
		n, err := unix.Kevent(kq, nil, out, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n > 0 {
			return err
		}
	}
}

// bigPipe does nothing on macOS, whose pipes grow by themselves.
func bigPipe(fd uintptr) {}
