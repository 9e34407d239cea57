// Package app turns what a user names (a script, or an app of an ecosystem
// file) into the processes tpm runs for it: the program and interpreter
// found, the PORT and name decided, the file's policy applied, one process
// per instance. tpm-start and tpm-export both read apps through it, so the
// two can never disagree on what an app is.
package app

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tetra-toolkit/tpm/lib/envfile"
	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/meta"
	"github.com/tetra-toolkit/tpm/lib/names"
	"github.com/tetra-toolkit/tpm/lib/port"
	"github.com/tetra-toolkit/tpm/lib/spec"
)

// Interpreters runs a script without its execute bit by its extension.
var Interpreters = map[string]string{
	".js": "node", ".cjs": "node", ".mjs": "node", ".py": "python3", ".sh": "bash",
}

// ErrNoInterpreter is wrapped by the error for a script tpm does not know
// how to run (callers add their hint).
var ErrNoInterpreter = errors.New("tpm knows no interpreter for it")

// ResolveScript finds the program: a file (relative to cwd), or a command
// on pathEnv. It returns its absolute path and the interpreter to run it
// with ("" when it runs itself; "none" asks for that).
func ResolveScript(script, cwd, interp, pathEnv string) (string, string, error) {
	p := script
	if !filepath.IsAbs(p) {
		p = filepath.Join(cwd, p)
	}
	fi, err := os.Stat(p)
	switch {
	case err == nil && fi.IsDir():
		return "", "", exit.Errorf(exit.NoInput, "%s is a folder, not a script", script)
	case err == nil:
	case errors.Is(err, fs.ErrPermission):
		// A folder on the way that the caller cannot search: the script
		// may well be there, and "no such script" would send them looking.
		return "", "", exit.Errorf(exit.NoPerm, "cannot reach %s: permission denied", script)
	case !strings.Contains(script, "/"):
		lp, lerr := spec.LookPath(script, pathEnv)
		if lerr != nil {
			return "", "", exit.Errorf(exit.NoInput, "no such script or command: %s", script)
		}
		p, fi = lp, nil
	default:
		return "", "", exit.Errorf(exit.NoInput, "no such script: %s", script)
	}
	switch {
	case interp == "none":
		interp = ""
	case interp != "":
	case fi != nil && fi.Mode()&0o111 == 0:
		interp = Interpreters[strings.ToLower(filepath.Ext(p))]
		if interp == "" {
			return "", "", exit.With(exit.NoInput, fmt.Errorf("%s is not executable and %w", script, ErrNoInterpreter))
		}
	}
	if interp != "" {
		// A relative path is the program's folder's (the supervisor runs in
		// /): recorded absolute, so that a restart from anywhere runs it.
		words, err := spec.InterpreterWords(interp, cwd)
		if err != nil {
			return "", "", exit.With(exit.Usage, err)
		}
		given, _ := meta.SplitWords(interp)
		if words[0] != given[0] {
			interp = meta.JoinWords(words)
		}
		if _, err := spec.LookPath(words[0], pathEnv); err != nil {
			if errors.Is(err, fs.ErrPermission) {
				return "", "", exit.Errorf(exit.NoPerm, "cannot execute %s: permission denied", words[0])
			}
			return "", "", exit.Errorf(exit.NoInput, "interpreter %s for %s: %v", given[0], script, err)
		}
	} else if fi != nil && fi.Mode()&0o111 == 0 {
		return "", "", exit.Errorf(exit.NoInput, "%s is not executable", script)
	}
	return p, interp, nil
}

// A Process is one process of an app: what it runs, and the environment
// it starts with (the app's env over the caller's; PORT and
// NODE_APP_INSTANCE are set at its start).
type Process struct {
	Spec *spec.Spec
	Env  []string
}

// Processes turns an app into its processes: the script and interpreter
// found (on pathEnv), the environment merged, the PORT and name decided as
// for a script, the file's policy, and one process per instance.
func Processes(a spec.App, base []string, pathEnv string) ([]Process, error) {
	env := base
	for _, k := range slices.Sorted(maps.Keys(a.Env)) {
		env = envfile.Set(env, k, a.Env[k])
	}
	if fi, err := os.Stat(a.Cwd); err != nil || !fi.IsDir() {
		return nil, exit.Errorf(exit.NoInput, "cwd %s: no such folder", a.Cwd)
	}
	path, interp, err := ResolveScript(a.Script, a.Cwd, a.Interpreter, pathEnv)
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
		return nil, exit.Errorf(exit.DataErr, "no PORT and no name: give the app a name, or PORT in its env")
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
	if err := Policy(s, a); err != nil {
		return nil, exit.With(exit.DataErr, err)
	}
	n := max(a.Instances, 1)
	if n == 1 {
		return []Process{{Spec: s, Env: env}}, nil
	}
	var out []Process
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
		out = append(out, Process{Spec: &one, Env: ienv})
	}
	return out, nil
}

// Policy applies an app's restart, stop and policy fields. PM2 restarts an
// app whatever its exit (autorestart defaults to true, and means always),
// so an ecosystem app restarts always unless it says autorestart: false.
// The policy fields (memory, schedule, watch...) are checked as a record's
// are.
func Policy(s *spec.Spec, a spec.App) error {
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
	if len(a.Policy) == 0 {
		return nil
	}
	m := &meta.Meta{}
	s.Apply(m)
	for _, k := range slices.Sorted(maps.Keys(a.Policy)) {
		m.Set(k, a.Policy[k])
	}
	n, err := spec.FromMeta(s.Name, m)
	if err != nil {
		return err
	}
	s.Policy = n.Policy
	return nil
}
