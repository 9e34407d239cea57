package spec

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ParseDuration reads a duration: a Go duration ("3s", "1m30s", "500ms"), or
// a bare number in the unit bare. The command line takes bare numbers as
// seconds, as sleep(1) and systemd do; ecosystem files as milliseconds, as
// PM2 does.
func ParseDuration(s string, bare time.Duration) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f < 0 {
			return 0, fmt.Errorf("negative duration %q", s)
		}
		return time.Duration(f * float64(bare)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("bad duration %q: want e.g. 3s, 500ms or 1m", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration %q", s)
	}
	return d, nil
}

// FormatDuration writes d as the meta line keeps it: Go's form ("10s",
// "1m30s", "100ms").
func FormatDuration(d time.Duration) string { return d.String() }

// ParseSize reads a size: bytes, or a number with K, M or G (powers of 1024;
// "10M", "10MB", "10MiB", "1.5G").
func ParseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	mult := int64(1)
	if t != "" {
		switch t[len(t)-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		}
		if mult > 1 {
			t = t[:len(t)-1]
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("bad size %q: want bytes or a number with K, M or G", s)
	}
	return int64(f * float64(mult)), nil
}

// signals are the names tpm knows (a slice, not a map: no work at start-up
// for the supervisor).
var signals = [...]struct {
	name string
	sig  syscall.Signal
}{
	{"HUP", syscall.SIGHUP}, {"INT", syscall.SIGINT}, {"QUIT", syscall.SIGQUIT}, {"KILL", syscall.SIGKILL},
	{"USR1", syscall.SIGUSR1}, {"USR2", syscall.SIGUSR2}, {"TERM", syscall.SIGTERM}, {"ALRM", syscall.SIGALRM},
	{"PIPE", syscall.SIGPIPE}, {"ABRT", syscall.SIGABRT}, {"WINCH", syscall.SIGWINCH},
}

// ParseSignal reads a signal name (TERM, SIGTERM, term) or number.
func ParseSignal(s string) (syscall.Signal, error) {
	t := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "SIG")
	for _, n := range signals {
		if n.name == t {
			return n.sig, nil
		}
	}
	if n, err := strconv.Atoi(t); err == nil && n > 0 && n < 65 {
		return syscall.Signal(n), nil
	}
	return 0, fmt.Errorf("bad signal %q: want a name such as TERM, INT, HUP, QUIT, USR1, USR2, KILL", s)
}

// SignalName writes a signal as the meta line keeps it: its name without
// SIG, or its number.
func SignalName(sig syscall.Signal) string {
	for _, n := range signals {
		if n.sig == sig {
			return n.name
		}
	}
	return strconv.Itoa(int(sig))
}

// NormSignal returns the canonical name of a signal given by name or number.
func NormSignal(s string) (string, error) {
	sig, err := ParseSignal(s)
	if err != nil {
		return "", err
	}
	return SignalName(sig), nil
}

// Instances reads an instance count as PM2 does: a number, max or 0 for one
// per CPU, -1 for one less than the CPUs (at least one). A count above
// MaxInstances is refused.
func Instances(v string) (int, error) {
	v = strings.TrimSpace(v)
	if v == "max" {
		v = "0"
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < -1 {
		return 0, fmt.Errorf("bad instance count %q: want a number, max, 0 or -1", v)
	}
	switch n {
	case 0:
		n = runtime.NumCPU()
	case -1:
		n = max(runtime.NumCPU()-1, 1)
	}
	if limit := MaxInstances(); n > limit {
		return 0, fmt.Errorf("%d is more than the %d instances allowed", n, limit)
	}
	return n, nil
}

// MaxInstances bounds an instance count: 1024, or one per CPU on a machine
// with more. Instances are for spreading work over CPUs; 1024 is more than
// that on any common machine (and max is always allowed), it stays below
// the usual open-file limits (tpm-start holds one lock per instance until
// all have started; 4096 by default on Linux), and 1024 supervisors with
// their programs are already gigabytes of memory. A mistyped count (100000)
// is refused before anything is created.
func MaxInstances() int { return max(1024, runtime.NumCPU()) }

// ParseAge reads an age or a period: a duration as ParseDuration reads it
// (bare numbers are seconds), or days (7d, 1.5d).
func ParseAge(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(strings.TrimSpace(s), "d"); ok {
		if n, err := strconv.ParseFloat(d, 64); err == nil && n >= 0 {
			return time.Duration(n * float64(24*time.Hour)), nil
		}
	}
	return ParseDuration(s, time.Second)
}
