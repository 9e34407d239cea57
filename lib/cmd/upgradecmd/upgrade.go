// Package upgradecmd is tpm-upgrade: it asks running supervisors to execute
// the installed tpm-supervise binary over themselves (lib/supervise,
// upgrade.go), and reports how each went.
package upgradecmd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/state"
)

type grammar struct {
	Binary  string   `placeholder:"PATH" help:"The tpm-supervise binary to move to (default: the one installed with tpm-upgrade)."`
	Targets []string `arg:"" optional:"" name:"NAME|PATTERN" help:"Processes whose supervisors to upgrade (default: every running one)."`
}

const description = `Move running supervisors to the installed tpm-supervise binary, in place: each
supervisor executes the new binary over itself, keeping its PID, its program
(untouched, still its child), its pipes, policies and counters; no output line
is lost or written twice. A supervisor whose new binary does not run goes on
with the old one, and says so.

Prints "NAME upgraded FROM -> TO" for each, "NAME not running" for a process
without a supervisor. tpm-ls --json shows each supervisor's sup_version.

Exit codes: 0 ok, 1 an upgrade failed, 64 usage, 65 bad name, 66 no such process.`

// Main runs tpm-upgrade and returns its exit status.
func Main(e *cli.Env) int {
	var g grammar
	return e.Run(&g, description, func() error { return run(e, &g) })
}

// answerWait bounds the wait for a supervisor's answer: the new binary's
// --version runs first, then the exec.
const answerWait = 30 * time.Second

func run(e *cli.Env, g *grammar) error {
	bin := g.Binary
	if bin == "" {
		var err error
		if bin, err = cli.Companion("tpm-supervise"); err != nil {
			return err
		}
	}
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(bin); err != nil || !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
		return exit.Errorf(exit.NoInput, "%s is not an executable file", bin)
	}
	t, err := state.Open()
	if err != nil {
		return err
	}
	var ns []string
	if len(g.Targets) == 0 {
		all, err := t.Names()
		if err != nil {
			return err
		}
		for _, n := range all {
			if t.Supervised(n) {
				ns = append(ns, n)
			}
		}
	} else if ns, err = cli.Resolve(t, g.Targets); err != nil {
		return err
	}
	lines := make([]string, len(ns))
	errs := make([]error, len(ns))
	var wg sync.WaitGroup
	for i, n := range ns {
		wg.Go(func() { lines[i], errs[i] = upgrade(t, n, bin) })
	}
	wg.Wait()
	code := exit.OK
	for i := range ns {
		if errs[i] != nil {
			e.Report(errs[i])
			code = max(code, exit.Code(errs[i]))
			continue
		}
		fmt.Fprintln(e.Stdout, lines[i])
	}
	if code != exit.OK {
		return cli.Silent(code)
	}
	return nil
}

// upgrade asks NAME's supervisor to execute bin, and waits for its answer.
func upgrade(t *state.Tree, name, bin string) (string, error) {
	from := "?"
	if m, err := t.ReadMeta(name); err == nil && m.Value(state.KeySupVersion) != "" {
		from = m.Value(state.KeySupVersion)
	}
	sup, answer, ok, err := t.Ask(name, []string{"upgrade", bin}, answerWait)
	switch {
	case errors.Is(err, state.ErrNoSupervisor):
		return name + " not running", nil
	case err != nil:
		return "", err
	case !ok:
		return "", exit.Errorf(exit.Failure, "%s: not upgraded: %s", name, answer)
	}
	return fmt.Sprintf("%s upgraded %s -> %s (supervisor pid %d)", name, from, answer, sup.PID), nil
}
