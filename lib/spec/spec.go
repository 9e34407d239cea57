// Package spec is what a process is: the program to run and the policy to run
// it by. tpm-start builds a Spec from flags or an ecosystem app, writes it
// into the meta line, and the supervisor reads it back from there, so a
// restart from records runs exactly what was started.
package spec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tetra-toolkit/tpm/lib/meta"
)

// Restart policies.
const (
	RestartNo        = "no"
	RestartOnFailure = "on-failure"
	RestartAlways    = "always"
)

// Defaults of SPEC §6.
const (
	DefaultMaxRestarts = 15
	DefaultMinUptime   = 10 * time.Second
	DefaultKillTimeout = 3 * time.Second
	DefaultBackoff     = 100 * time.Millisecond
	MaxBackoff         = 30 * time.Second
	DefaultLogMaxSize  = 10 << 20
	DefaultLogKeep     = 5
	DefaultSignal      = "TERM"
)

// Spec is one process as tpm runs it.
type Spec struct {
	Name string
	Type string // cli or ecosystem

	Script      string   // the script or command, an absolute path
	Args        []string // its arguments
	Interpreter string   // the interpreter command ("" when the script runs itself)
	InterpArgs  []string // the interpreter's own arguments
	Cwd         string
	Port        int
	Instance    int // -1 when the process is not one of several instances
	NodeEnv     string
	// Config is the ecosystem file an app came from (absolute), and
	// ConfigEnv a digest of the environment the file gives it: what tells,
	// when the file is applied again, whether the app changed.
	Config, ConfigEnv string
	// Listen: the supervisor binds Port itself and hands the socket to each
	// run (systemd's socket activation protocol).
	Listen bool

	Policy // memory, schedule, watch, health, readiness, order, hook

	Restart       string
	MaxRestarts   int
	MinUptime     time.Duration
	RestartDelay  time.Duration // a fixed delay before each restart (ecosystem restart_delay); 0: back off
	Backoff       time.Duration // the first back-off delay, doubled up to MaxBackoff
	StopExitCodes []int         // exit codes that end the program for good, as success
	KillTimeout   time.Duration
	Signal        string // the first stop signal, without SIG

	LogMaxSize int64
	LogKeep    int
	Timestamps bool
}

// New returns a Spec with the defaults of SPEC §6.
func New() *Spec {
	return &Spec{
		Type:        "cli",
		Instance:    -1,
		Restart:     RestartOnFailure,
		MaxRestarts: DefaultMaxRestarts,
		MinUptime:   DefaultMinUptime,
		Backoff:     DefaultBackoff,
		KillTimeout: DefaultKillTimeout,
		Signal:      DefaultSignal,
		LogMaxSize:  DefaultLogMaxSize,
		LogKeep:     DefaultLogKeep,
		Timestamps:  true,
		Policy:      Policy{WatchDelay: DefaultWatchDelay, HealthEvery: DefaultHealthEvery, HealthFails: DefaultHealthFails},
	}
}

// Meta keys of a Spec, beyond the required fields and cwd/node_env.
const (
	KeyArgs          = "args"
	KeyInterpreter   = "interpreter"
	KeyInterpArgs    = "interpreter_args"
	KeyInstance      = "instance"
	KeyRestart       = "restart"
	KeyMaxRestarts   = "max_restarts"
	KeyMinUptime     = "min_uptime"
	KeyRestartDelay  = "restart_delay"
	KeyBackoff       = "backoff"
	KeyStopExitCodes = "stop_exit_codes"
	KeyKillTimeout   = "kill_timeout"
	KeySignal        = "signal"
	KeyLogMaxSize    = "log_max_size"
	KeyLogKeep       = "log_keep"
	KeyTimestamps    = "timestamps"
	KeyConfig        = "config"
	KeyConfigEnv     = "config_env"
	KeyListen        = "listen"
)

// Keys lists every meta key a Spec reads besides the required fields, cwd
// and node_env: those tpm-meta checks with FromMeta before it writes them,
// and those a restart from the record rewrites.
var Keys = []string{KeyArgs, KeyInterpreter, KeyInterpArgs, KeyInstance, KeyRestart, KeyMaxRestarts,
	KeyMinUptime, KeyRestartDelay, KeyBackoff, KeyStopExitCodes, KeyKillTimeout, KeySignal,
	KeyLogMaxSize, KeyLogKeep, KeyTimestamps, KeyConfig, KeyConfigEnv, KeyListen,
	KeyMaxMemory, KeyCronRestart, KeyWatch, KeyWatchIgnore, KeyWatchDelay, KeyHealthHTTP, KeyHealthCmd,
	KeyHealthEvery, KeyHealthFails, KeyWaitLog, KeyDependsOn, KeyOnEvent}

// Meta returns the record of s as a new meta line: pid and start_time are 0
// until the supervisor fills them in.
func (s *Spec) Meta() *meta.Meta {
	m := &meta.Meta{}
	m.Set("script", s.Script)
	m.Set("pid", "0")
	m.SetInt("port", int64(s.Port))
	m.Set("start_time", "0")
	m.Set("type", s.Type)
	s.Apply(m)
	return m
}

// Apply writes the fields of s into m, leaving pid, start_time and any field
// s does not own as they are.
func (s *Spec) Apply(m *meta.Meta) {
	m.Set("script", s.Script)
	m.SetInt("port", int64(s.Port))
	m.Set("type", s.Type)
	m.Set("cwd", s.Cwd)
	if s.Type == "ecosystem" {
		m.Set("node_env", s.NodeEnv)
	} else {
		m.Del("node_env")
	}
	setOpt := func(k, v string) {
		if v == "" {
			m.Del(k)
		} else {
			m.Set(k, v)
		}
	}
	setOpt(KeyArgs, meta.JoinWords(s.Args))
	setOpt(KeyConfig, s.Config)
	setOpt(KeyConfigEnv, s.ConfigEnv)
	if s.Listen {
		m.Set(KeyListen, "1")
	} else {
		m.Del(KeyListen)
	}
	setOpt(KeyInterpreter, s.Interpreter)
	setOpt(KeyInterpArgs, meta.JoinWords(s.InterpArgs))
	if s.Instance >= 0 {
		m.SetInt(KeyInstance, int64(s.Instance))
	} else {
		m.Del(KeyInstance)
	}
	m.Set(KeyRestart, s.Restart)
	m.SetInt(KeyMaxRestarts, int64(s.MaxRestarts))
	m.Set(KeyMinUptime, FormatDuration(s.MinUptime))
	if s.RestartDelay > 0 {
		m.Set(KeyRestartDelay, FormatDuration(s.RestartDelay))
	} else {
		m.Del(KeyRestartDelay)
	}
	if s.Backoff != DefaultBackoff {
		m.Set(KeyBackoff, FormatDuration(s.Backoff))
	} else {
		m.Del(KeyBackoff)
	}
	codes := make([]string, len(s.StopExitCodes))
	for i, c := range s.StopExitCodes {
		codes[i] = strconv.Itoa(c)
	}
	setOpt(KeyStopExitCodes, strings.Join(codes, ","))
	m.Set(KeyKillTimeout, FormatDuration(s.KillTimeout))
	m.Set(KeySignal, s.Signal)
	m.SetInt(KeyLogMaxSize, s.LogMaxSize)
	m.SetInt(KeyLogKeep, int64(s.LogKeep))
	if s.Timestamps {
		m.Del(KeyTimestamps)
	} else {
		m.Set(KeyTimestamps, "no")
	}
	applyPolicy(&s.Policy, m)
}

// FromMeta reads a Spec back from a record. Missing settings take their
// defaults, so records of the older bash TPM run too.
func FromMeta(name string, m *meta.Meta) (*Spec, error) {
	s := New()
	s.Name = name
	s.Script = m.Value("script")
	if s.Script == "" {
		return nil, errors.New("no script")
	}
	s.Port = int(m.Int("port"))
	if t := m.Value("type"); t != "" {
		s.Type = t
	}
	s.Cwd = m.Value("cwd")
	s.NodeEnv = m.Value("node_env")
	s.Config, s.ConfigEnv = m.Value(KeyConfig), m.Value(KeyConfigEnv)
	switch v := m.Value(KeyListen); v {
	case "", "0":
	case "1":
		s.Listen = true
	default:
		return nil, fmt.Errorf("listen=%q: want 1 or 0", v)
	}
	var err error
	words := func(k string) []string {
		v := m.Value(k)
		if v == "" || err != nil {
			return nil
		}
		var w []string
		if w, err = meta.SplitWords(v); err != nil {
			err = fmt.Errorf("%s: %w", k, err)
		}
		return w
	}
	s.Args = words(KeyArgs)
	s.Interpreter = m.Value(KeyInterpreter)
	s.InterpArgs = words(KeyInterpArgs)
	if v, ok := m.Get(KeyInstance); ok {
		if s.Instance, err = strconv.Atoi(v); err != nil {
			return nil, fmt.Errorf("instance: %w", err)
		}
	}
	if v, ok := m.Get(KeyRestart); ok {
		if s.Restart, err = ParseRestart(v); err != nil {
			return nil, err
		}
	}
	num := func(k string, dst *int) {
		if v, ok := m.Get(k); ok && err == nil {
			if *dst, err = strconv.Atoi(v); err != nil || *dst < 0 {
				err = fmt.Errorf("%s=%q is not a count", k, v)
			}
		}
	}
	dur := func(k string, dst *time.Duration) {
		if v, ok := m.Get(k); ok && err == nil {
			// tpm writes Go durations; a person editing the line may write
			// bare seconds, as on the command line.
			if *dst, err = ParseDuration(v, time.Second); err != nil {
				err = fmt.Errorf("%s: %w", k, err)
			}
		}
	}
	num(KeyMaxRestarts, &s.MaxRestarts)
	dur(KeyMinUptime, &s.MinUptime)
	dur(KeyRestartDelay, &s.RestartDelay)
	dur(KeyBackoff, &s.Backoff)
	dur(KeyKillTimeout, &s.KillTimeout)
	num(KeyLogKeep, &s.LogKeep)
	if err != nil {
		return nil, err
	}
	if v, ok := m.Get(KeyStopExitCodes); ok && v != "" {
		if s.StopExitCodes, err = ParseCodes(v); err != nil {
			return nil, err
		}
	}
	if v, ok := m.Get(KeySignal); ok {
		if _, err := ParseSignal(v); err != nil {
			return nil, err
		}
		s.Signal = v
	}
	if v, ok := m.Get(KeyLogMaxSize); ok {
		if s.LogMaxSize, err = strconv.ParseInt(v, 10, 64); err != nil {
			return nil, fmt.Errorf("log_max_size: %w", err)
		}
	}
	s.Timestamps = m.Value(KeyTimestamps) != "no"
	if err := readPolicy(m, &s.Policy); err != nil {
		return nil, err
	}
	return s, nil
}

// Argv returns the program to execute and its argv. pathEnv is the PATH of
// the program's environment, used to find the interpreter (the supervisor's
// own PATH may differ).
func (s *Spec) Argv(pathEnv string) (string, []string, error) {
	if s.Interpreter == "" {
		return s.Script, append([]string{s.Script}, s.Args...), nil
	}
	words, err := InterpreterWords(s.Interpreter, s.Cwd)
	if err != nil {
		return "", nil, err
	}
	prog, err := LookPath(words[0], pathEnv)
	if err != nil {
		return "", nil, err
	}
	argv := append(words, s.InterpArgs...)
	argv = append(argv, s.Script)
	return prog, append(argv, s.Args...), nil
}

// InterpreterWords splits an interpreter command into its words, with a
// relative path for its program (./bin/node) made absolute from cwd, the
// program's folder, as PM2 reads it. A bare name (node) is left for PATH.
// tpm-start records the absolute form; a record written otherwise (by
// hand, or by an older tpm) is read the same way, since the supervisor's
// own folder is /.
func InterpreterWords(interp, cwd string) ([]string, error) {
	words, err := meta.SplitWords(interp)
	if err != nil || len(words) == 0 || words[0] == "" {
		return nil, fmt.Errorf("bad interpreter %q", interp)
	}
	if p := words[0]; strings.Contains(p, "/") && !filepath.IsAbs(p) && cwd != "" {
		words[0] = filepath.Join(cwd, p)
	}
	return words, nil
}

// ErrNotFound is returned by LookPath for a command that is nowhere on PATH.
var ErrNotFound = errors.New("not found on PATH")

// LookPath finds an executable file named file in the directories of pathEnv,
// like exec.LookPath but with a PATH of our choosing. A name with a slash is
// taken as it is.
func LookPath(file, pathEnv string) (string, error) {
	if strings.Contains(file, "/") {
		if err := executable(file); err != nil {
			return "", fmt.Errorf("%s: %w", file, err)
		}
		return file, nil
	}
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		if executable(p) == nil {
			if !filepath.IsAbs(p) {
				if abs, err := filepath.Abs(p); err == nil {
					p = abs
				}
			}
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w", file, ErrNotFound)
}

// executable tells whether the caller may execute p, as exec would decide
// it: access(2) rather than the mode bits alone, so that a file executable
// only by its owner, or on a noexec mount, is no program for anyone else
// (root passes when any execute bit is set). The error is bare (ENOENT,
// EACCES, EISDIR): callers name the file.
func executable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return pe.Err
		}
		return err
	}
	if fi.IsDir() {
		return syscall.EISDIR
	}
	if fi.Mode()&0o111 == 0 {
		return syscall.EACCES
	}
	return unix.Access(p, unix.X_OK)
}

// ParseRestart checks a restart policy.
func ParseRestart(v string) (string, error) {
	switch v {
	case RestartNo, RestartOnFailure, RestartAlways:
		return v, nil
	}
	return "", fmt.Errorf("bad restart policy %q: want no, on-failure or always", v)
}

// ParseCodes reads a comma-separated list of exit codes.
func ParseCodes(v string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 || n > 255 {
			return nil, fmt.Errorf("bad exit code %q", f)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out, nil
}
