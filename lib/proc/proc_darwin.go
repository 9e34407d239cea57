package proc

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// sZomb is the p_stat of a zombie in <sys/proc.h>.
const sZomb = 5

func fromKinfo(k *unix.KinfoProc) Info {
	st := k.Proc.P_starttime
	return Info{
		PID:    int(k.Proc.P_pid),
		PPID:   int(k.Eproc.Ppid),
		PGID:   int(k.Eproc.Pgid),
		Token:  strconv.FormatInt(int64(st.Sec), 10) + "." + strconv.FormatInt(int64(st.Usec), 10),
		start:  int64(st.Sec)*1e6 + int64(st.Usec),
		Zombie: k.Proc.P_stat == sZomb,
		// CPU and RSS need libproc (proc_pid_rusage), which Go cannot call
		// without cgo; they stay zero on macOS.
	}
}

// Started is when the process started (wall clock).
func (in Info) Started() time.Time { return time.UnixMicro(in.start) }

// Stat asks sysctl kern.proc.pid.
func Stat(pid int) (Info, error) {
	k, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if err != nil || k.Proc.P_pid != int32(pid) {
		// A missing pid gives a short buffer, which x/sys reports as EIO.
		if err == nil || errors.Is(err, unix.EIO) || errors.Is(err, unix.ESRCH) {
			return Info{}, ErrGone
		}
		return Info{}, err
	}
	in := fromKinfo(k)
	if sid, err := unix.Getsid(pid); err == nil {
		in.SID = sid
	}
	return in, nil
}

// All asks sysctl kern.proc.all.
func All() ([]Info, error) {
	ks, err := unix.SysctlKinfoProcSlice("kern.proc.all")
	if err != nil {
		return nil, err
	}
	out := make([]Info, 0, len(ks))
	for i := range ks {
		in := fromKinfo(&ks[i])
		if sid, err := unix.Getsid(in.PID); err == nil {
			in.SID = sid
		}
		out = append(out, in)
	}
	return out, nil
}

// WaitGone waits until pid, if it is still ours, has ended or the timeout
// passes. It sleeps in kevent(2) on NOTE_EXIT: no polling loop.
func WaitGone(pid int, token string, startUnix int64, timeout time.Duration) bool {
	kq, err := unix.Kqueue()
	if err != nil {
		return waitGonePolling(pid, token, startUnix, timeout)
	}
	defer unix.Close(kq)
	ev := unix.Kevent_t{Ident: uint64(pid), Filter: unix.EVFILT_PROC, Flags: unix.EV_ADD | unix.EV_ONESHOT, Fflags: unix.NOTE_EXIT}
	if _, err := unix.Kevent(kq, []unix.Kevent_t{ev}, nil, nil); err != nil {
		return errors.Is(err, unix.ESRCH)
	}
	if _, ok := Alive(pid, token, startUnix); !ok {
		return true
	}
	deadline := time.Now().Add(timeout)
	out := make([]unix.Kevent_t, 1)
	for {
		left := time.Until(deadline)
		if left < 0 {
			return false
		}
		ts := unix.NsecToTimespec(int64(left))
		n, err := unix.Kevent(kq, nil, out, &ts)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return waitGonePolling(pid, token, startUnix, time.Until(deadline))
		}
		if n > 0 {
			return true
		}
	}
}

// BootTime is when the system booted (sysctl kern.boottime).
func BootTime() time.Time {
	tv, err := unix.SysctlTimeval("kern.boottime")
	if err != nil {
		return time.Time{}
	}
	return time.Unix(tv.Unix())
}

// tokenStart is when the process a token was taken from started.
func tokenStart(token string) (time.Time, bool) {
	sec, usec, ok := strings.Cut(token, ".")
	s, err1 := strconv.ParseInt(sec, 10, 64)
	u, err2 := strconv.ParseInt(usec, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return time.Time{}, false
	}
	return time.Unix(s, u*1000), true
}
