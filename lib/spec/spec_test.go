package spec

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	s := New()
	s.Name = "api-3000"
	s.Script = "/srv/my app/api.js"
	s.Args = []string{"--port", "3000", "it's"}
	s.Interpreter = "node"
	s.InterpArgs = []string{"--max-old-space-size=512"}
	s.Cwd = "/srv/my app"
	s.Port = 3000
	s.Instance = 2
	s.Type = "ecosystem"
	s.NodeEnv = "production"
	s.Restart = RestartAlways
	s.MaxRestarts = 3
	s.MinUptime = 2 * time.Second
	s.RestartDelay = 500 * time.Millisecond
	s.Backoff = 200 * time.Millisecond
	s.StopExitCodes = []int{0, 3}
	s.KillTimeout = 1600 * time.Millisecond
	s.Signal = "INT"
	s.LogMaxSize = 1 << 20
	s.LogKeep = 2
	s.Timestamps = false
	m := s.Meta()
	if err := m.Check(); err != nil {
		t.Fatal(err)
	}
	got, err := FromMeta("api-3000", m)
	if err != nil {
		t.Fatal(err)
	}
	if got.Script != s.Script || !slices.Equal(got.Args, s.Args) || got.Interpreter != s.Interpreter ||
		!slices.Equal(got.InterpArgs, s.InterpArgs) || got.Cwd != s.Cwd || got.Port != s.Port ||
		got.Instance != s.Instance || got.Type != s.Type || got.NodeEnv != s.NodeEnv || got.Restart != s.Restart ||
		got.MaxRestarts != s.MaxRestarts || got.MinUptime != s.MinUptime || got.RestartDelay != s.RestartDelay ||
		got.Backoff != s.Backoff || !slices.Equal(got.StopExitCodes, s.StopExitCodes) ||
		got.KillTimeout != s.KillTimeout || got.Signal != s.Signal || got.LogMaxSize != s.LogMaxSize ||
		got.LogKeep != s.LogKeep || got.Timestamps != s.Timestamps {
		t.Errorf("round trip through %q:\n got %+v\nwant %+v", m.String(), got, s)
	}
}

func TestLegacyDefaults(t *testing.T) {
	m := New().Meta()
	for _, k := range []string{KeyRestart, KeyMaxRestarts, KeyMinUptime, KeyKillTimeout, KeySignal, KeyLogMaxSize, KeyLogKeep, "cwd"} {
		m.Del(k)
	}
	m.Set("script", "/x.sh")
	s, err := FromMeta("x", m)
	if err != nil {
		t.Fatal(err)
	}
	if s.Restart != RestartOnFailure || s.MaxRestarts != 15 || s.KillTimeout != 3*time.Second || !s.Timestamps || s.Instance != -1 {
		t.Errorf("defaults: %+v", s)
	}
}

func TestUnits(t *testing.T) {
	for in, want := range map[string]time.Duration{"3": 3 * time.Second, "1.5": 1500 * time.Millisecond, "500ms": 500 * time.Millisecond, "1m": time.Minute} {
		if got, err := ParseDuration(in, time.Second); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v", in, got, err)
		}
	}
	if got, _ := ParseDuration("1600", time.Millisecond); got != 1600*time.Millisecond {
		t.Errorf("ecosystem ms: %v", got)
	}
	for _, bad := range []string{"", "x", "-1", "-3s"} {
		if _, err := ParseDuration(bad, time.Second); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "1.5d": 36 * time.Hour, "90": 90 * time.Second, "2h": 2 * time.Hour} {
		if got, err := ParseAge(in); err != nil || got != want {
			t.Errorf("ParseAge(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"d", "-1d", "soon"} {
		if _, err := ParseAge(bad); err == nil {
			t.Errorf("ParseAge(%q) accepted", bad)
		}
	}
	for in, want := range map[string]int64{"10M": 10 << 20, "10MiB": 10 << 20, "10mb": 10 << 20, "512K": 512 << 10, "1.5G": 3 << 29, "100": 100} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v", in, got, err)
		}
	}
	for in, want := range map[string]syscall.Signal{"TERM": syscall.SIGTERM, "sigint": syscall.SIGINT, "9": syscall.SIGKILL, "usr2": syscall.SIGUSR2} {
		if got, err := ParseSignal(in); err != nil || got != want {
			t.Errorf("ParseSignal(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseSignal("BOGUS"); err == nil {
		t.Error("ParseSignal(BOGUS) accepted")
	}
}

func TestInstancesCap(t *testing.T) {
	limit := MaxInstances()
	if limit < 1024 {
		t.Fatalf("MaxInstances() = %d, want at least 1024", limit)
	}
	for in, want := range map[string]int{"1": 1, "1024": 1024, "max": runtime.NumCPU()} {
		if got, err := Instances(in); err != nil || got != want {
			t.Errorf("Instances(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{strconv.Itoa(limit + 1), "100000", "99999999999999", "-2", "many"} {
		if n, err := Instances(bad); err == nil {
			t.Errorf("Instances(%q) = %d, want an error", bad, n)
		}
	}
}

func TestInterpreterWords(t *testing.T) {
	for _, tc := range []struct {
		name, interp, cwd string
		want              []string
	}{
		{"a bare name is left for PATH", "python3", "/srv/app", []string{"python3"}},
		{"a relative path is the program's folder's", "./bin/node --harmony", "/srv/app", []string{"/srv/app/bin/node", "--harmony"}},
		{"a path without ./ too", "venv/bin/python", "/srv/app", []string{"/srv/app/venv/bin/python"}},
		{"an absolute path stays", "/usr/bin/env node", "/srv/app", []string{"/usr/bin/env", "node"}},
		{"quoted words with spaces", "'./my bin/x' '-a b'", "/srv", []string{"/srv/my bin/x", "-a b"}},
		{"no folder known: left as it is", "./x", "", []string{"./x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := InterpreterWords(tc.interp, tc.cwd)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("InterpreterWords(%q, %q) = %q, %v; want %q", tc.interp, tc.cwd, got, err, tc.want)
			}
		})
	}
	for _, bad := range []string{"", "   ", "'open"} {
		if _, err := InterpreterWords(bad, "/"); err == nil {
			t.Errorf("InterpreterWords(%q) accepted", bad)
		}
	}
}

// A record with a relative interpreter (by hand, or an older tpm) runs it
// from its cwd, not from the supervisor's folder.
func TestArgvRelativeInterpreter(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", "x"), []byte("#!/bin/sh\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	s := New()
	s.Script, s.Cwd, s.Interpreter, s.Args = filepath.Join(dir, "job"), dir, "./bin/x -v", []string{"a"}
	prog, argv, err := s.Argv("/usr/bin:/bin")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "bin", "x"), "-v", filepath.Join(dir, "job"), "a"}
	if prog != want[0] || !slices.Equal(argv, want) {
		t.Errorf("Argv = %q %q, want %q", prog, argv, want)
	}
}

// LookPath skips what the caller may not execute, as a shell does.
func TestLookPathNeedsExecute(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "plain"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LookPath("plain", dir); !errors.Is(err, ErrNotFound) {
		t.Errorf("LookPath of a file without an execute bit: %v", err)
	}
	if _, err := LookPath(filepath.Join(dir, "plain"), ""); !errors.Is(err, os.ErrPermission) {
		t.Errorf("LookPath of a path without an execute bit: %v", err)
	}
	if _, err := LookPath(dir, ""); !errors.Is(err, syscall.EISDIR) {
		t.Errorf("LookPath of a folder: %v", err)
	}
}
