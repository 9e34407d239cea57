package export

import (
	"errors"
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

// FromApp turns an app of an ecosystem file (as tpm-ecosystem reads it)
// into its processes, as tpm-start would start them: the script found from
// the app's cwd or on PATH, the interpreter by extension, the app's env
// over base, the PORT and name, the policy of the file (an app restarts
// always unless autorestart is false, as under PM2), and one process per
// instance. It follows lib/cmd/startcmd's appJobs; a change of how
// tpm-start reads an app belongs in both.
func FromApp(a spec.App, base []string) ([]*Process, error) {
	env := base
	for _, k := range slices.Sorted(maps.Keys(a.Env)) {
		env = envfile.Set(env, k, a.Env[k])
	}
	if fi, err := os.Stat(a.Cwd); err != nil || !fi.IsDir() {
		return nil, exit.Errorf(exit.NoInput, "cwd %s: no such folder", a.Cwd)
	}
	path, interp, err := resolveScript(a.Script, a.Cwd, a.Interpreter, os.Getenv("PATH"))
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
		p = port.None
	case errors.Is(err, port.ErrNotFound):
		return nil, exit.Errorf(exit.DataErr, "no PORT and no name: give the app a name, or PORT in its env")
	case err != nil:
		return nil, exit.With(exit.DataErr, err)
	}
	s.Port = p
	s.Name = a.Name
	if s.Name == "" {
		s.Name = names.Join(names.Base(a.Script), p)
	}
	if err := names.Check(s.Name); err != nil {
		return nil, exit.With(exit.DataErr, err)
	}
	if err := appPolicy(s, a); err != nil {
		return nil, exit.With(exit.DataErr, err)
	}
	n := max(a.Instances, 1)
	if n == 1 {
		return []*Process{{Spec: s, Env: programEnv(s, env)}}, nil
	}
	var out []*Process
	for i := range n {
		one := *s
		one.Name = names.Instance(s.Name, i)
		one.Instance = i
		if err := names.Check(one.Name); err != nil {
			return nil, exit.With(exit.DataErr, err)
		}
		ienv := env
		if v := a.IncrementVar; v != "" {
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
		out = append(out, &Process{Spec: &one, Env: programEnv(&one, ienv)})
	}
	return out, nil
}

// appPolicy applies the restart and stop fields of an app.
func appPolicy(s *spec.Spec, a spec.App) error {
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

// interpreters by extension, for scripts without their execute bit (as
// tpm-start chooses them).
var interpreters = map[string]string{
	".js": "node", ".cjs": "node", ".mjs": "node", ".py": "python3", ".sh": "bash",
}

// resolveScript finds an app's program: a file (relative to cwd), or a
// command on PATH. It returns its absolute path and its interpreter.
func resolveScript(script, cwd, interp, pathEnv string) (string, string, error) {
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
		interp = interpreters[strings.ToLower(filepath.Ext(p))]
		if interp == "" {
			return "", "", exit.Errorf(exit.NoInput, "%s is not executable and tpm knows no interpreter for it", script)
		}
	}
	if interp != "" {
		words, err := spec.InterpreterWords(interp, cwd)
		if err != nil {
			return "", "", exit.With(exit.Usage, err)
		}
		if given, _ := meta.SplitWords(interp); words[0] != given[0] {
			interp = meta.JoinWords(words)
		}
	}
	return p, interp, nil
}
