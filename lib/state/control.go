package state

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/meta"
	"github.com/tetra-toolkit/tpm/lib/proc"
)

// Each supervisor reads requests on a control FIFO of its own,
// run/NAME.SUPPID.ctl, which it holds open for reading for its whole life
// and removes before it lets go of NAME's run lock. A requester therefore
// knows which supervisor took its request, and can wait for that one to end,
// even while a stop races a start and the outgoing supervisor of NAME and
// the incoming one both exist for a moment.

// ErrNoSupervisor is returned by Request when no supervisor reads NAME's
// control FIFO.
var ErrNoSupervisor = errors.New("no supervisor")

// MaxRequest bounds a request line; a supervisor drops longer lines.
const MaxRequest = 4 << 10

// Ctl returns the path of the control FIFO of NAME's supervisor sup.
func (t *Tree) Ctl(name string, sup int) string {
	return filepath.Join(t.Root, RunDir, name+"."+strconv.Itoa(sup)+".ctl")
}

// CtlName parses the base name of a control FIFO into its process name and
// supervisor PID.
func CtlName(base string) (name string, sup int, ok bool) {
	rest, ok := strings.CutSuffix(base, ".ctl")
	if !ok {
		return "", 0, false
	}
	i := strings.LastIndexByte(rest, '.')
	if i <= 0 {
		return "", 0, false
	}
	sup, err := strconv.Atoi(rest[i+1:])
	if err != nil || sup <= 0 || rest[i+1] == '+' || rest[i+1] == '0' {
		return "", 0, false
	}
	return rest[:i], sup, true
}

// CtlFiles lists the control FIFOs of NAME, a live supervisor's and any left
// by a supervisor that was killed.
func (t *Tree) CtlFiles(name string) []string {
	ents, err := os.ReadDir(filepath.Join(t.Root, RunDir))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if n, _, ok := CtlName(e.Name()); ok && n == name {
			out = append(out, filepath.Join(t.Root, RunDir, e.Name()))
		}
	}
	return out
}

// A Supervisor is a live supervisor that took a request.
type Supervisor struct {
	PID   int
	Token string
}

// Request writes one request line to NAME's live supervisor and returns
// which supervisor took it. The open does not block: it fails with ENXIO
// when nobody holds a FIFO open for reading, which proves its supervisor
// gone whatever the files say.
//
// The supervisor's token is read before the write: the write reaching a
// reader proves the supervisor was still alive after that, so the token is
// its own and not that of a process that got its PID later.
func (t *Tree) Request(name, line string) (Supervisor, error) {
	if len(line) >= MaxRequest || strings.ContainsAny(line, "\n\x00") {
		return Supervisor{}, errors.New("request too long or not one line")
	}
	for _, path := range t.CtlFiles(name) {
		_, pid, _ := CtlName(filepath.Base(path))
		in, err := proc.Stat(pid)
		if err != nil || in.Zombie {
			continue
		}
		err = writeFIFO(path, []byte(line+"\n"))
		if errors.Is(err, ErrNoSupervisor) {
			continue
		}
		if err != nil {
			return Supervisor{}, err
		}
		return Supervisor{PID: pid, Token: in.Token}, nil
	}
	return Supervisor{}, ErrNoSupervisor
}

// writeFIFO writes data to the FIFO at path, which must have a reader.
func writeFIFO(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, syscall.ENXIO) || errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ELOOP) {
			return ErrNoSupervisor
		}
		return err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		return ErrNoSupervisor
	}
	if data == nil {
		return nil
	}
	// A line far below PIPE_BUF is written whole or not at all.
	_, err = f.Write(data)
	if errors.Is(err, syscall.EPIPE) {
		return ErrNoSupervisor
	}
	return err
}

// Supervised reports whether a supervisor of NAME is alive: one holds a
// control FIFO of NAME open for reading.
func (t *Tree) Supervised(name string) bool {
	for _, p := range t.CtlFiles(name) {
		if writeFIFO(p, nil) == nil {
			return true
		}
	}
	return false
}

// DeadCtl reports whether the control FIFO at path has no reader: its
// supervisor is gone, and the file is litter.
func DeadCtl(path string) bool {
	return errors.Is(writeFIFO(path, nil), ErrNoSupervisor)
}

// LockExists reports whether NAME's run lock file exists.
func (t *Tree) LockExists(name string) bool {
	_, err := os.Lstat(t.Lock(name))
	return err == nil
}

var askSeq atomic.Uint64

// Ask sends NAME's supervisor a request whose last word is the path of a
// reply FIFO it answers on, "ok ..." or "failed ...", and waits up to wait
// for that answer. It returns the answer without its first word, and
// whether it was ok. The FIFO is ours, in run/ under a temporary file's
// name (tpm-clean removes one left behind by a killed caller).
func (t *Tree) Ask(name string, words []string, wait time.Duration) (Supervisor, string, bool, error) {
	reply := filepath.Join(t.Root, RunDir, TempPrefix+name+".reply"+TempMarker+strconv.Itoa(os.Getpid())+"-"+strconv.FormatUint(askSeq.Add(1), 10))
	if err := syscall.Mkfifo(reply, 0o600); err != nil {
		return Supervisor{}, "", false, exit.With(exitFor(err, exit.CantCreate), fmt.Errorf("%s: %w", name, err))
	}
	defer os.Remove(reply)
	// Read and write: the open does not wait for the supervisor, and no
	// EOF comes between its writes.
	f, err := os.OpenFile(reply, os.O_RDWR|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return Supervisor{}, "", false, fmt.Errorf("%s: %w", name, err)
	}
	defer f.Close()
	sup, err := t.Request(name, meta.JoinWords(append(slices.Clone(words), reply)))
	if err != nil {
		return sup, "", false, err
	}
	f.SetReadDeadline(time.Now().Add(wait))
	line, err := bufio.NewReader(f).ReadString('\n')
	line = strings.TrimSpace(line)
	if rest, ok := strings.CutPrefix(line, "ok"); ok {
		return sup, strings.TrimSpace(rest), true, nil
	}
	if rest, ok := strings.CutPrefix(line, "failed"); ok {
		return sup, strings.TrimSpace(rest), false, nil
	}
	if err == nil {
		err = fmt.Errorf("unexpected answer %q", line)
	}
	return sup, "", false, exit.Errorf(exit.Failure, "%s: no answer from its supervisor (pid %d): %v", name, sup.PID, err)
}
