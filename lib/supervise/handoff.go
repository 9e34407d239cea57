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

// A supervisor is started before it has anything to do: tpm-start runs it
// first thing, so that the few milliseconds a Go program takes to come up
// pass while tpm-start parses its flags and reads its records. It then
// waits on its socket, fd 0, for the handoff:
//
//	TREE NUL NAME NUL HOLD NUL META-LINE, then EOF
//
// with NAME's run lock riding on the first bytes as SCM_RIGHTS. HOLD is a
// duration (0s: none). Its answers go back on the same socket. A supervisor
// that reads EOF before any of it was not needed: it ends quietly.

// Handoff returns the bytes tpm-start sends before the meta line.
func Handoff(tree, name string, hold time.Duration) []byte {
	return []byte(tree + "\x00" + name + "\x00" + hold.String() + "\x00")
}

// TitleArg is the placeholder argument tpm-start gives a supervisor. Once it
// knows what it supervises, the supervisor writes "TREE NAME" over it, so
// that ps shows which program each supervisor keeps.
var TitleArg = string(bytes.Repeat([]byte{' '}, 300))

// handoff is what a supervisor receives from tpm-start.
type handoff struct {
	tree, name string
	hold       time.Duration
	line       []byte
	lock       *os.File
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
	parts := bytes.SplitN(data, []byte{0}, 4)
	if len(parts) != 4 || lock < 0 {
		if lock >= 0 {
			syscall.Close(lock)
		}
		return nil, exit.Errorf(exit.DataErr, "incomplete handoff from tpm-start")
	}
	h := &handoff{tree: string(parts[0]), name: string(parts[1]), line: parts[3], lock: os.NewFile(uintptr(lock), "lock")}
	if d, err := time.ParseDuration(string(parts[2])); err == nil && d > 0 {
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
