package startcmd

import (
	"fmt"
	"net"
	"os"
	"syscall"

	"github.com/tetra-toolkit/tpm/lib/supervise"
)

// A spare is a supervisor started ahead of need. A Go program takes a few
// milliseconds to come up, most of a start's time: tpm-start starts the
// first spare before it parses its flags, and the next one while the
// current one starts its program, so that each comes up in parallel with
// tpm-start's own work. A spare waits on its socket for the handoff (see
// package supervise).
type spare struct {
	pid  int
	conn *net.UnixConn
}

// spares holds the one spare started and not yet used. tpm-start runs once
// per process, so it is the package's own.
var spares struct {
	next *spare
	err  error // why the last one could not be started
}

// primeSpare starts a spare, unless one is waiting already.
func primeSpare() {
	if spares.next == nil && spares.err == nil {
		spares.next, spares.err = startSpare()
	}
}

// takeSpare returns the waiting spare, or starts one.
func takeSpare() (*spare, error) {
	primeSpare()
	s, err := spares.next, spares.err
	spares.next, spares.err = nil, nil
	return s, err
}

// discardSpare ends a spare nobody needed. It is tpm-start's own unreaped
// child, so its PID is still its own: KILL and reap it, so that nothing
// is left running when tpm-start returns.
func discardSpare() {
	s := spares.next
	spares.next = nil
	if s == nil {
		return
	}
	s.conn.Close()
	kill(s.pid)
}

func kill(pid int) {
	syscall.Kill(pid, syscall.SIGKILL)
	var ws syscall.WaitStatus
	for {
		if _, err := syscall.Wait4(pid, &ws, 0, nil); err != syscall.EINTR {
			return
		}
	}
}

func startSpare() (*spare, error) {
	path, err := companion("tpm-supervise")
	if err != nil {
		return nil, err
	}
	// Close-on-exec, under the fork lock: macOS has no SOCK_CLOEXEC.
	syscall.ForkLock.RLock()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fds[0])
		syscall.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("start tpm-supervise: %w", err)
	}
	ours, theirs := os.NewFile(uintptr(fds[0]), "supervisor"), os.NewFile(uintptr(fds[1]), "supervisor")
	defer theirs.Close()
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		ours.Close()
		return nil, err
	}
	defer null.Close()
	// syscall.ForkExec rather than os/exec, which forks a throwaway child
	// on first use to test pidfd support: a millisecond of every start.
	pid, err := syscall.ForkExec(path, []string{"tpm-supervise", supervise.TitleArg}, &syscall.ProcAttr{
		Dir: "/",
		// One P is all a supervisor needs, and it starts faster. (The
		// program's environment is NAME.env, not this one.)
		Env:   append(os.Environ(), "GOMAXPROCS=1"),
		Files: []uintptr{theirs.Fd(), null.Fd(), null.Fd()},
		// Its own session: it outlives tpm-start and its terminal.
		Sys: &syscall.SysProcAttr{Setsid: true},
	})
	if err != nil {
		ours.Close()
		return nil, fmt.Errorf("start tpm-supervise: %w", err)
	}
	c, err := net.FileConn(ours)
	ours.Close()
	if err != nil {
		kill(pid)
		return nil, fmt.Errorf("start tpm-supervise: %w", err)
	}
	return &spare{pid: pid, conn: c.(*net.UnixConn)}, nil
}
