package supervise

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/tetra-toolkit/tpm/lib/events"
	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/meta"
	"github.com/tetra-toolkit/tpm/lib/proc"
	"github.com/tetra-toolkit/tpm/lib/state"
)

// Output survives its supervisor (SPEC §12). Each program holds, besides
// its stdout and stderr, a read end of each of its two output pipes, on
// HoldOut and HoldErr. When its supervisor dies (kill -9, the OOM killer),
// the pipes still have a reader, so the program's writes do not fail: they
// wait in the pipe (1 MiB where the system allows) and, once it is full,
// block the program until a new supervisor adopts it. A program that closes
// every descriptor it did not open loses that: its next write after its
// supervisor's death fails (EPIPE, or SIGPIPE).
//
// Adoption: a new supervisor takes over a program whose PID and token match
// its record and whose supervisor is gone: same PID, same pipes. It opens
// the program's held read ends through /proc/PID/fd (Linux; the same user
// needs no ptrace rights for that), so what waited in the pipes is written
// to the logs first, in order, and learns of the program's end through a
// process handle. The program is not its child, so its exit code is not
// known: the record says exit_code=unknown, and the restart policy treats
// the end as a failure.
const (
	HoldOut = 200
	HoldErr = 201
)

// adoptPipes opens the pipes of the program the handoff names, which must
// be alive and match its record.
func (s *sup) adoptPipes() error {
	m := s.first
	pid, token := int(m.Int("pid")), m.Value(state.KeyToken)
	in, ok := proc.Alive(pid, token, m.Int("start_time"))
	if !ok {
		return exit.Errorf(exit.Failure, "%s: pid %d is no longer the program of its record", s.name, pid)
	}
	outR, errR, err := openHeldPipes(pid)
	if err != nil {
		return exit.With(exit.Failure, fmt.Errorf("cannot adopt %s (pid %d): %w", s.name, pid, err))
	}
	// Still the same process now that its pipes are open: its PID was not
	// reused meanwhile.
	if now, ok := proc.Alive(pid, token, 0); !ok || now.Token != in.Token {
		outR.Close()
		errR.Close()
		return exit.Errorf(exit.Failure, "%s: pid %d ended while it was being adopted", s.name, pid)
	}
	outW, errW, err := writeEnds(outR, errR)
	if err != nil {
		outR.Close()
		errR.Close()
		return exit.With(exit.Failure, fmt.Errorf("cannot adopt %s: %w", s.name, err))
	}
	// The pipes made for a program of our own are not needed.
	for _, f := range []*os.File{s.outR, s.errR, s.outW, s.errW} {
		if f != nil {
			f.Close()
		}
	}
	s.outR, s.errR, s.outW, s.errW = outR, errR, outW, errW
	if s.spec.Listen && s.spec.Port > 0 {
		// Its socket, if the system lets us take a copy; else a new one
		// is bound once the program has ended.
		s.listener = takeSocket(pid, listenFD)
	}
	s.pid, s.token, s.started = pid, in.Token, in.Started()
	s.session = in.SID
	s.adopted = true
	s.restarts = int(m.Int(state.KeyRestarts))
	return nil
}

// takeOver takes over the program: its record names this supervisor, its end
// is watched.
func (s *sup) takeOver() error {
	from := s.first.Value(state.KeySupPid)
	s.tree.WritePid(s.name, s.pid)
	if err := s.writeFirst(func(m *meta.Meta) {
		s.runFields(m)
		m.Set(state.KeyState, state.Online)
	}); err != nil {
		return exit.With(exit.CantCreate, err)
	}
	s.event(events.Adopt, "pid", strconv.Itoa(s.pid), "from", from)
	s.exitCh = make(chan error, 1)
	go func(pid int, token string, ch chan<- error) {
		for !proc.WaitGone(pid, token, 0, time.Hour) {
		}
		ch <- nil
	}(s.pid, s.token, s.exitCh)
	s.startWatchers()
	return nil
}

// rawFd is f's descriptor, without what Fd does besides: Fd puts the file
// in blocking mode, after which a read deadline (the pause before an
// upgrade) no longer works.
func rawFd(f *os.File) uintptr {
	var fd uintptr
	if c, err := f.SyscallConn(); err == nil {
		c.Control(func(d uintptr) { fd = d })
	}
	return fd
}
