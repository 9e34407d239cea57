package spec

import (
	"slices"
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
