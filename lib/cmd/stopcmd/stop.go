// Package stopcmd is tpm-stop: it stops processes and their whole process
// groups, through their supervisors when they are alive and directly, with
// the identity checked, when they are not.
package stopcmd

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/meta"
	"github.com/tetra-toolkit/tpm/lib/names"
	"github.com/tetra-toolkit/tpm/lib/port"
	"github.com/tetra-toolkit/tpm/lib/proc"
	"github.com/tetra-toolkit/tpm/lib/spec"
	"github.com/tetra-toolkit/tpm/lib/state"
)

type grammar struct {
	All     bool     `help:"Stop every process."`
	Port    string   `placeholder:"PORT" help:"Stop the process on PORT."`
	Timeout string   `placeholder:"D" help:"Grace before KILL (default: the process's kill timeout, 3s)."`
	Signal  string   `placeholder:"SIG" help:"First signal (default: the process's own, TERM)."`
	Targets []string `arg:"" optional:"" name:"NAME|PATTERN" help:"Processes to stop: names or shell globs ('api-*')."`
}

const description = `Stop processes: the first signal (TERM unless set otherwise) and CONT to the
whole process group, a grace period, then KILL to the group. The pid file is
removed; the meta line and the logs stay (tpm-clean removes them).

Prints "NAME stopped" for each process stopped, "NAME not running" for one that
was not running (which is not an error).

Exit codes: 0 ok, 1 a stop failed, 64 usage, 65 bad name or data, 66 no such process.`

// Main runs tpm-stop and returns its exit status.
func Main(e *cli.Env) int {
	var g grammar
	return e.Run(&g, description, func() error { return run(e, &g) })
}

// Options override a process's own stop settings.
type Options struct {
	Timeout time.Duration // grace before KILL; 0: the process's own
	Signal  string        // first signal; "": the process's own
}

// Stop stops one process (and its group) and returns the line to print:
// "NAME stopped" or "NAME not running".
func Stop(t *state.Tree, name string, o Options) (string, error) {
	r := stopOne(t, name, o)
	return r.line, r.err
}

func run(e *cli.Env, g *grammar) error {
	var o Options
	if g.Timeout != "" {
		d, err := spec.ParseDuration(g.Timeout, time.Second)
		if err != nil {
			return cli.Usagef("--timeout: %v", err)
		}
		o.Timeout = d
	}
	if g.Signal != "" {
		s, err := spec.NormSignal(g.Signal)
		if err != nil {
			return cli.Usagef("--signal: %v", err)
		}
		o.Signal = s
	}
	t, err := state.Open()
	if err != nil {
		return err
	}
	ns, err := targets(t, g)
	if err != nil {
		return err
	}
	// Stop them all at once, so that ten programs that ignore TERM take one
	// grace period, not ten; report in order.
	results := make([]result, len(ns))
	var wg sync.WaitGroup
	for i, n := range ns {
		wg.Go(func() { results[i] = stopOne(t, n, o) })
	}
	wg.Wait()
	code := exit.OK
	for _, r := range results {
		if r.err != nil {
			e.Report(r.err)
			code = max(code, exit.Code(r.err))
			continue
		}
		fmt.Fprintln(e.Stdout, r.line)
	}
	if code != exit.OK {
		return cli.Silent(code)
	}
	return nil
}

func targets(t *state.Tree, g *grammar) ([]string, error) {
	modes := 0
	if g.All {
		modes++
	}
	if g.Port != "" {
		modes++
	}
	if len(g.Targets) > 0 {
		modes++
	}
	switch {
	case modes == 0:
		return nil, cli.WithHint(cli.Usagef("nothing to stop"), "tpm-stop NAME..., tpm-stop --all or tpm-stop --port PORT")
	case modes > 1:
		return nil, cli.Usagef("give names, --all or --port, not several")
	case g.All:
		return t.Names()
	case g.Port != "":
		p, err := port.Parse(g.Port)
		if err != nil {
			return nil, cli.Usagef("--port: %v", err)
		}
		return onPort(t, p)
	}
	var out []string
	for _, a := range g.Targets {
		// A record removed by hand while its program runs: the supervisor
		// is still there to ask.
		if !names.IsPattern(a) && names.Valid(a) && !fileExists(t.Meta(a)) && t.Supervised(a) {
			out = append(out, a)
			continue
		}
		ns, err := cli.Resolve(t, []string{a})
		if err != nil {
			return nil, err
		}
		for _, n := range ns {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// onPort finds the processes recorded on port p: the live ones if any,
// else every record of that port.
func onPort(t *state.Tree, p int) ([]string, error) {
	recs, err := t.LoadAll()
	if err != nil {
		return nil, err
	}
	var live, all []string
	for _, r := range recs {
		if r.Meta == nil || int(r.Meta.Int("port")) != p {
			continue
		}
		all = append(all, r.Name)
		if r.Alive() {
			live = append(live, r.Name)
		}
	}
	if len(all) == 0 {
		return nil, exit.Errorf(exit.NoInput, "no process on port %d", p)
	}
	if len(live) > 0 {
		return live, nil
	}
	return all, nil
}

type result struct {
	line string
	err  error
}

// stopMargin is how long tpm-stop waits beyond the grace for the supervisor
// to finish: the KILL, the reaping, the records.
const stopMargin = 5 * time.Second

func stopOne(t *state.Tree, name string, o Options) result {
	// The record gives the process's own signal and grace. A record that
	// cannot be read (edited by hand, or removed while the program runs) must
	// not keep a supervisor from stopping its program: it knows its own.
	m, merr := t.ReadMeta(name)
	s := spec.New()
	own := false
	if merr == nil {
		if sp, err := spec.FromMeta(name, m); err == nil {
			s, own = sp, true
		}
	}
	grace, sig := s.KillTimeout, s.Signal
	if o.Timeout > 0 {
		grace = o.Timeout
	}
	if o.Signal != "" {
		sig = o.Signal
	}
	reqSig, reqMs := sig, grace.Milliseconds()
	if !own && o.Signal == "" {
		reqSig = "-"
	}
	if !own && o.Timeout == 0 {
		reqMs = 0
	}

	// Through the supervisor: it is the program's parent.
	switch err := t.Request(name, "stop "+reqSig+" "+strconv.FormatInt(reqMs, 10)); {
	case err == nil:
		if !waitStopped(t, name, m, grace+stopMargin) {
			return result{err: exit.Errorf(exit.Failure, "%s: still running %v after the stop request", name, grace+stopMargin)}
		}
		return result{line: name + " stopped"}
	case !errors.Is(err, state.ErrNoSupervisor):
		return result{err: fmt.Errorf("%s: %w", name, err)}
	}
	if merr != nil {
		return result{err: merr}
	}

	// No supervisor (killed, or a record of the bash TPM): look at what
	// really runs.
	r, err := t.Load(name)
	if err != nil {
		return result{err: err}
	}
	if r.Meta == nil {
		return result{err: exit.With(exit.DataErr, r.Err)}
	}
	stopped := false
	switch {
	case r.ProgAlive:
		if err := direct(r, sig, grace); err != nil {
			return result{err: exit.With(exit.Failure, fmt.Errorf("%s: %w", name, err))}
		}
		stopped = true
	default:
		// The leader is gone, but what it started may not be: a group whose
		// members still hold the run lock (and the port).
		n, err := leftovers(r, sig, grace)
		if err != nil {
			return result{err: exit.With(exit.Failure, fmt.Errorf("%s: %w", name, err))}
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
				markStopped(t, name, sig)
			} else {
				markStopped(t, name, "")
			}
		}
		f.Close()
	}
	if stopped {
		return result{line: name + " stopped"}
	}
	return result{line: name + " not running"}
}

// waitStopped waits until the supervisor the record names has ended and
// nothing of NAME holds its run lock. Both: a lock file removed by hand (and
// made anew by another command) proves nothing alone.
func waitStopped(t *state.Tree, name string, m *meta.Meta, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	if m != nil {
		if sup := int(m.Int(state.KeySupPid)); sup > 0 && !proc.WaitGone(sup, m.Value(state.KeySupToken), 0, timeout) {
			return false
		}
	}
	if t.LockExists(name) {
		return t.WaitUnlocked(name, max(time.Until(deadline), 0))
	}
	return true
}

// markStopped records that the process was stopped (sig: by that signal) or
// found dead.
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

// direct stops a program whose supervisor is gone. Every signal goes through
// a check of the target's start-time token: the group only while its leader
// is verified, leftovers one by one, each verified.
func direct(r *state.Record, sigName string, grace time.Duration) error {
	sig, err := spec.ParseSignal(sigName)
	if err != nil {
		sig = syscall.SIGTERM
	}
	m := r.Meta
	pid, token, start := r.Prog.PID, m.Value(state.KeyToken), m.Int("start_time")
	leaderStart := r.Prog.Started()
	send := func(s syscall.Signal) {
		if r.Prog.PGID == pid {
			proc.SignalGroup(pid, token, start, s)
		} else {
			proc.Signal(pid, token, start, s)
		}
	}
	send(sig)
	send(syscall.SIGCONT)
	deadline := time.Now().Add(grace)
	if !proc.WaitGone(pid, token, start, grace) {
		send(syscall.SIGKILL)
		if !proc.WaitGone(pid, token, start, stopMargin) {
			return fmt.Errorf("pid %d did not end after KILL", pid)
		}
	}
	if r.Prog.PGID != pid {
		return nil
	}
	// The leader is gone; what is left of its group had the signal with it,
	// and gets the rest of the grace, then KILL.
	_, err = clearMembers(pid, leaderStart, 0, max(time.Until(deadline), 0))
	return err
}

// leftovers stops what is left of the group of a record whose leader has
// ended without its supervisor: the members that started after the run did,
// each signalled on its own after its token is checked. It returns how many
// there were.
func leftovers(r *state.Record, sigName string, grace time.Duration) (int, error) {
	sig, err := spec.ParseSignal(sigName)
	if err != nil {
		sig = syscall.SIGTERM
	}
	pid := int(r.Meta.Int("pid"))
	start := r.Meta.Int("start_time")
	if pid <= 0 || start <= 0 {
		return 0, nil
	}
	return clearMembers(pid, time.Unix(start, 0), sig, grace)
}

// clearMembers stops the members of group pgid that started no earlier than
// since: sig (unless 0) and CONT, the grace, then KILL. It returns how many
// it found.
func clearMembers(pgid int, since time.Time, sig syscall.Signal, grace time.Duration) (int, error) {
	members := func() []proc.Info {
		ms, _ := proc.Members(pgid, since)
		return ms
	}
	found := len(members())
	for _, round := range []struct {
		sig  syscall.Signal
		wait time.Duration
	}{{sig, grace}, {syscall.SIGKILL, stopMargin}} {
		ms := members()
		if len(ms) == 0 {
			return found, nil
		}
		if round.sig != 0 {
			for _, in := range ms {
				proc.Signal(in.PID, in.Token, 0, round.sig)
				proc.Signal(in.PID, in.Token, 0, syscall.SIGCONT)
			}
		}
		deadline := time.Now().Add(round.wait)
		for _, in := range ms {
			proc.WaitGone(in.PID, in.Token, 0, max(time.Until(deadline), 0))
		}
	}
	if ms := members(); len(ms) > 0 {
		return found, fmt.Errorf("%d processes of its group did not end after KILL", len(ms))
	}
	return found, nil
}
