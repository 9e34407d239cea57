package startcmd

import (
	"sync"
	"time"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/proc"
	"github.com/tetra-toolkit/tpm/lib/spec"
	"github.com/tetra-toolkit/tpm/lib/state"
	"github.com/tetra-toolkit/tpm/lib/stop"
)

// tpm-restart is a start from the records after a stop, so it lives with
// tpm-start: the same jobs, locks, spares and readiness wait.

type restartGrammar struct {
	All          bool     `help:"Restart every process."`
	UpdateEnv    bool     `help:"Start with the current environment instead of the saved one."`
	EnvFile      []string `placeholder:"FILE" help:"With --update-env: add the KEY=VALUE lines of a dotenv FILE (repeatable)."`
	Wait         waitFlag `placeholder:"TIMEOUT" help:"Return only when each program is ready, as tpm-start --wait."`
	Timeout      string   `placeholder:"D" help:"Grace before KILL for the stop (default: the process's kill timeout); 0 kills at once."`
	Restart      string   `placeholder:"POLICY" help:"Change the restart policy: no, on-failure or always."`
	MaxRestarts  string   `placeholder:"N" help:"Change the quick failures in a row before giving up."`
	MinUptime    string   `placeholder:"D" help:"Change the run time that resets the back-off."`
	KillTimeout  string   `placeholder:"D" help:"Change the grace between the stop signal and KILL."`
	LogMaxSize   string   `placeholder:"SIZE" help:"Change the size past which a log rotates."`
	LogKeep      string   `placeholder:"N" help:"Change how many rotated logs are kept."`
	Signal       string   `placeholder:"SIG" help:"Change the first stop signal."`
	NoTimestamps bool     `help:"Write log lines without the time stamp from now on."`
	Targets      []string `arg:"" optional:"" name:"NAME|PATTERN" help:"Processes to restart: names or shell globs ('api-*')."`

	cli.HostFlag `embed:""` // --host: startcmd/host.go
}

const restartDescription = `Restart processes: stop each (its whole process group, as tpm-stop), then start
it again from its record (as tpm-start NAME), with the environment it was
started with (--update-env: the current one). A process that is not running is
simply started. The policy flags change the record as they would at a start.

Prints "NAME restarted pid=PID" for each.

Exit codes: 0 ok, 1 a stop or start failed (or --wait: not ready), 64 usage,
65 bad name or record, 66 no such process, 73 cannot write, 75 locked.`

// RestartMain runs tpm-restart and returns its exit status.
func RestartMain(e *cli.Env) int {
	proc.CloseOnExecFrom(3)
	if len(e.Args) > 0 {
		primeSpare()
		defer discardSpare()
	}
	var rg restartGrammar
	return e.Run(&rg, restartDescription, func() error { return restart(e, &rg) })
}

func restart(e *cli.Env, rg *restartGrammar) error {
	if done, err := onRestartHosts(e, rg); done {
		return err
	}
	if rg.All == (len(rg.Targets) > 0) {
		return cli.WithHint(cli.Usagef("give names or --all"), "tpm-restart NAME|PATTERN... or tpm-restart --all")
	}
	if len(rg.EnvFile) > 0 && !rg.UpdateEnv {
		return cli.WithHint(cli.Usagef("--env-file changes the environment only with --update-env"), "tpm-restart --update-env --env-file FILE NAME")
	}
	var o stop.Options
	if rg.Timeout != "" {
		d, err := spec.ParseDuration(rg.Timeout, time.Second)
		if err != nil {
			return cli.Usagef("--timeout: %v", err)
		}
		o.Timeout, o.TimeoutSet = d, true
	}
	g := &grammar{
		UpdateEnv: rg.UpdateEnv, EnvFile: rg.EnvFile, Wait: rg.Wait,
		Restart: rg.Restart, MaxRestarts: rg.MaxRestarts, MinUptime: rg.MinUptime, KillTimeout: rg.KillTimeout,
		LogMaxSize: rg.LogMaxSize, LogKeep: rg.LogKeep, Signal: rg.Signal, NoTimestamps: rg.NoTimestamps,
		verb: "restarted",
	}
	// The flags are checked before anything is stopped.
	if err := g.settings(spec.New()); err != nil {
		return err
	}
	if rg.UpdateEnv {
		if _, err := g.baseEnv(); err != nil {
			return err
		}
	}
	t, err := state.Open()
	if err != nil {
		return err
	}
	var ns []string
	if rg.All {
		if ns, err = t.Names(); err != nil {
			return err
		}
		if len(ns) == 0 {
			return exit.Errorf(exit.NoInput, "no process to restart")
		}
	} else if ns, err = cli.Resolve(t, rg.Targets); err != nil {
		return err
	}
	// Stop them all at once (ten programs that ignore TERM take one grace,
	// not ten), then start them.
	errs := make([]error, len(ns))
	var wg sync.WaitGroup
	for i, n := range ns {
		wg.Go(func() { _, errs[i] = stop.Stop(t, n, o) })
	}
	wg.Wait()
	var started []string
	code := exit.OK
	for i, n := range ns {
		if errs[i] != nil {
			e.Report(errs[i])
			code = max(code, exit.Code(errs[i]))
			continue
		}
		started = append(started, n)
	}
	if len(started) > 0 {
		if err := fromRecords(e, g, t, started, true); err != nil {
			if code == exit.OK {
				return err
			}
			e.Report(err)
			code = max(code, exit.Code(err))
		}
	}
	if code != exit.OK {
		return cli.Silent(code)
	}
	return nil
}
