package supervise

import (
	"bytes"
	"fmt"
	"os"
	"syscall"
	"time"
	"unsafe"

	"github.com/tetra-toolkit/tpm/lib/exit"
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
