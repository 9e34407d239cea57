package export

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tetra-toolkit/tpm/lib/envfile"
	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/spec"
	"github.com/tetra-toolkit/tpm/lib/systemd"
)

// Marker is in the first line of every file tpm-export writes: a file
// without it is someone else's, and is never overwritten.
const Marker = "exported by tpm-export"

// UnitOptions say what kind of unit to write.
type UnitOptions struct {
	// System writes a system unit (started at boot, wanted by
	// multi-user.target); otherwise a user unit (default.target of the
	// user's manager).
	System bool
	// User is User= of a system unit: the account the program ran as
	// under tpm. Empty or root writes none.
	User string
	// EnvFile is the absolute path of the unit's environment file; empty
	// puts the environment in Environment= lines of the unit itself.
	EnvFile string
}

// Unit is one exported systemd unit.
type Unit struct {
	Name string // api-3000.service
	Text []byte
	// Env is the environment file's content when UnitOptions.EnvFile is set.
	Env []byte
	// Warnings say what did not carry over (on top of the process's own).
	Warnings []string
}

// SystemdUnit writes the unit of p.
func SystemdUnit(p *Process, o UnitOptions) (*Unit, error) {
	s := p.Spec
	u := &Unit{Name: systemd.UnitName(s.Name, ".service")}
	if len(u.Name) > systemd.MaxUnitName {
		return nil, exit.Errorf(exit.DataErr, "%s: the unit name %s is longer than systemd's %d characters", s.Name, u.Name, systemd.MaxUnitName)
	}
	argv, err := command(p)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	setting := func(key, v string) error {
		q, err := systemd.Setting(v)
		if err != nil {
			return exit.Errorf(exit.DataErr, "%s: %s: %v", s.Name, key, err)
		}
		line("%s=%s", key, q)
		return nil
	}

	line("# %s: tpm's process %s, %s.", u.Name, s.Name, Marker)
	line("[Unit]")
	if err := setting("Description", s.Name+" (exported from tpm)"); err != nil {
		return nil, err
	}
	if o.System {
		// A program that listens or connects at boot wants the network
		// configured; a user manager has no such target to wait for.
		line("Wants=network-online.target")
		line("After=network-online.target")
	}
	restarts := s.Restart != spec.RestartNo
	delay := restartDelay(s)
	if restarts {
		burst, interval := startLimit(s, delay)
		line("StartLimitIntervalSec=%s", systemd.Span(interval))
		line("StartLimitBurst=%d", burst)
	}
	line("")
	line("[Service]")
	line("Type=simple")
	if o.System && o.User != "" && o.User != "root" {
		if err := setting("User", o.User); err != nil {
			return nil, err
		}
	}
	if s.Cwd != "" {
		if err := setting("WorkingDirectory", s.Cwd); err != nil {
			return nil, err
		}
	}
	env := p.Environ()
	if o.EnvFile != "" {
		if err := setting("EnvironmentFile", o.EnvFile); err != nil {
			return nil, err
		}
		var skipped []string
		u.Env, skipped = systemd.EnvFile([]string{
			fmt.Sprintf("The environment of %s, %s (tpm's saved %s.env).", u.Name, Marker, s.Name),
			"It may hold secrets: keep it readable by its owner only.",
		}, env)
		u.Warnings = append(u.Warnings, skippedVars(skipped)...)
	} else {
		line("# Any user can read Environment= values with systemctl show: tpm-export --write DIR")
		line("# puts them in a file only its owner reads.")
		var skipped []string
		for _, kv := range env {
			k, v, _ := strings.Cut(kv, "=")
			if !systemd.EnvName(k) {
				skipped = append(skipped, k)
				continue
			}
			line("Environment=%s", systemd.Assignment(k, v))
		}
		u.Warnings = append(u.Warnings, skippedVars(skipped)...)
	}
	line("ExecStart=%s", systemd.ExecLine(argv))
	line("Restart=%s", s.Restart)
	if restarts {
		line("RestartSec=%s", systemd.Span(delay))
		if s.RestartDelay == 0 && s.Backoff < spec.MaxBackoff {
			// tpm doubles the delay after each quick failure; systemd
			// before 254 knows only a fixed one.
			line("# tpm backs off from %s to %s between quick restarts; systemd 254 and later can too:", systemd.Span(s.Backoff), systemd.Span(spec.MaxBackoff))
			line("#RestartSteps=%d", backoffSteps(s.Backoff))
			line("#RestartMaxDelaySec=%s", systemd.Span(spec.MaxBackoff))
		}
	}
	if len(s.StopExitCodes) > 0 {
		codes := make([]string, len(s.StopExitCodes))
		for i, c := range s.StopExitCodes {
			codes[i] = strconv.Itoa(c)
		}
		// A stop code ends the program for good, as a success.
		line("SuccessExitStatus=%s", strings.Join(codes, " "))
		line("RestartPreventExitStatus=%s", strings.Join(codes, " "))
	}
	line("KillMode=control-group")
	line("KillSignal=%s", killSignal(s.Signal))
	// TimeoutStopSec=0 would mean no timeout at all; tpm's 0 kills at once.
	line("TimeoutStopSec=%s", systemd.Span(max(s.KillTimeout, time.Millisecond)))
	if mem, ok := maxMemory(p); ok {
		line("MemoryMax=%d", mem)
	}
	line("")
	line("[Install]")
	if o.System {
		line("WantedBy=multi-user.target")
	} else {
		line("WantedBy=default.target")
	}
	u.Text = []byte(b.String())
	return u, nil
}

// command returns the program's argv with an absolute program path, as
// the supervisor would execute it: the interpreter found on the PATH of the
// program's own environment.
func command(p *Process) ([]string, error) {
	s := p.Spec
	pathEnv, _ := envfile.Get(p.Env, "PATH")
	prog, argv, err := s.Argv(pathEnv)
	if err != nil {
		return nil, exit.Errorf(exit.NoInput, "%s: %v", s.Name, err)
	}
	if !filepath.IsAbs(prog) {
		if s.Cwd == "" {
			return nil, exit.Errorf(exit.DataErr, "%s: the script %s is relative and the record has no cwd", s.Name, prog)
		}
		prog = filepath.Join(s.Cwd, prog)
	}
	return append([]string{prog}, argv[1:]...), nil
}

// restartDelay is the wait before a restart: the app's fixed delay, or the
// first step of tpm's back-off.
func restartDelay(s *spec.Spec) time.Duration {
	if s.RestartDelay > 0 {
		return s.RestartDelay
	}
	return s.Backoff
}

// startLimit maps tpm's crash-loop rule to a start rate limit. tpm gives
// up after max_restarts+1 runs in a row that each ended within min_uptime
// of their start; such runs, and the waits between them, fit in
// (max_restarts+1) × (min_uptime + delay). A program that stays up longer
// each time falls out of that window and keeps being restarted, as under
// tpm.
func startLimit(s *spec.Spec, delay time.Duration) (burst int, interval time.Duration) {
	burst = s.MaxRestarts + 1
	interval = time.Duration(burst) * (s.MinUptime + delay)
	// Whole seconds, at least one: systemd counts in microseconds but
	// people read seconds.
	interval = max((interval+time.Second-1)/time.Second*time.Second, time.Second)
	return burst, interval
}

// backoffSteps is how many doublings take tpm's back-off from its first
// delay to its ceiling: systemd's RestartSteps= spreads the same growth.
func backoffSteps(first time.Duration) int {
	if first <= 0 {
		first = spec.DefaultBackoff
	}
	return max(int(math.Ceil(math.Log2(float64(spec.MaxBackoff)/float64(first)))), 1)
}

// killSignal writes tpm's stop signal (TERM, or a number) as systemd and
// Nomad name it.
func killSignal(sig string) string {
	if _, err := strconv.Atoi(sig); err == nil {
		return sig
	}
	return "SIG" + sig
}

// maxMemory is the record's max_memory in bytes, when it has one tpm can
// read (SPEC §12).
func maxMemory(p *Process) (int64, bool) {
	if p.Meta == nil {
		return 0, false
	}
	v, ok := p.Meta.Get("max_memory")
	if !ok || v == "" || v == "0" {
		return 0, false
	}
	n, err := spec.ParseSize(v)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

func skippedVars(ks []string) []string {
	if len(ks) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("left out of the environment, as systemd takes only names of letters, digits and _ (and UTF-8 values): %s", strings.Join(ks, " "))}
}
