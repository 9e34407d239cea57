// Package stop stops a process of the tree and its whole process group:
// through its supervisor when one is alive (it is the program's parent), and
// directly when none is, signalling only what lib/proc's rule allows (a
// program whose PID and token match its record, and what is left of its
// group in its supervisor's session). tpm-stop and tpm-clean --stop use it.
package stop

import (
	"errors"
	"fmt"
	"strconv"
	"syscall"
	"time"

	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/meta"
	"github.com/tetra-toolkit/tpm/lib/proc"
	"github.com/tetra-toolkit/tpm/lib/spec"
	"github.com/tetra-toolkit/tpm/lib/state"
)

// Options override a process's own stop settings.
type Options struct {
	// Timeout is the grace before KILL when TimeoutSet; 0 kills at once.
	Timeout    time.Duration
	TimeoutSet bool
	// Signal is the first signal; "": the process's own.
	Signal string
}

// Margin is how long a stop waits beyond the grace for the supervisor to
// finish: the KILL, the reaping, the records.
const Margin = 5 * time.Second

// Stop stops one process (and its group) and returns the line to print:
// "NAME stopped" or "NAME not running".
func Stop(t *state.Tree, name string, o Options) (string, error) {
	// The record gives the process's own signal and grace. A record that
	// cannot be read (edited by hand, or removed while the program runs)
	// must not keep a supervisor from stopping its program: it knows its
	// own.
	m, merr := t.ReadMeta(name)
	s := spec.New()
	own := false
	if merr == nil {
		if sp, err := spec.FromMeta(name, m); err == nil {
			s, own = sp, true
		}
	}
	grace, sig := s.KillTimeout, s.Signal
	if o.TimeoutSet {
		grace = o.Timeout
	}
	if o.Signal != "" {
		sig = o.Signal
	}
	reqSig, reqMs := sig, strconv.FormatInt(grace.Milliseconds(), 10)
	if !own && o.Signal == "" {
		reqSig = "-"
	}
	if !own && !o.TimeoutSet {
		reqMs = "-"
	}

	// Through the supervisor: it is the program's parent. The stop is done
	// when the supervisor that took the request has ended: not when the
	// name's lock is free, which a start that raced this stop may hold.
	switch sup, err := t.Request(name, "stop "+reqSig+" "+reqMs); {
	case err == nil:
		if !proc.WaitGone(sup.PID, sup.Token, 0, grace+Margin) {
			return "", exit.Errorf(exit.Failure, "%s: still running %v after the stop request", name, grace+Margin)
		}
		return name + " stopped", nil
	case !errors.Is(err, state.ErrNoSupervisor):
		return "", fmt.Errorf("%s: %w", name, err)
	}
	if merr != nil {
		return "", merr
	}

	// No supervisor (killed, or a record of the bash TPM): look at what
	// really runs.
	r, err := t.Load(name)
	if err != nil {
		return "", err
	}
	if r.Meta == nil {
		return "", exit.With(exit.DataErr, r.Err)
	}
	c := ClaimOf(r)
	firstSig := signal(sig, grace)
	stopped := false
	if r.ProgAlive {
		if err := direct(c, firstSig, grace); err != nil {
			return "", exit.With(exit.Failure, fmt.Errorf("%s: %w", name, err))
		}
		stopped = true
	} else if r.PidFile || !final(r.Meta.Value(state.KeyState)) {
		// The leader is gone, but what it started may not be: members
		// of its group that hold its port. A record that says the program
		// ended gets no look at all.
		n, err := c.ClearLeftovers(firstSig, grace)
		if err != nil {
			return "", exit.With(exit.Failure, fmt.Errorf("%s: %w", name, err))
		}
		stopped = n > 0
	}
	// The files, only under the run lock: a tpm-start that took the lock
	// since owns them now. (A tree of the bash TPM has no run folder yet.)
	t.Ensure()
	if f, err := t.TryLock(name); err == nil {
		if r.PidFile || stopped {
			t.RemovePid(name)
			if stopped {
				markStopped(t, name, spec.SignalName(firstSig))
			} else {
				markStopped(t, name, "")
			}
		}
		f.Close()
	}
	if stopped {
		return name + " stopped", nil
	}
	return name + " not running", nil
}

// ClaimOf is what a record proves about its program, for lib/proc's rule.
func ClaimOf(r *state.Record) proc.Claim {
	m := r.Meta
	c := proc.Claim{PID: int(m.Int("pid")), Token: m.Value(state.KeyToken), Start: m.Int("start_time")}
	// The supervisor leads the session its program runs in; a record of
	// the bash TPM names none.
	if sup := int(m.Int(state.KeySupPid)); sup > 1 {
		c.Session = sup
	}
	return c
}

// final reports whether a recorded state says the program ended.
func final(st string) bool {
	return st == state.Stopped || st == state.Exited || st == state.Errored
}

// signal is the first signal of a stop: name's, or KILL when there is no
// grace at all.
func signal(name string, grace time.Duration) syscall.Signal {
	if grace <= 0 {
		return syscall.SIGKILL
	}
	sig, err := spec.ParseSignal(name)
	if err != nil {
		return syscall.SIGTERM
	}
	return sig
}

// direct stops a program whose supervisor is gone: sig and CONT to it (its
// group when it leads one), the grace, KILL; then what is left of its group
// gets the rest of the grace, then KILL.
func direct(c proc.Claim, sig syscall.Signal, grace time.Duration) error {
	send := func(s syscall.Signal) {
		c.SignalGroup(s)
	}
	deadline := time.Now().Add(grace)
	send(sig)
	send(syscall.SIGCONT)
	if !proc.WaitGone(c.PID, c.Token, c.Start, grace) {
		send(syscall.SIGKILL)
		if !proc.WaitGone(c.PID, c.Token, c.Start, Margin) {
			return fmt.Errorf("pid %d did not end after KILL", c.PID)
		}
	}
	// The group had the signal with its leader: no second one.
	_, err := c.ClearLeftovers(0, max(time.Until(deadline), 0))
	return err
}

// markStopped records that the process was stopped (sig: by that signal)
// or found dead.
func markStopped(t *state.Tree, name, sig string) {
	t.EditMeta(name, func(m *meta.Meta) error {
		m.Set(state.KeyState, state.Stopped)
		if sig != "" {
			m.Del(state.KeyExitCode)
			m.Set(state.KeyExitSig, sig)
			m.SetInt(state.KeyExitTime, time.Now().Unix())
		}
		return nil
	})
}
