package startcmd

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/envfile"
	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/meta"
	"github.com/tetra-toolkit/tpm/lib/names"
	"github.com/tetra-toolkit/tpm/lib/port"
	"github.com/tetra-toolkit/tpm/lib/spec"
	"github.com/tetra-toolkit/tpm/lib/state"
	"github.com/tetra-toolkit/tpm/lib/stop"
)

// startConfig starts the apps of an ecosystem file. tpm-ecosystem reads
// the file (the JavaScript engine lives there, so that a plain tpm-start
// stays quick to start); every app is checked and turned into a process
// before the first one starts, so one bad app starts nothing.
func startConfig(e *cli.Env, g *grammar, t *state.Tree) error {
	config := g.Target[0]
	if len(g.Target) > 1 {
		return cli.Usagef("an ecosystem file takes no arguments (got %q)", g.Target[1:])
	}
	var bad []string
	for f, on := range map[string]bool{"--name": g.Name != nil, "--port": g.Port != "", "--cwd": g.Cwd != "",
		"--instances": g.Instances != "", "--interpreter": g.Interpreter != "", "--update-env": g.UpdateEnv, "--listen": g.Listen} {
		if on {
			bad = append(bad, f)
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return cli.WithHint(cli.Usagef("%s cannot be used with an ecosystem file", strings.Join(bad, ", ")),
			"each app's name, port, cwd, instances and interpreter come from the file")
	}
	env, err := g.baseEnv()
	if err != nil {
		return err
	}
	eco, err := readConfig(e, config, env, g.Env, g.Only)
	if err != nil {
		return err
	}
	for _, w := range eco.Warnings {
		e.Warnf("%s: %s", config, w)
	}
	// process.env as the config left it is every app's starting point.
	for _, k := range eco.EnvUnset {
		env = envfile.Unset(env, k)
	}
	for _, k := range slices.Sorted(maps.Keys(eco.EnvSet)) {
		env = envfile.Set(env, k, eco.EnvSet[k])
	}
	abs, err := filepath.Abs(config)
	if err != nil {
		return err
	}
	var jobs []*job
	for _, a := range eco.Apps {
		js, err := appJobs(g, a, env)
		if err != nil {
			return exit.With(exit.Code(err), fmt.Errorf("%s: %s: %w", config, label(a), err))
		}
		for _, j := range js {
			j.spec.Config = abs
			j.spec.ConfigEnv = envDigest(eco.EnvSet, a.Env)
		}
		jobs = append(jobs, js...)
	}
	if err := fdBudget(len(jobs)); err != nil {
		return err
	}
	return apply(e, g, t, abs, jobs)
}

// envDigest sums up the environment an ecosystem file gives an app (what
// its process.env set, then the app's env after --env): a record keeps it,
// so that applying the file again sees a changed (or removed) variable,
// while the rest of tpm-start's environment (a shell's PWD, SHLVL...) does
// not count as a change.
func envDigest(sets ...map[string]string) string {
	merged := map[string]string{}
	for _, m := range sets {
		maps.Copy(merged, m)
	}
	h := sha256.New()
	for _, k := range slices.Sorted(maps.Keys(merged)) {
		fmt.Fprintf(h, "%s=%s\x00", k, merged[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// apply brings the processes of an ecosystem file to what the file says:
// an app that does not run is started; a running one whose record would
// change (script, arguments, interpreter, folder, port, the file's
// environment, policy) is restarted (--reload: reloaded); one that would
// not is left alone; with --prune, the processes that came from this file
// and are no longer in it are stopped and forgotten. One line per process:
// NAME started|restarted|reloaded|unchanged|pruned ....
func apply(e *cli.Env, g *grammar, t *state.Tree, config string, jobs []*job) error {
	var launch []*job
	code := exit.OK
	rolling := false
	for _, j := range jobs {
		j.verb = "started"
		r, err := t.Load(j.spec.Name)
		if err != nil || r.Meta == nil || !r.Alive() {
			if err == nil && r.Meta != nil {
				j.record = r.Meta
			}
			launch = append(launch, j)
			continue
		}
		want := r.Meta.Clone()
		j.spec.Apply(want)
		if sameSpec(r.Meta, want) {
			fmt.Fprintf(e.Stdout, "%s unchanged pid=%d\n", j.spec.Name, r.Prog.PID)
			g.started = append(g.started, j.spec.Name)
			continue
		}
		j.record = r.Meta
		j.verb = "restarted"
		if g.Reload && j.spec.Instance < 0 && r.Status != state.Unsupervised {
			// Beside the running one: the record and environment first,
			// then the supervisor starts the new run from them.
			if err := reloadApp(e, t, j, r.Meta); err != nil {
				e.Report(err)
				code = max(code, exit.Code(err))
			}
			continue
		}
		if g.Reload {
			// Instances, one at a time, each waited for (launchAll starts
			// them in order).
			j.verb = "reloaded"
			rolling = true
		}
		if _, err := stop.Stop(t, j.spec.Name, stop.Options{}); err != nil {
			e.Report(err)
			code = max(code, exit.Code(err))
			continue
		}
		launch = append(launch, j)
	}
	if g.Prune {
		if err := prune(e, t, config, jobs); err != nil {
			e.Report(err)
			code = max(code, exit.Code(err))
		}
	}
	if len(launch) > 0 {
		if rolling && !g.Wait.On {
			g.Wait = waitFlag{On: true, Timeout: DefaultWait}
		}
		start := launchAll
		if ordered(launch) {
			// depends_on: in order, each once what it depends on is ready
			// (order.go).
			start = func(e *cli.Env, g *grammar, t *state.Tree, js []*job) error { return launchOrdered(e, g, t, js, false) }
		}
		if err := start(e, g, t, launch); err != nil {
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

// reloadApp writes an app's new record and environment, then has its
// supervisor reload it from them.
func reloadApp(e *cli.Env, t *state.Tree, j *job, record *meta.Meta) error {
	env, err := j.environ(t)
	if err != nil {
		return err
	}
	if err := state.WriteFile(t.Env(j.spec.Name), envfile.Format(env)); err != nil {
		return err
	}
	if err := t.EditMeta(j.spec.Name, func(m *meta.Meta) error { j.spec.Apply(m); return nil }); err != nil {
		return err
	}
	return reloadOne(e, t, j.spec.Name, DefaultWait)
}

// sameSpec reports whether two records run the same program the same way:
// every field a spec owns is equal.
func sameSpec(a, b *meta.Meta) bool {
	for _, k := range append([]string{"script", "port", "type", "cwd", "node_env"}, spec.Keys...) {
		if a.Value(k) != b.Value(k) {
			return false
		}
	}
	return true
}

// prune stops and forgets the processes whose record says they came from
// config, and that its apps no longer name.
func prune(e *cli.Env, t *state.Tree, config string, jobs []*job) error {
	keep := map[string]bool{}
	for _, j := range jobs {
		keep[j.spec.Name] = true
	}
	ns, err := t.Names()
	if err != nil {
		return err
	}
	for _, n := range ns {
		m, err := t.ReadMeta(n)
		if err != nil || keep[n] || m.Value(spec.KeyConfig) != config {
			continue
		}
		if _, err := stop.Stop(t, n, stop.Options{}); err != nil {
			return err
		}
		if err := forgetAll(t, n); err != nil {
			return err
		}
		fmt.Fprintf(e.Stdout, "%s pruned\n", n)
	}
	return nil
}

func label(a spec.App) string {
	if a.Name != "" {
		return fmt.Sprintf("app %q", a.Name)
	}
	return fmt.Sprintf("apps[%d]", a.Index)
}

// readConfig runs tpm-ecosystem on the file, with env as process.env. Its
// messages (and what the config itself prints) pass through to stderr.
func readConfig(e *cli.Env, config string, env []string, envName, only string) (*spec.Ecosystem, error) {
	path, err := cli.Companion("tpm-ecosystem")
	if err != nil {
		return nil, err
	}
	args := []string{config}
	if envName != "" {
		args = append([]string{"--env", envName}, args...)
	}
	if only != "" {
		args = append([]string{"--only", only}, args...)
	}
	cmd := exec.Command(path, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	runErr := cmd.Run()
	// Its diagnostics become ours.
	for _, l := range strings.Split(strings.TrimRight(errb.String(), "\n"), "\n") {
		if l == "" {
			continue
		}
		if msg, ok := strings.CutPrefix(l, "tpm-ecosystem: "); ok {
			e.Warnf("%s", msg)
		} else {
			fmt.Fprintln(e.Stderr, l)
		}
	}
	if runErr != nil {
		var ee *exec.ExitError
		if errors.As(runErr, &ee) && ee.ExitCode() > 0 {
			return nil, cli.Silent(ee.ExitCode())
		}
		return nil, fmt.Errorf("tpm-ecosystem: %w", runErr)
	}
	var eco spec.Ecosystem
	if err := json.Unmarshal(out.Bytes(), &eco); err != nil {
		return nil, fmt.Errorf("tpm-ecosystem answered what tpm-start cannot read: %w", err)
	}
	return &eco, nil
}

// appJobs turns one app into its processes: the script and interpreter
// found, the environment merged (the app's env over tpm-start's), the PORT
// and name decided as for a script, the policy of the file (then the
// command line's policy flags over it), and one job per instance.
func appJobs(g *grammar, a spec.App, base []string) ([]*job, error) {
	env := base
	for _, k := range slices.Sorted(maps.Keys(a.Env)) {
		env = envfile.Set(env, k, a.Env[k])
	}
	if fi, err := os.Stat(a.Cwd); err != nil || !fi.IsDir() {
		return nil, exit.Errorf(exit.NoInput, "cwd %s: no such folder", a.Cwd)
	}
	interp := a.Interpreter
	path, interp, err := resolveScript(a.Script, a.Cwd, interp)
	if err != nil {
		return nil, err
	}
	s := spec.New()
	s.Type = "ecosystem"
	s.Script, s.Args, s.Cwd, s.Interpreter = path, a.Args, a.Cwd, interp
	if interp != "" {
		s.InterpArgs = a.InterpreterArgs
	}
	s.NodeEnv, _ = envfile.Get(env, "NODE_ENV")
	envPort, _ := envfile.Get(env, "PORT")
	p, _, err := port.Find("", envPort, a.Args, path)
	switch {
	case errors.Is(err, port.ErrNotFound) && a.Name != "":
		p = port.None // a named app with no PORT listens on nothing
	case errors.Is(err, port.ErrNotFound):
		return nil, cli.WithHint(exit.Errorf(exit.DataErr, "no PORT and no name"), "give the app a name, or PORT in its env")
	case err != nil:
		return nil, exit.With(exit.DataErr, err)
	}
	s.Port = p
	if a.Listen {
		if p == port.None {
			return nil, exit.Errorf(exit.DataErr, "listen: true needs a PORT to bind")
		}
		s.Listen = true
	}
	s.Name = a.Name
	if s.Name == "" {
		s.Name = names.Join(names.Base(a.Script), p)
	}
	if err := names.Check(s.Name); err != nil {
		return nil, exit.With(exit.DataErr, err)
	}
	if err := policy(s, a); err != nil {
		return nil, exit.With(exit.DataErr, err)
	}
	if err := appPolicy(s, a.Policy); err != nil {
		return nil, exit.With(exit.DataErr, err)
	}
	if err := g.settings(s); err != nil {
		return nil, err
	}
	if err := runnable(s); err != nil {
		return nil, err
	}
	n := max(a.Instances, 1)
	if n == 1 {
		return []*job{{spec: s, env: env}}, nil
	}
	var jobs []*job
	for i := range n {
		one := *s
		one.Name = names.Instance(s.Name, i)
		one.Instance = i
		if err := names.Check(one.Name); err != nil {
			return nil, exit.With(exit.DataErr, err)
		}
		ienv := env
		if v := a.IncrementVar; v != "" {
			// increment_var: PORT (or another number) plus the instance.
			cur, _ := envfile.Get(env, v)
			if v == "PORT" {
				cur = strconv.Itoa(p)
			}
			nv, err := strconv.Atoi(cur)
			if err != nil {
				return nil, exit.Errorf(exit.DataErr, "increment_var %s=%q is not a number", v, cur)
			}
			ienv = envfile.Set(env, v, strconv.Itoa(nv+i))
			if v == "PORT" && p > 0 {
				one.Port = p + i
			}
		}
		jobs = append(jobs, &job{spec: &one, env: ienv})
	}
	return jobs, nil
}

// policy applies the restart and stop fields of an app. PM2 restarts an app
// whatever its exit (autorestart defaults to true, and means always), so an
// ecosystem app restarts always unless it says autorestart: false.
func policy(s *spec.Spec, a spec.App) error {
	s.Restart = spec.RestartAlways
	if a.Autorestart != nil && !*a.Autorestart {
		s.Restart = spec.RestartNo
	}
	if a.MaxRestarts != nil {
		s.MaxRestarts = *a.MaxRestarts
	}
	var err error
	dur := func(v string, dst *time.Duration) {
		if v == "" || err != nil {
			return
		}
		*dst, err = time.ParseDuration(v)
	}
	dur(a.MinUptime, &s.MinUptime)
	dur(a.RestartDelay, &s.RestartDelay)
	dur(a.ExpBackoff, &s.Backoff)
	dur(a.KillTimeout, &s.KillTimeout)
	if err != nil {
		return err
	}
	s.StopExitCodes = a.StopExitCodes
	if a.Signal != "" {
		s.Signal = a.Signal
	}
	return nil
}

// appPolicy applies an app's policy fields, checked as a record's are.
func appPolicy(s *spec.Spec, fields map[string]string) error {
	if len(fields) == 0 {
		return nil
	}
	m := &meta.Meta{}
	s.Apply(m)
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		m.Set(k, fields[k])
	}
	n, err := spec.FromMeta(s.Name, m)
	if err != nil {
		return err
	}
	s.Policy = n.Policy
	return nil
}
