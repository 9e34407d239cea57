// Package ecosystem loads PM2 ecosystem files without Node.js (SPEC §8) and
// returns their apps, normalized and validated. It reads PM2's saved
// process list (~/.pm2/dump.pm2) the same way (pm2dump.go).
//
// The policy: a config that works with PM2 works with tpm, or fails before
// anything starts with a one-line message that names the file (and the
// line, when it is known) and says what is wrong. Every app is checked
// before Load returns, so tpm-start never starts half of a file.
//
// JavaScript configs (.js, .cjs, .mjs) run in goja, an ECMAScript engine
// written in Go, as CommonJS modules with the little of Node.js that
// configs use (process, path, os, fs reads, url, dotenv); ES module syntax
// is rewritten to CommonJS first. The evaluation is bounded in time and in
// memory. JSON configs may hold comments and trailing commas, as PM2
// evaluates them as JavaScript; they are parsed as JSON all the same, never
// run. YAML configs are read with go.yaml.in/yaml/v3.
package ecosystem

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/spec"
)

// Defaults of the bounds on a JavaScript evaluation.
const (
	DefaultTimeout     = 5 * time.Second
	DefaultMemoryLimit = 256 << 20
)

// IsConfig reports whether path names an ecosystem file: .json, .yaml,
// .yml, and .js/.cjs/.mjs files whose name (lower-cased) without extension
// ends in ".config" or starts with "ecosystem"; or a PM2 dump (IsDump).
// Any other script is a program to run.
func IsConfig(path string) bool { return spec.IsConfig(path) || IsDump(path) }

// Options are the caller's side of a Load.
type Options struct {
	Env         []string      // the caller's environment (KEY=VALUE entries): process.env; nil is an empty one
	Cwd         string        // the caller's working folder: process.cwd() ("": the current one)
	EnvName     string        // --env ENVNAME: merge env_ENVNAME over env ("" for none)
	Only        []string      // --only a,b: keep only these app names (nil: all)
	Timeout     time.Duration // bound on JavaScript evaluation (0: DefaultTimeout)
	MemoryLimit int64         // bound on the heap growth during evaluation (0: DefaultMemoryLimit)
	Console     io.Writer     // where the config's console.log and friends write (nil: nowhere)
}

// App is one app of an ecosystem file, as tpm runs it.
type App struct {
	Index           int               // its position in the file's list, for messages (apps[Index])
	Name            string            // "" when the app has none (tpm-start then names it {script base}-{PORT}); white space already replaced by '-'
	Script          string            // as written, or the first word when "script" held a command line
	Args            []string          // the rest of such a command line, then "args"
	Interpreter     string            // "" = decide by extension/exec bit; "none" = run the script itself; else a command
	InterpreterArgs []string          // interpreter_args or node_args
	Cwd             string            // absolute; default: the config file's folder
	Instances       int               // >= 1 (max/0 = CPUs, -1 = CPUs-1)
	Env             map[string]string // env merged with env_ENVNAME, and PORT from "port"; never nil
	NodeEnv         string            // NODE_ENV after merging ("" if none)
	IncrementVar    string            // increment_var
	Autorestart     *bool             // nil: not set
	MaxRestarts     *int              // nil: not set
	MinUptime       *time.Duration    // nil: not set
	RestartDelay    *time.Duration    // restart_delay; nil: not set
	ExpBackoff      *time.Duration    // exp_backoff_restart_delay; nil: not set
	StopExitCodes   []int             // stop_exit_codes
	KillTimeout     *time.Duration    // kill_timeout; nil: not set
	Signal          string            // kill_signal, a name without SIG (tpm's own field; PM2 has no per-app signal); "" unless set
	ClusterMode     bool              // exec_mode cluster/cluster_mode: run as separate processes all the same
	Time            *bool             // "time"; nil: not set
	LogDateFormat   string            // log_date_format
	Listen          bool              // listen: tpm's own field, the supervisor binds the PORT
	Policy          map[string]string // the policy fields, as record keys (lib/spec, policy.go)
}

// Label names the app in messages: app "NAME", or apps[i] when it has no name.
func (a *App) Label() string {
	if a.Name != "" {
		return fmt.Sprintf("app %q", a.Name)
	}
	return fmt.Sprintf("apps[%d]", a.Index)
}

// Config is a loaded ecosystem file.
type Config struct {
	Path     string   // absolute path of the file
	Apps     []App    // the apps to start, in file order, after --only
	Warnings []string // one-line warnings, without any "tpm-start:" prefix
	// EnvSet and EnvUnset are what a JavaScript config changed in
	// process.env (require('dotenv').config() adds the .env file): under
	// PM2 every app starts with that environment.
	EnvSet   map[string]string
	EnvUnset []string
}

// Load reads, evaluates and validates an ecosystem file. Errors carry exit
// codes: 66 for a missing file or an --only name that matches no app, 77
// for a file that cannot be read for want of permission, 65 for everything
// else (syntax error, throw, bad field, no script, bad name). They name the
// file as path gives it, and the line when it is known
// ("ecosystem.config.js:12: ...").
func Load(path string, opt Options) (*Config, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, exit.Errorf(exit.NoInput, "%s: %v", path, err)
	}
	if opt.Cwd, err = filepath.Abs(opt.Cwd); err != nil { // "" is the current folder
		return nil, exit.Errorf(exit.NoInput, "%s: %v", path, err)
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	if opt.MemoryLimit <= 0 {
		opt.MemoryLimit = DefaultMemoryLimit
	}
	data, err := os.ReadFile(abs)
	if err != nil {
		return nil, readError(path, err)
	}
	var tree any
	var envSet map[string]string
	var envUnset []string
	dump := IsDump(abs)
	switch ext := strings.ToLower(filepath.Ext(abs)); {
	case dump, ext == ".json", ext == ".json5":
		tree, err = parseJSON(path, data)
		// A JSON list of PM2's process records (pm2 jlist > procs.json,
		// a dump under another name) is a dump too.
		dump = dump || err == nil && isDumpList(tree)
	case ext == ".yaml", ext == ".yml":
		tree, err = parseYAML(path, data)
	default:
		var env []string
		tree, env, err = evalConfig(path, abs, data, opt)
		envSet, envUnset = envChanges(opt.Env, env)
	}
	if err != nil {
		return nil, err
	}
	read := readApps
	if dump {
		read = readDump
	}
	apps, warnings, err := read(path, filepath.Dir(abs), tree, opt)
	if err != nil {
		return nil, err
	}
	return &Config{Path: abs, Apps: apps, Warnings: warnings, EnvSet: envSet, EnvUnset: envUnset}, nil
}

// envChanges compares process.env after the evaluation with what it was.
func envChanges(before, after []string) (map[string]string, []string) {
	was := map[string]string{}
	for _, kv := range before {
		if k, v, ok := strings.Cut(kv, "="); ok {
			was[k] = v
		}
	}
	set := map[string]string{}
	now := map[string]bool{}
	for _, kv := range after {
		k, v, _ := strings.Cut(kv, "=")
		now[k] = true
		if old, ok := was[k]; !ok || old != v {
			set[k] = v
		}
	}
	var unset []string
	for k := range was {
		if !now[k] {
			unset = append(unset, k)
		}
	}
	slices.Sort(unset)
	if len(set) == 0 {
		set = nil
	}
	return set, unset
}

func readError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return exit.Errorf(exit.NoInput, "%s: no such file", path)
	case errors.Is(err, fs.ErrPermission):
		return exit.Errorf(exit.NoPerm, "%s: permission denied", path)
	}
	return exit.Errorf(exit.NoInput, "%s: %v", path, err)
}

// dataErr is a bad-data error about the file path.
func dataErr(path, format string, args ...any) error {
	return exit.Errorf(exit.DataErr, "%s: %s", path, fmt.Sprintf(format, args...))
}

// lineErr is a bad-data error about a line of the file path (and a column
// when col > 0; no line when line is 0).
func lineErr(path string, line, col int, format string, args ...any) error {
	return exit.With(exit.DataErr, &compileError{path, line, col, oneLine(fmt.Sprintf(format, args...))})
}

// oneLine folds a message onto one line.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}
