// Package stopcmd is tpm-stop: it stops processes and their whole process
// groups (the work is lib/stop's).
package stopcmd

import (
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/names"
	"github.com/tetra-toolkit/tpm/lib/port"
	"github.com/tetra-toolkit/tpm/lib/spec"
	"github.com/tetra-toolkit/tpm/lib/state"
	"github.com/tetra-toolkit/tpm/lib/stop"
)

type grammar struct {
	All     bool     `help:"Stop every process."`
	Port    string   `placeholder:"PORT" help:"Stop the process on PORT."`
	Timeout string   `placeholder:"D" help:"Grace before KILL (default: the process's kill timeout, 3s); 0 kills at once."`
	Signal  string   `placeholder:"SIG" help:"First signal (default: the process's own, TERM)."`
	Targets []string `arg:"" optional:"" name:"NAME|PATTERN" help:"Processes to stop: names or shell globs ('api-*')."`

	cli.HostFlag `embed:""` // --host: stopcmd/host.go
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

func run(e *cli.Env, g *grammar) error {
	if done, err := onHosts(e, g); done {
		return err
	}
	var o stop.Options
	if g.Timeout != "" {
		d, err := spec.ParseDuration(g.Timeout, time.Second)
		if err != nil {
			return cli.Usagef("--timeout: %v", err)
		}
		o.Timeout, o.TimeoutSet = d, true
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

func stopOne(t *state.Tree, name string, o stop.Options) result {
	line, err := stop.Stop(t, name, o)
	return result{line, err}
}
