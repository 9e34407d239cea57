package supervise

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"time"

	"github.com/tetra-toolkit/tpm/lib/envfile"
	"github.com/tetra-toolkit/tpm/lib/events"
	"github.com/tetra-toolkit/tpm/lib/meta"
	"github.com/tetra-toolkit/tpm/lib/proc"
	"github.com/tetra-toolkit/tpm/lib/spec"
	"github.com/tetra-toolkit/tpm/lib/state"
)

// Reload (tpm-reload NAME): a new run starts beside the current one, and
// only once it is ready is the current one stopped, with its stop signal
// and grace, so that something answers on the PORT at every moment. Ready
// means: its process group holds a socket listening on the PORT (the
// program shares the port with the run before it through SO_REUSEPORT);
// with --listen, where the socket is the supervisor's and connections wait
// in its queue meanwhile, or with no PORT, that it has stayed up a second.
// A new run that ends, or is not ready in time, is stopped, and the current
// one goes on: the reload failed.
//
// Request: "reload TIMEOUT_MS REPLY"; the answer on REPLY is "ok PID" or
// "failed WHY".

// run is what the supervisor knows of one run of its program.
type run struct {
	pid           int
	token         string
	started       time.Time
	exitCh        chan error
	adopted       bool
	session       int
	ended, reaped bool
}

func (s *sup) current() run {
	return run{s.pid, s.token, s.started, s.exitCh, s.adopted, s.session, s.ended, s.reaped}
}

func (s *sup) use(r run) {
	s.pid, s.token, s.started, s.exitCh, s.adopted, s.session, s.ended, s.reaped = r.pid, r.token, r.started, r.exitCh, r.adopted, r.session, r.ended, r.reaped
}

// defaultReloadWait bounds the wait for a new run to get ready.
const defaultReloadWait = 30 * time.Second

func (s *sup) reload(r request) {
	fail := func(err error) {
		s.event(events.Reload, "error", err.Error())
		answer(r.reply, "failed "+err.Error())
	}
	if s.ended {
		fail(errors.New("the program is not running"))
		return
	}
	wait := r.timeout
	if wait <= 0 {
		wait = defaultReloadWait
	}
	// The new run is what the record says now (applying an ecosystem file
	// again with --reload writes the new program there first), with the
	// saved environment as it is now. The PORT stays: it is what the two
	// runs share.
	oldSpec, oldEnv := s.spec, s.env
	if m, err := s.tree.ReadMeta(s.name); err == nil {
		if n, err := spec.FromMeta(s.name, m); err == nil && n.Port == s.spec.Port && n.Listen == s.spec.Listen {
			s.spec = n
		}
	}
	if env, err := envfile.Read(s.tree.Env(s.name)); err == nil {
		s.env = env
	}
	old := s.current()
	pid, err := s.fork()
	if err != nil {
		s.spec, s.env = oldSpec, oldEnv
		fail(err)
		return
	}
	in, err := proc.Stat(pid)
	if err != nil {
		in.Token = ""
	}
	next := run{pid: pid, token: in.Token, started: time.Now(), exitCh: make(chan error, 1), session: s.self.SID}
	go func(ch chan<- error) { ch <- waitExited(pid) }(next.exitCh)
	s.event(events.Start, "pid", strconv.Itoa(pid), "reload", "1")

	if err := s.waitNext(next, wait); err != nil {
		// The new run goes; the current one stays.
		s.use(next)
		if !s.ended {
			s.terminate(s.stopSignal(""), 0, nil)
		} else {
			s.reap(0, 0)
		}
		s.use(old)
		s.spec, s.env = oldSpec, oldEnv
		fail(err)
		return
	}
	// Ready: the current run goes, with its own signal and grace.
	s.stopWatchers()
	o := s.terminate(s.stopSignal(""), s.spec.KillTimeout, nil)
	_ = o
	s.use(next)
	s.startWatchers()
	s.launching = false
	s.writePid(true)
	s.editMeta(func(m *meta.Meta) {
		s.runFields(m)
		m.Set(state.KeyState, state.Online)
	})
	s.event(events.Reload, "from", strconv.Itoa(old.pid), "to", strconv.Itoa(pid))
	answer(r.reply, "ok "+strconv.Itoa(pid))
}

// waitNext waits until the new run is ready, has ended, or wait passes.
func (s *sup) waitNext(next run, wait time.Duration) error {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	up := time.After(onlineAfter)
	// Which process holds a socket can be told on Linux only: elsewhere a
	// new run is ready once it has stayed up a second.
	byPort := s.spec.Port > 0 && s.listener == nil && runtime.GOOS == "linux"
	// With wait_log, the first matching line after the new run started.
	byLine := s.lines.compiled != nil // armed by fork
	if byLine {
		byPort, up = false, nil
	}
	for {
		select {
		case <-next.exitCh:
			next.exitCh <- nil // for the reap that follows
			return errors.New("the new run ended before it was ready")
		case <-s.lines.ch:
			if byLine {
				return nil
			}
		case <-deadline.C:
			if byLine {
				return fmt.Errorf("the new run wrote no line matching %q within %v", s.spec.WaitLog, wait)
			}
			if byPort {
				return fmt.Errorf("the new run did not listen on port %d within %v", s.spec.Port, wait)
			}
			return fmt.Errorf("the new run was not ready within %v", wait)
		case <-up:
			if !byPort {
				return nil
			}
		case <-tick.C:
			if byPort && proc.Listening(groupOf(next.pid), s.spec.Port) {
				return nil
			}
		}
	}
}

// groupOf lists the live processes of process group pgid.
func groupOf(pgid int) []int {
	all, _ := proc.All()
	var out []int
	for _, in := range all {
		if in.PGID == pgid && !in.Zombie {
			out = append(out, in.PID)
		}
	}
	return out
}
