package startcmd

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tetra-toolkit/tpm/lib/app"
	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/envfile"
	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/meta"
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

// readConfig reads an ecosystem file (see app.ReadConfig).
func readConfig(e *cli.Env, config string, env []string, envName, only string) (*spec.Ecosystem, error) {
	return app.ReadConfig(e, config, env, envName, only)
}

// appJobs turns one app into its processes: the script and interpreter
// found, the environment merged (the app's env over tpm-start's), the PORT
// and name decided as for a script, the policy of the file (then the
// command line's policy flags over it), and one job per instance.
func appJobs(g *grammar, a spec.App, base []string) ([]*job, error) {
	ps, err := app.Processes(a, base, os.Getenv("PATH"))
	if err != nil {
		return nil, err
	}
	var jobs []*job
	for _, p := range ps {
		if err := g.settings(p.Spec); err != nil {
			return nil, err
		}
		if err := runnable(p.Spec); err != nil {
			return nil, err
		}
		jobs = append(jobs, &job{spec: p.Spec, env: p.Env})
	}
	return jobs, nil
}
