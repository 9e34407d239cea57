// Package spare starts supervisors ahead of need and gives them their
// process: the caller's side of the handoff, whose form and version are in
// lib/supervise (handoff.go). It lives apart from the supervisor so that
// the supervisor's own binary links neither the network package nor the
// flag parser.
package spare

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/meta"
	"github.com/tetra-toolkit/tpm/lib/supervise"
)

// A Spare is a supervisor started ahead of need, waiting for its handoff.
type Spare struct {
	pid  int
	conn *net.UnixConn
}

// Start starts a supervisor (the tpm-supervise binary installed with
// the caller) in a session of its own. Its stdout and stderr are /dev/null,
// never the caller's: a caller whose output is a pipe someone reads to the
// end returns at once.
func Start() (*Spare, error) {
	path, err := cli.Companion("tpm-supervise")
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
		// Its own session: it outlives its caller and its terminal.
		Sys: &syscall.SysProcAttr{Setsid: true},
	})
	if err != nil {
		ours.Close()
		return nil, fmt.Errorf("start tpm-supervise: %w", err)
	}
	c, err := net.FileConn(ours)
	ours.Close()
	if err != nil {
		killChild(pid)
		return nil, fmt.Errorf("start tpm-supervise: %w", err)
	}
	return &Spare{pid: pid, conn: c.(*net.UnixConn)}, nil
}

// Discard ends a spare nobody needed. It is the caller's own unreaped
// child, so its PID is still its own: KILL and reap it, so that nothing is
// left running when the caller returns.
func (sp *Spare) Discard() {
	sp.conn.Close()
	killChild(sp.pid)
}

func killChild(pid int) {
	syscall.Kill(pid, syscall.SIGKILL)
	var ws syscall.WaitStatus
	for {
		if _, err := syscall.Wait4(pid, &ws, 0, nil); err != syscall.EINTR {
			return
		}
	}
}

// Status is what a supervisor says after its first answer: "online" and
// "ended HOW", while the caller listens.
type Status struct {
	*bufio.Reader
	c *net.UnixConn
}

// Close stops listening.
func (p *Status) Close() error { return p.c.Close() }

// answerTimeout bounds the wait for a supervisor's first answer.
const answerTimeout = 30 * time.Second

// Give hands NAME to the spare: the tree, the run lock (which the caller
// may close once Give returns), the meta line, and whether to adopt the
// program it names rather than start one. It returns the program's PID and
// the status to listen to, or the supervisor's error. A spare is used once.
func (sp *Spare) Give(tree, name string, lock *os.File, line *meta.Meta, hold time.Duration, adopt bool) (int, *Status, error) {
	if err := sp.Send(tree, name, lock, line, hold, adopt); err != nil {
		return 0, nil, err
	}
	return sp.Answer(name)
}

// Send is the first half of Give: the handoff, without waiting.
func (sp *Spare) Send(tree, name string, lock *os.File, line *meta.Meta, hold time.Duration, adopt bool) error {
	c := sp.conn
	_, _, err := c.WriteMsgUnix(supervise.Handoff(tree, name, hold, adopt), syscall.UnixRights(int(lock.Fd())), nil)
	if err == nil {
		_, err = c.Write(line.Format())
	}
	if err == nil {
		err = c.CloseWrite()
	}
	if err != nil {
		c.Close()
		return fmt.Errorf("%s: hand it to tpm-supervise: %w", name, err)
	}
	return nil
}

// Answer is the second half of Give: the supervisor's first answer.
func (sp *Spare) Answer(name string) (int, *Status, error) {
	c := sp.conn
	c.SetReadDeadline(time.Now().Add(answerTimeout))
	status := bufio.NewReader(c)
	answer, err := status.ReadString('\n')
	c.SetReadDeadline(time.Time{})
	f := strings.Fields(answer)
	switch {
	case len(f) >= 2 && (f[0] == "started" || f[0] == "adopted"):
		pid, _ := strconv.Atoi(f[1])
		return pid, &Status{status, c}, nil
	case len(f) >= 2 && f[0] == "failed":
		c.Close()
		code, _ := strconv.Atoi(f[1])
		msg := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(answer), "failed "+f[1]))
		return 0, nil, exit.Errorf(code, "%s: %s", name, msg)
	}
	c.Close()
	if err == nil {
		err = fmt.Errorf("unexpected answer %q", answer)
	}
	return 0, nil, fmt.Errorf("%s: the supervisor did not take it: %w", name, err)
}
