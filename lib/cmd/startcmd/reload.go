package startcmd

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/logfile"
	"github.com/tetra-toolkit/tpm/lib/proc"
	"github.com/tetra-toolkit/tpm/lib/spec"
	"github.com/tetra-toolkit/tpm/lib/state"
	"github.com/tetra-toolkit/tpm/lib/stop"
)

// tpm-reload replaces running programs with no moment when nothing answers
// on their PORT. Instances of one name (NAME-0 ... NAME-N-1, which share
// their PORT) are restarted one at a time, each waited for until it listens
// itself before the next goes. A single process is reloaded by its
// supervisor, which starts the new run beside the old one (lib/supervise,
// reload.go).

type reloadGrammar struct {
	Timeout string   `placeholder:"D" help:"How long a new run may take to get ready (default 30s)."`
	Targets []string `arg:"" name:"NAME|PATTERN" help:"Processes to reload: names or shell globs ('api-*')."`
}

const reloadDescription = `Replace running programs with no moment when nothing answers on their PORT.

Instances of one name (NAME-0 ... NAME-N-1) are restarted one at a time: each
new one must listen on the PORT itself before the next goes. A single process
gets a new run beside the running one; once the new run listens on the PORT
(with --listen, or with no PORT: once it has stayed up a second) the old one is
stopped with its stop signal and grace. Programs share the PORT with
SO_REUSEPORT, or are started with --listen. A new run that fails to get ready
is stopped, and the old one goes on (exit 1, with the last lines of stderr).

A process that is not running is started. Prints "NAME reloaded pid=PID".

Exit codes: 0 ok, 1 a reload failed, 64 usage, 65 bad name or record,
66 no such process, 73 cannot write, 75 locked.`

// ReloadMain runs tpm-reload and returns its exit status.
func ReloadMain(e *cli.Env) int {
	proc.CloseOnExecFrom(3)
	if len(e.Args) > 0 {
		primeSpare()
		defer discardSpare()
	}
	var rg reloadGrammar
	return e.Run(&rg, reloadDescription, func() error { return reload(e, &rg) })
}

// reloadMargin is what a reload may take beyond the new run's readiness:
// the old run's grace, and the records.
const reloadMargin = 10 * time.Second

func reload(e *cli.Env, rg *reloadGrammar) error {
	wait := DefaultWait
	if rg.Timeout != "" {
		d, err := spec.ParseDuration(rg.Timeout, time.Second)
		if err != nil || d <= 0 {
			return cli.Usagef("--timeout %q: want a duration", rg.Timeout)
		}
		wait = d
	}
	t, err := state.Open()
	if err != nil {
		return err
	}
	ns, err := cli.Resolve(t, rg.Targets)
	if err != nil {
		return err
	}
	code := exit.OK
	report := func(err error) {
		e.Report(err)
		code = max(code, exit.Code(err))
	}
	for _, fam := range families(t, ns) {
		if len(fam) > 1 || instanceOf(t, fam[0]) {
			if err := rollInstances(e, t, fam, wait); err != nil {
				report(err)
			}
			continue
		}
		if err := reloadOne(e, t, fam[0], wait); err != nil {
			report(err)
		}
	}
	if code != exit.OK {
		return cli.Silent(code)
	}
	return nil
}

// families groups names by the process they are instances of, in order.
func families(t *state.Tree, ns []string) [][]string {
	var out [][]string
	index := map[string]int{}
	for _, n := range ns {
		base := n
		if m, err := t.ReadMeta(n); err == nil {
			if i := m.Value(spec.KeyInstance); i != "" {
				base = strings.TrimSuffix(n, "-"+i)
			}
		}
		if k, ok := index[base]; ok {
			out[k] = append(out[k], n)
			continue
		}
		index[base] = len(out)
		out = append(out, []string{n})
	}
	return out
}

func instanceOf(t *state.Tree, n string) bool {
	m, err := t.ReadMeta(n)
	return err == nil && m.Value(spec.KeyInstance) != ""
}

// rollInstances restarts instances one at a time, each until it is ready.
func rollInstances(e *cli.Env, t *state.Tree, ns []string, wait time.Duration) error {
	g := &grammar{Wait: waitFlag{On: true, Timeout: wait}, verb: "reloaded"}
	for _, n := range ns {
		if _, err := stop.Stop(t, n, stop.Options{}); err != nil {
			return err
		}
		if err := fromRecords(e, g, t, []string{n}, false); err != nil {
			if exit.Code(err) == exit.Failure {
				return cli.Silent(exit.Failure) // waitReady has said why
			}
			return err
		}
	}
	return nil
}

// reloadOne asks the supervisor of a single process for a reload.
func reloadOne(e *cli.Env, t *state.Tree, n string, wait time.Duration) error {
	r, err := t.Load(n)
	if err != nil {
		return err
	}
	switch r.Status {
	case state.Unsupervised:
		return cli.WithHint(exit.Errorf(exit.Failure, "%s runs without a supervisor", n), "tpm-start %s gives it one; then reload it", n)
	case state.Online, state.Launching, state.Unhealthy:
	default:
		if r.Alive() {
			return exit.Errorf(exit.TempFail, "%s is %s; try again", n, r.Status)
		}
		g := &grammar{verb: "started"}
		return fromRecords(e, g, t, []string{n}, false)
	}
	_, answer, ok, err := t.Ask(n, []string{"reload", strconv.FormatInt(wait.Milliseconds(), 10)}, wait+reloadMargin)
	switch {
	case errors.Is(err, state.ErrNoSupervisor):
		return exit.Errorf(exit.TempFail, "%s: its supervisor just ended; try again", n)
	case err != nil:
		return err
	case !ok:
		e.Warnf("%s: not reloaded: %s; the running program goes on", n, answer)
		showStderr(e, t, n)
		return cli.Silent(exit.Failure)
	}
	fmt.Fprintf(e.Stdout, "%s reloaded pid=%s\n", n, answer)
	return nil
}

// showStderr prints the last lines of a process's stderr, for a reload
// that failed.
func showStderr(e *cli.Env, t *state.Tree, n string) {
	if tail, err := logfile.Tail(t.Err(n), stderrLines); err == nil && len(tail) > 0 {
		e.Warnf("last lines of %s:", t.Err(n))
		e.Stderr.Write(tail)
		if !slices.Equal(tail[len(tail)-1:], []byte("\n")) {
			e.Stderr.Write([]byte("\n"))
		}
	}
}
