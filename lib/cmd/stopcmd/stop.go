// Package stopcmd is tpm-stop: it stops processes and their whole process
// groups, through their supervisors when they are alive and directly, with
// the identity checked, when they are not.
package stopcmd

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/meta"
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
	if _, code, done := e.Parse(&g, description); done {
		return code
	}
	return e.Report(run(e, &g))
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
	return cli.Resolve(t, g.Targets)
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
	m, err := t.ReadMeta(name)
	if err != nil {
		return result{err: err}
	}
	s, err := spec.FromMeta(name, m)
	if err != nil {
		return result{err: exit.Errorf(exit.DataErr, "%s: %v", t.Meta(name), err)}
	}
	grace := s.KillTimeout
	if o.Timeout > 0 {
		grace = o.Timeout
	}
	sig := s.Signal
	if o.Signal != "" {
		sig = o.Signal
	}

	// Through the supervisor: it is the program's parent.
	req := "stop " + sig + " " + strconv.FormatInt(grace.Milliseconds(), 10)
	switch err := t.Request(name, req); {
	case err == nil:
		if !t.WaitUnlocked(name, grace+stopMargin) {
			return result{err: exit.Errorf(exit.Failure, "%s: still running %v after the stop request", name, grace+stopMargin)}
		}
		return result{line: name + " stopped"}
	case !errors.Is(err, state.ErrNoSupervisor):
		return result{err: fmt.Errorf("%s: %w", name, err)}
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
	if !r.ProgAlive {
		if r.PidFile {
			if err := t.RemovePid(name); err != nil {
				return result{err: err}
			}
			markStopped(t, name, "")
		}
		return result{line: name + " not running"}
	}
	if err := direct(r, sig, grace); err != nil {
		return result{err: exit.With(exit.Failure, fmt.Errorf("%s: %w", name, err))}
	}
	if err := t.RemovePid(name); err != nil {
		return result{err: err}
	}
	markStopped(t, name, sig)
	return result{line: name + " stopped"}
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
	// The leader is gone; what is left of its group started after it did.
	members := func() []proc.Info {
		ms, _ := proc.Members(pid, leaderStart)
		return ms
	}
	for _, s := range []syscall.Signal{sig, syscall.SIGKILL} {
		ms := members()
		if len(ms) == 0 {
			return nil
		}
		for _, in := range ms {
			proc.Signal(in.PID, in.Token, 0, s)
			proc.Signal(in.PID, in.Token, 0, syscall.SIGCONT)
		}
		wait := max(time.Until(deadline), 100*time.Millisecond)
		if s == syscall.SIGKILL {
			wait = stopMargin
		}
		for _, in := range ms {
			proc.WaitGone(in.PID, in.Token, 0, wait)
		}
	}
	if ms := members(); len(ms) > 0 {
		return fmt.Errorf("%d processes of its group did not end after KILL", len(ms))
	}
	return nil
}
