// Package proc tells whether a recorded process is still the one tpm
// started (SPEC §5), and measures process groups.
//
// A PID alone is not an identity: PIDs are reused. A process is ours only when
// its PID and its start-time token both match what was recorded (Linux: field
// 22 of /proc/PID/stat and the boot id; macOS: the start time from
// sysctl kern.proc.pid). A record without a token falls back on its
// start_time: the process must have started within two seconds of it.
// Nothing here runs ps.
package proc

import (
	"errors"
	"math"
	"os"
	"syscall"
	"time"
)

// Info is what tpm reads about one process.
type Info struct {
	PID, PPID, PGID, SID int
	// Token identifies this process among all that ever had its PID.
	Token string
	// start is when the process started, in the system's own unit; see
	// Started.
	start int64
	// Zombie is set for a process that has ended but is not yet reaped.
	Zombie bool
	// CPU is the processor time of the process and its reaped children.
	CPU time.Duration
	// RSS is its resident memory in bytes.
	RSS int64
}

// ErrGone is returned for a PID that names no process.
var ErrGone = errors.New("no such process")

// Self returns the Info of the calling process.
func Self() (Info, error) { return Stat(os.Getpid()) }

// legacyWindow is how close a process's start must be to a record's
// start_time for a record without a token to claim it.
const legacyWindow = 2 * time.Second

// Ours returns the Info of pid when it is the process a record describes: its
// token equals token, or, when token is empty, it started within two seconds
// of startUnix. It returns ok=false for a gone process or a stranger.
func Ours(pid int, token string, startUnix int64) (Info, bool) {
	if !valid(pid) {
		return Info{}, false
	}
	in, err := Stat(pid)
	if err != nil {
		return Info{}, false
	}
	if token != "" {
		return in, in.Token == token
	}
	if startUnix <= 0 {
		return in, false
	}
	d := in.Started().Sub(time.Unix(startUnix, 0))
	return in, math.Abs(float64(d)) <= float64(legacyWindow)
}

// Alive is Ours for a process that has not ended (a zombie is not alive).
func Alive(pid int, token string, startUnix int64) (Info, bool) {
	in, ok := Ours(pid, token, startUnix)
	return in, ok && !in.Zombie
}

// Signal sends sig to pid alone, only if its token still matches (see
// signal.go for who may be signalled). It reports whether the process was
// ours (and so signalled).
func Signal(pid int, token string, startUnix int64, sig syscall.Signal) (bool, error) {
	err := signalPinned(pid, func() bool {
		_, ok := Ours(pid, token, startUnix)
		return ok
	}, sig)
	if errors.Is(err, ErrNotOurs) {
		return false, nil
	}
	return err == nil, err
}

// signalPinned sends sig to pid when check, made while the PID is pinned,
// holds. On Linux os.FindProcess holds a pidfd, and the signal goes through
// it: a PID that is reused after the check cannot receive it.
func signalPinned(pid int, check func() bool, sig syscall.Signal) error {
	if !valid(pid) {
		return ErrNotOurs
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return nil
	}
	defer p.Release()
	if !check() {
		return ErrNotOurs
	}
	err = p.Signal(sig)
	if errors.Is(err, os.ErrProcessDone) {
		return nil
	}
	return err
}

// Usage is the summed CPU time and resident memory of a group of processes.
type Usage struct {
	CPU time.Duration
	RSS int64
	N   int
}

// GroupUsage sums CPU and memory by process group over every process.
func GroupUsage() (map[int]Usage, error) {
	all, err := All()
	if err != nil {
		return nil, err
	}
	out := make(map[int]Usage)
	for _, in := range all {
		if in.Zombie {
			continue
		}
		u := out[in.PGID]
		u.CPU += in.CPU
		u.RSS += in.RSS
		u.N++
		out[in.PGID] = u
	}
	return out, nil
}

// waitGonePolling is WaitGone for systems without a process handle to sleep
// on.
func waitGonePolling(pid int, token string, startUnix int64, timeout time.Duration) bool {
	return PollUntil(time.Now().Add(timeout), func() bool {
		_, ok := Alive(pid, token, startUnix)
		return !ok
	})
}

// PollUntil checks done with a growing interval (1 ms, doubling to 50 ms)
// until it holds or the deadline passes, and reports whether it held. It is
// for waiting on what gives no event (processes that are not our children),
// while something is being stopped: never while nothing happens.
func PollUntil(deadline time.Time, done func() bool) bool {
	d := time.Millisecond
	for {
		if done() {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		time.Sleep(min(d, left))
		d = min(d*2, 50*time.Millisecond)
	}
}
