// Package startcmd is tpm-start: it starts a script or command, the apps of
// an ecosystem file, or known processes again from their records, each under
// a supervisor of its own.
package startcmd

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kong"

	"github.com/tetra-toolkit/tpm/lib/app"
	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/envfile"
	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/listen"
	"github.com/tetra-toolkit/tpm/lib/names"
	"github.com/tetra-toolkit/tpm/lib/port"
	"github.com/tetra-toolkit/tpm/lib/proc"
	"github.com/tetra-toolkit/tpm/lib/spec"
	"github.com/tetra-toolkit/tpm/lib/state"
)

// waitFlag is --wait[=TIMEOUT]: bare, it waits DefaultWait.
type waitFlag struct {
	On      bool
	Timeout time.Duration
}

// DefaultWait bounds --wait when no timeout is given.
const DefaultWait = 30 * time.Second

func (w *waitFlag) Decode(ctx *kong.DecodeContext) error {
	w.On, w.Timeout = true, DefaultWait
	if ctx.Scan.Peek().Type != kong.FlagValueToken {
		return nil
	}
	tok := ctx.Scan.Pop()
	d, err := spec.ParseDuration(fmt.Sprint(tok.Value), time.Second)
	if err != nil {
		return err
	}
	w.Timeout = d
	return nil
}

func (w *waitFlag) IsBool() bool { return true }

type grammar struct {
	Name         *string   `help:"Name base instead of the script's basename (the name is NAME-PORT)."` // nil when not given: --name '' is refused, not ignored
	Port         string    `placeholder:"N|auto|none" help:"The PORT: a number, auto (a free one), or none (the program listens on nothing)."`
	Cwd          string    `placeholder:"DIR" help:"Working folder (default: the current one); a relative SCRIPT is found there."`
	Instances    string    `placeholder:"N" help:"Start N instances NAME-0 ... NAME-(N-1) (max: one per CPU)."`
	Restart      string    `placeholder:"POLICY" help:"Restart policy: no, on-failure (default) or always."`
	MaxRestarts  string    `placeholder:"N" help:"Quick failures in a row before giving up (default 15)."`
	MinUptime    string    `placeholder:"D" help:"A run this long resets the back-off (default 10s)."`
	KillTimeout  string    `placeholder:"D" help:"Grace between the stop signal and KILL (default 3s)."`
	RestartDelay string    `placeholder:"D" help:"A fixed delay before each restart, instead of the back-off."`
	MaxMemory    string    `placeholder:"SIZE" help:"Restart the program when its process group uses more memory than SIZE (300M)."`
	CronRestart  string    `placeholder:"EXPR" help:"Restart (or start again, once ended) at these times: five-field cron, or @daily, @hourly, @every 10m."`
	Watch        watchFlag `placeholder:"PATHS" help:"Restart when a file changes under PATHS (--watch=src,lib; bare: the working folder)."`
	WatchIgnore  string    `placeholder:"GLOBS" help:"With --watch: also ignore these (comma-separated; .git, node_modules, __pycache__ and dot-files always are)."`
	WatchDelay   string    `placeholder:"D" help:"With --watch: wait this long after the last change (default 1s)."`
	HealthHTTP   string    `placeholder:"PATH" help:"Health check: GET http://127.0.0.1:PORT/PATH, 2xx or 3xx is healthy."`
	HealthCmd    string    `placeholder:"CMD" help:"Health check: a shell command, exit 0 is healthy."`
	HealthEvery  string    `placeholder:"D" help:"How often the health check runs (default 10s)."`
	HealthFails  string    `placeholder:"N" help:"Failed checks in a row that make the program unhealthy and restart it (default 3)."`
	WaitLog      string    `placeholder:"REGEX" help:"Ready (for --wait, reloads, start order) at the first output line matching REGEX."`
	OnEvent      string    `placeholder:"CMD" help:"Run CMD (a shell command) on errored, exit, restart, memory, health and adopt events, with TPM_NAME, TPM_EVENT... set."`
	LogMaxSize   string    `placeholder:"SIZE" help:"Rotate a log past this size, at least 1 byte (default 10M)."`
	LogKeep      string    `placeholder:"N" help:"Rotated logs to keep (default 5)."`
	NoTimestamps bool      `help:"Write log lines without the time stamp."`
	Interpreter  string    `placeholder:"CMD" help:"Run the script with CMD (none: run it as it is)."`
	Signal       string    `placeholder:"SIG" help:"First stop signal for this process (default TERM)."`
	EnvFile      []string  `placeholder:"FILE" help:"Add the KEY=VALUE lines of a dotenv FILE to the environment (repeatable)."`
	UpdateEnv    bool      `help:"With NAME: start with the current environment instead of the saved one."`
	Wait         waitFlag  `placeholder:"TIMEOUT" help:"Return only when the program accepts TCP connections on its PORT (or, with no port, stays up 1s); default timeout 30s."`
	Env          string    `placeholder:"ENVNAME" help:"Ecosystem files: merge env_ENVNAME over env."`
	Only         string    `placeholder:"A,B" help:"Ecosystem files: start only these apps."`
	Stale        bool      `help:"Start again every stale process (for @reboot in a crontab)."`
	Foreground   bool      `help:"Stay in the foreground (a container's CMD): stream the apps' lines with a NAME prefix, stop them on TERM or INT, end when all have ended, with the worst exit code."`
	ExitOnError  bool      `help:"With --foreground: end (stopping the others) as soon as one app fails for good."`
	Listen       bool      `help:"Bind the PORT in the supervisor and hand the socket to the program as fd 3 (systemd's LISTEN_FDS protocol): it stays open across restarts and reloads."`
	Prune        bool      `help:"Ecosystem files: stop and forget the processes that came from this file and are no longer in it."`
	Reload       bool      `help:"Ecosystem files: reload (no moment without a listener) the running apps that changed, instead of restarting them."`
	Target       []string  `arg:"" optional:"" passthrough:"partial" name:"SCRIPT|CONFIG|NAME" help:"A script or command and its arguments, an ecosystem file, or known process names."`

	cli.HostFlag `embed:""` // --host: startcmd/host.go

	verb    string    // tpm-restart: "restarted"
	started []string  // the processes started (or left running), for --foreground
	began   time.Time // when --foreground began: its followers show the lines since
}

const description = `Start programs under tpm's supervision.

  tpm-start [flags] SCRIPT [ARGS...]   start a script or command; ARGS go to it untouched
  tpm-start [flags] CONFIG             start the apps of an ecosystem file (.config.js .cjs .mjs .json .yaml .yml),
                                       or PM2's saved list (~/.pm2/dump.pm2); again: apply its changes
  tpm-start [flags] NAME...            start again known processes that are not running
  tpm-start --stale                    start again every stale process (for @reboot in a crontab)

Prints "NAME pid=PID port=PORT" for each process started.

Exit codes: 0 ok, 1 already running or not ready, 64 usage, 65 bad name or no PORT,
66 no such script or process, 69 the PORT is taken, 73 cannot write the state, 75 locked,
77 permission denied.`

// Main runs tpm-start and returns its exit status.
func Main(e *cli.Env) int {
	// Only fds 0-2 of ours may reach a supervisor (and so a program).
	proc.CloseOnExecFrom(3)
	if len(e.Args) > 0 {
		primeSpare()
		defer discardSpare()
	}
	var g grammar
	if _, code, done := e.Parse(&g, description); done {
		return code
	}
	if done, err := onHosts(e, &g); done {
		return e.Report(err)
	}
	// An ecosystem file takes no program arguments, so flags after it are
	// ours, as PM2 users write them: tpm-start ecosystem.config.js --env
	// production. Parse again with the file moved to the end.
	if len(g.Target) > 1 && spec.IsConfig(g.Target[0]) {
		flags := e.Args[:len(e.Args)-len(g.Target)]
		again := *e
		again.Args = append(append(slices.Clone(flags), g.Target[1:]...), g.Target[0])
		config := g.Target[0]
		g = grammar{}
		if _, code, done := again.Parse(&g, description); done {
			return code
		}
		if len(g.Target) != 1 {
			return e.Report(cli.Usagef("an ecosystem file takes no arguments (got %q)", slices.DeleteFunc(g.Target, func(t string) bool { return t == config })))
		}
	}
	// PM2's order: tpm-start [flags] SCRIPT [tpm flags] -- ARGS, as in
	// pm2 start npm --name api -- start. What stands between SCRIPT and the
	// first -- is tpm's when it starts with a flag and parses as tpm's
	// flags; otherwise everything after SCRIPT is the program's, -- and all.
	if k := slices.Index(g.Target, "--"); k >= 1 && !spec.IsConfig(g.Target[0]) {
		between := g.Target[1:k]
		if len(between) == 0 || strings.HasPrefix(between[0], "-") {
			flags := e.Args[:len(e.Args)-len(g.Target)]
			again := *e
			again.Args = append(append(append(slices.Clone(flags), between...), g.Target[0]), g.Target[k+1:]...)
			quiet := again
			quiet.Stderr = io.Discard
			var g2 grammar
			if _, _, done := quiet.Parse(&g2, description); !done {
				g = g2
			}
		}
	}
	return e.Report(run(e, &g))
}

func run(e *cli.Env, g *grammar) error {
	if g.ExitOnError && !g.Foreground {
		return cli.Usagef("--exit-on-error goes with --foreground")
	}
	if g.Foreground {
		if g.Stale || g.Wait.On {
			return cli.Usagef("--foreground takes neither --stale nor --wait")
		}
		g.began = time.Now()
		err := starts(e, g)
		if exit.Code(err) == exit.Usage {
			return err
		}
		t, terr := state.Open()
		if terr != nil {
			return terr
		}
		return foreground(e, g, t, err)
	}
	return starts(e, g)
}

// starts is tpm-start's work once its flags are read.
func starts(e *cli.Env, g *grammar) error {
	if g.Stale {
		if len(g.Target) > 0 {
			return cli.Usagef("--stale takes no arguments")
		}
		t, err := state.Open()
		if err != nil {
			return err
		}
		return startStale(e, g, t)
	}
	if len(g.Target) == 0 {
		return cli.WithHint(cli.Usagef("nothing to start"), "tpm-start SCRIPT [ARGS...], tpm-start CONFIG or tpm-start NAME...")
	}
	t, err := state.Open()
	if err != nil {
		return err
	}
	first := g.Target[0]
	if spec.IsConfig(first) {
		return startConfig(e, g, t)
	}
	if !looksLikeFile(first, g.Cwd) {
		if ns, err := cli.Resolve(t, g.Target); err == nil {
			return startNames(e, g, t, ns)
		}
	}
	return startScript(e, g, t)
}

// looksLikeFile reports whether arg is meant as a path: it has a slash, or
// names an existing file.
func looksLikeFile(arg, cwd string) bool {
	if strings.Contains(arg, "/") {
		return true
	}
	p := arg
	if cwd != "" {
		p = filepath.Join(cwd, arg)
	}
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// settings applies the policy flags to s.
func (g *grammar) settings(s *spec.Spec) error {
	var err error
	if g.Restart != "" {
		if s.Restart, err = spec.ParseRestart(g.Restart); err != nil {
			return exit.With(exit.Usage, err)
		}
	}
	count := func(flag, v string, dst *int) {
		if v == "" || err != nil {
			return
		}
		n, e := strconv.Atoi(v)
		if e != nil || n < 0 {
			err = cli.Usagef("--%s %q: want a count", flag, v)
			return
		}
		*dst = n
	}
	dur := func(flag, v string, dst *time.Duration) {
		if v == "" || err != nil {
			return
		}
		d, e := spec.ParseDuration(v, time.Second)
		if e != nil {
			err = cli.Usagef("--%s: %v", flag, e)
			return
		}
		*dst = d
	}
	count("max-restarts", g.MaxRestarts, &s.MaxRestarts)
	count("log-keep", g.LogKeep, &s.LogKeep)
	dur("min-uptime", g.MinUptime, &s.MinUptime)
	dur("kill-timeout", g.KillTimeout, &s.KillTimeout)
	dur("restart-delay", g.RestartDelay, &s.RestartDelay)
	dur("watch-delay", g.WatchDelay, &s.WatchDelay)
	dur("health-every", g.HealthEvery, &s.HealthEvery)
	count("health-fails", g.HealthFails, &s.HealthFails)
	if err != nil {
		return err
	}
	if err := g.policy(s); err != nil {
		return err
	}
	if g.LogMaxSize != "" {
		if s.LogMaxSize, err = spec.ParseSize(g.LogMaxSize); err != nil {
			return exit.With(exit.Usage, err)
		}
		// The log writer reads 0 as "never rotate": a flag that says 0
		// (or 0.1, 0K) meant something else, or nothing at all.
		if s.LogMaxSize < 1 {
			return cli.WithHint(cli.Usagef("--log-max-size %s: a log rotates past a size of at least one byte", g.LogMaxSize),
				"give a size such as 10M; a large one (100G) rotates rarely")
		}
	}
	if g.Signal != "" {
		if s.Signal, err = spec.NormSignal(g.Signal); err != nil {
			return exit.With(exit.Usage, err)
		}
	}
	if g.NoTimestamps {
		s.Timestamps = false
	}
	return nil
}

// baseEnv is the environment a new process starts with: tpm-start's own,
// with the --env-file lines on top.
func (g *grammar) baseEnv() ([]string, error) {
	env := os.Environ()
	for _, f := range g.EnvFile {
		kv, err := envfile.ReadDotenv(f)
		if err != nil {
			var odd *envfile.NotRegularError
			code := exit.DataErr // a bad line, a NUL byte, too large
			switch {
			case errors.Is(err, fs.ErrNotExist), errors.As(err, &odd):
				code = exit.NoInput
			case errors.Is(err, fs.ErrPermission):
				code = exit.NoPerm
			}
			return nil, exit.With(code, fmt.Errorf("--env-file %w", err))
		}
		env = envfile.Merge(env, kv...)
	}
	return env, nil
}

// startScript starts SCRIPT [ARGS...]: one process, or --instances of it.
func startScript(e *cli.Env, g *grammar, t *state.Tree) error {
	cwd, err := workdir(g.Cwd)
	if err != nil {
		return err
	}
	if g.Name != nil && *g.Name == "" {
		// As --name a/b is: a bad name, 65. Taking it for no --name would
		// start a process under a name the caller did not mean (a script
		// whose $NAME was unset).
		return exit.Errorf(exit.DataErr, "--name is empty: a name is 1 to 128 characters of [A-Za-z0-9._@+-]")
	}
	script, args := g.Target[0], g.Target[1:]
	path, interp, err := resolveScript(script, cwd, g.Interpreter)
	if err != nil {
		return err
	}
	env, err := g.baseEnv()
	if err != nil {
		return err
	}
	envPort, _ := envfile.Get(env, "PORT")
	p, _, err := port.Find(g.Port, envPort, args, path)
	if err == nil && p == port.Auto {
		p, err = listen.Free()
	}
	if err != nil {
		switch {
		case errors.Is(err, port.ErrNotFound):
			return cli.WithHint(exit.Errorf(exit.DataErr, "no PORT for %s", script),
				"give --port N (or --port auto, or --port none for a program that listens on nothing), set PORT, or put PORT=N in the script")
		case g.Port != "":
			return exit.With(exit.Usage, fmt.Errorf("--port: %w", err))
		}
		return exit.With(exit.DataErr, err)
	}
	base := names.Base(script)
	if g.Name != nil {
		base = *g.Name
	}
	name := names.Join(base, p)
	if err := names.Check(name); err != nil {
		return exit.With(exit.DataErr, err)
	}
	n, err := instances(g.Instances)
	if err != nil {
		return err
	}
	s := spec.New()
	s.Name, s.Script, s.Args, s.Cwd, s.Port = name, path, args, cwd, p
	s.Interpreter = interp
	if err := g.settings(s); err != nil {
		return err
	}
	if g.Listen {
		if p == port.None {
			return cli.Usagef("--listen needs a PORT to bind")
		}
		s.Listen = true
	}
	if err := runnable(s); err != nil {
		return err
	}
	if err := fdBudget(n); err != nil {
		return err
	}
	var jobs []*job
	for i := range n {
		one := *s
		if n > 1 {
			one.Name = names.Instance(name, i)
			one.Instance = i
			if err := names.Check(one.Name); err != nil {
				return exit.With(exit.DataErr, err)
			}
		}
		jobs = append(jobs, &job{spec: &one, env: env})
	}
	return launchAll(e, g, t, jobs)
}

func workdir(dir string) (string, error) {
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", exit.With(exit.NoInput, fmt.Errorf("current folder: %w", err))
		}
		return wd, nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", exit.With(exit.NoInput, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", exit.With(exit.NoInput, fmt.Errorf("--cwd %s: no such folder", dir))
	}
	if !fi.IsDir() {
		return "", exit.With(exit.NoInput, fmt.Errorf("--cwd %s: not a folder", dir))
	}
	return abs, nil
}

// instances reads --instances: a count, or max/0 for one per CPU, -1 for one
// less than the CPUs (as PM2 counts them).
func instances(v string) (int, error) {
	if v == "" {
		return 1, nil
	}
	n, err := spec.Instances(v)
	if err != nil {
		return 0, exit.With(exit.Usage, fmt.Errorf("--instances: %w", err))
	}
	return n, nil
}

// resolveScript finds the program (see app.ResolveScript) on tpm-start's
// PATH, with tpm-start's hint for a script it cannot run.
func resolveScript(script, cwd, interpFlag string) (string, string, error) {
	p, interp, err := app.ResolveScript(script, cwd, interpFlag, os.Getenv("PATH"))
	if errors.Is(err, app.ErrNoInterpreter) {
		return "", "", cli.WithHint(err, "chmod +x it, or give --interpreter CMD")
	}
	return p, interp, err
}
