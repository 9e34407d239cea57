package supervise

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/meta"
)

// The handoff: how a command gives a process to a supervisor. Both ends are
// in this file.
//
// A supervisor is started before it has anything to do: tpm-start runs it
// first thing, so that the few milliseconds a Go program takes to come up
// pass while tpm-start parses its flags and reads its records (a spare). It
// then waits on its socket, fd 0, for
//
//	VERSION NUL TREE NUL NAME NUL HOLD NUL MODE NUL META-LINE, then EOF
//
// with NAME's run lock riding on the first bytes as SCM_RIGHTS. VERSION is
// handoffVersion; HOLD a duration (0s: none); MODE "start" (start the
// program of the meta line) or "adopt" (take over the running program the
// line names). Its answers come back on the same socket: "started PID
// TOKEN" or "adopted PID TOKEN", or "failed CODE MESSAGE"; then, while the
// caller listens, "online" and "ended HOW". A supervisor that reads EOF
// before any of it was not needed: it ends quietly.

// handoffVersion changes whenever the handoff's form does: a supervisor
// refuses a handoff of another version (a tpm-start of another install).
const handoffVersion = "tpm-handoff-2"

// The modes of a handoff.
const (
	modeStart = "start"
	modeAdopt = "adopt"
)

// Handoff returns the bytes a caller sends before the meta line.
func Handoff(tree, name string, hold time.Duration, adopt bool) []byte {
	mode := modeStart
	if adopt {
		mode = modeAdopt
	}
	return []byte(handoffVersion + "\x00" + tree + "\x00" + name + "\x00" + hold.String() + "\x00" + mode + "\x00")
}

// TitleArg is the placeholder argument a spare is started with. Once it
// knows what it supervises, the supervisor writes "TREE NAME" over it, so
// that ps shows which program each supervisor keeps.
var TitleArg = string(bytes.Repeat([]byte{' '}, 300))

// A Spare is a supervisor started ahead of need, waiting for its handoff.
type Spare struct {
	pid  int
	conn *net.UnixConn
}

// StartSpare starts a supervisor (the tpm-supervise binary installed with
// the caller) in a session of its own. Its stdout and stderr are /dev/null,
// never the caller's: a caller whose output is a pipe someone reads to the
// end returns at once.
func StartSpare() (*Spare, error) {
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
	pid, err := syscall.ForkExec(path, []string{"tpm-supervise", TitleArg}, &syscall.ProcAttr{
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
	_, _, err := c.WriteMsgUnix(Handoff(tree, name, hold, adopt), syscall.UnixRights(int(lock.Fd())), nil)
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

// handoff is what a supervisor receives from tpm-start.
type handoff struct {
	tree, name, mode string
	hold             time.Duration
	line             []byte
	lock             *os.File
}

// maxHandoff bounds the handoff: a meta line is far smaller.
const maxHandoff = 1 << 20

// receive reads the handoff from fd. It returns nil, nil when tpm-start
// closed the socket without one.
func receive(fd int) (*handoff, error) {
	var data []byte
	lock := -1
	buf := make([]byte, 16<<10)
	oob := make([]byte, syscall.CmsgSpace(4*4))
	for {
		n, oobn, _, _, err := syscall.Recvmsg(fd, buf, oob, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read the handoff: %w", err)
		}
		if oobn > 0 {
			msgs, _ := syscall.ParseSocketControlMessage(oob[:oobn])
			for _, m := range msgs {
				fds, _ := syscall.ParseUnixRights(&m)
				for _, f := range fds {
					// Nothing is started before the handoff is in, so
					// marking it here is in time (macOS has no
					// MSG_CMSG_CLOEXEC).
					syscall.CloseOnExec(f)
					if lock < 0 {
						lock = f
					} else {
						syscall.Close(f)
					}
				}
			}
		}
		if n == 0 {
			break
		}
		data = append(data, buf[:n]...)
		if len(data) > maxHandoff {
			return nil, exit.Errorf(exit.DataErr, "handoff longer than %d bytes", maxHandoff)
		}
	}
	if len(data) == 0 && lock < 0 {
		return nil, nil
	}
	parts := bytes.SplitN(data, []byte{0}, 6)
	if len(parts) != 6 || lock < 0 || string(parts[0]) != handoffVersion {
		if lock >= 0 {
			syscall.Close(lock)
		}
		if len(parts) > 0 && string(parts[0]) != handoffVersion {
			return nil, exit.Errorf(exit.Failure, "tpm-supervise was given a handoff of another version (%.20q): reinstall tpm's binaries together", parts[0])
		}
		return nil, exit.Errorf(exit.DataErr, "incomplete handoff")
	}
	h := &handoff{tree: string(parts[1]), name: string(parts[2]), mode: string(parts[4]), line: parts[5], lock: os.NewFile(uintptr(lock), "lock")}
	if h.mode != modeStart && h.mode != modeAdopt {
		h.lock.Close()
		return nil, exit.Errorf(exit.DataErr, "handoff of unknown mode %q", h.mode)
	}
	if d, err := time.ParseDuration(string(parts[3])); err == nil && d > 0 {
		h.hold = d
	}
	return h, nil
}

// setTitle writes s over the placeholder argument, where ps reads it: the
// bytes of os.Args are those of the process's own argument area, which the
// runtime does not copy. The rest of the placeholder becomes NULs.
func setTitle(s string) {
	if len(os.Args) < 2 || os.Args[1] != TitleArg {
		return
	}
	arg := unsafe.Slice(unsafe.StringData(os.Args[1]), len(os.Args[1]))
	n := copy(arg, s)
	clear(arg[n:])
	os.Args = os.Args[:1] // the placeholder's bytes are no longer a string anyone should read
}
