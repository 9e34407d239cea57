package startcmd

import (
	"fmt"
	"slices"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/spec"
	"github.com/tetra-toolkit/tpm/lib/state"
)

// startNames starts known processes again from their records: the program,
// arguments, folder and policy of the meta line, with the saved environment
// (or the current one with --update-env), as PM2's restart does.
func startNames(e *cli.Env, g *grammar, t *state.Tree, ns []string) error {
	if err := g.onlyRecordFlags(); err != nil {
		return err
	}
	return fromRecords(e, g, t, ns, false)
}

// fromRecords starts the named processes from their records; with policy,
// the policy flags of g change each record as they would at a first start
// (tpm-restart).
func fromRecords(e *cli.Env, g *grammar, t *state.Tree, ns []string, policy bool) error {
	var jobs []*job
	for _, n := range ns {
		j, err := recordJob(g, t, n, policy)
		if err != nil {
			return err
		}
		jobs = append(jobs, j)
	}
	if err := fdBudget(len(jobs)); err != nil {
		return err
	}
	return launchAll(e, g, t, jobs)
}

// onlyRecordFlags refuses flags that would change a record: a restart runs
// what the record says.
func (g *grammar) onlyRecordFlags() error {
	set := map[string]bool{
		"--name": g.Name != nil, "--port": g.Port != "", "--cwd": g.Cwd != "", "--instances": g.Instances != "",
		"--restart": g.Restart != "", "--max-restarts": g.MaxRestarts != "", "--min-uptime": g.MinUptime != "",
		"--kill-timeout": g.KillTimeout != "", "--log-max-size": g.LogMaxSize != "", "--log-keep": g.LogKeep != "",
		"--no-timestamps": g.NoTimestamps, "--interpreter": g.Interpreter != "", "--signal": g.Signal != "", "--listen": g.Listen,
		"--env": g.Env != "", "--only": g.Only != "",
	}
	var bad []string
	for f, on := range set {
		if on {
			bad = append(bad, f)
		}
	}
	if len(g.EnvFile) > 0 && !g.UpdateEnv {
		bad = append(bad, "--env-file (without --update-env)")
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return cli.WithHint(cli.Usagef("%v cannot change a known process started by name", bad),
			"a restart runs what the record says; use tpm-meta to change a field, or tpm-clean NAME and start it anew")
	}
	return nil
}

// startStale starts every stale process again: those whose files say they
// run but which are not alive (after a reboot, or a kill -9). Their
// depends_on orders them as at their first start (order.go): each waits
// until what it depends on is ready.
func startStale(e *cli.Env, g *grammar, t *state.Tree) error {
	if err := g.onlyRecordFlags(); err != nil {
		return fmt.Errorf("--stale: %w", err)
	}
	recs, err := t.LoadAll()
	if err != nil {
		return err
	}
	var ns []string
	for _, r := range recs {
		if r.Status == state.Stale {
			ns = append(ns, r.Name)
		}
	}
	// After a reboot one process whose port is now taken must not keep the
	// others down: each starts on its own, and the worst failure is the
	// exit status.
	code := exit.OK
	report := func(err error) {
		e.Report(err)
		code = max(code, exit.Code(err))
	}
	var jobs []*job
	for _, n := range ns {
		j, err := recordJob(g, t, n, false)
		if err != nil {
			report(err)
			continue
		}
		jobs = append(jobs, j)
	}
	if ordered(jobs) {
		// Every lock is taken before the first start.
		err := fdBudget(len(jobs))
		if err == nil {
			err = launchOrdered(e, g, t, jobs, true)
		}
		if err != nil {
			report(err)
		}
	} else {
		for _, j := range jobs {
			if err := launchAll(e, g, t, []*job{j}); err != nil {
				report(err)
			}
		}
	}
	if code != exit.OK {
		return cli.Silent(code)
	}
	return nil
}

// recordJob is the job that starts the process n again from its record;
// with policy, the policy flags of g change the record as they would at a
// first start (tpm-restart).
func recordJob(g *grammar, t *state.Tree, n string, policy bool) (*job, error) {
	r, err := t.Load(n)
	if err != nil {
		return nil, err
	}
	if r.Meta == nil {
		return nil, exit.With(exit.DataErr, r.Err)
	}
	s, err := spec.FromMeta(n, r.Meta)
	if err != nil {
		return nil, exit.Errorf(exit.DataErr, "%s: %v", t.Meta(n), err)
	}
	if policy {
		if err := g.settings(s); err != nil {
			return nil, err
		}
	}
	// Checked now, not by the supervisor: a folder removed since the
	// start would fail its exec with "no such file", which reads as a
	// missing interpreter. A running process is left to launchAll, which
	// says so.
	if !r.Alive() {
		if err := runnable(s); err != nil {
			return nil, exit.With(exit.Code(err), fmt.Errorf("%s: %w", n, err))
		}
	}
	j := &job{spec: s, record: r.Meta, verb: g.verb}
	if g.UpdateEnv {
		if j.env, err = g.baseEnv(); err != nil {
			return nil, err
		}
	}
	return j, nil
}
