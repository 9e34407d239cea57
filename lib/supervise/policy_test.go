package supervise

import (
	"syscall"
	"testing"
	"time"

	"github.com/tetra-toolkit/tpm/lib/spec"
)

func specWith(f func(*spec.Spec)) *spec.Spec {
	s := spec.New()
	f(s)
	return s
}

// The restart decision of SPEC §6: no, on-failure (TERM, INT, HUP, PIPE and
// exit 0 are clean), always; stop exit codes end the program for good; an
// adopted program's unknown end is a failure.
func TestWantRestart(t *testing.T) {
	onFailure := specWith(func(s *spec.Spec) {})
	always := specWith(func(s *spec.Spec) { s.Restart = spec.RestartAlways })
	no := specWith(func(s *spec.Spec) { s.Restart = spec.RestartNo })
	codes := specWith(func(s *spec.Spec) { s.Restart = spec.RestartAlways; s.StopExitCodes = []int{0, 42} })
	for _, tc := range []struct {
		name string
		p    *spec.Spec
		o    outcome
		want bool
	}{
		{"on-failure, exit 1", onFailure, outcome{code: 1}, true},
		{"on-failure, exit 0", onFailure, outcome{code: 0}, false},
		{"on-failure, TERM", onFailure, outcome{sig: syscall.SIGTERM}, false},
		{"on-failure, PIPE", onFailure, outcome{sig: syscall.SIGPIPE}, false},
		{"on-failure, KILL", onFailure, outcome{sig: syscall.SIGKILL}, true},
		{"on-failure, SEGV", onFailure, outcome{sig: syscall.SIGSEGV}, true},
		{"on-failure, adopted and ended", onFailure, outcome{unknown: true}, true},
		{"always, exit 0", always, outcome{code: 0}, true},
		{"no, exit 1", no, outcome{code: 1}, false},
		{"always, a stop exit code", codes, outcome{code: 42}, false},
		{"always, exit 0 listed as a stop code", codes, outcome{code: 0}, false},
		{"always, an unknown end is no stop code", codes, outcome{unknown: true}, true},
	} {
		if got := wantRestart(tc.p, tc.o); got != tc.want {
			t.Errorf("%s: restart = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// The crash loop: ends within MinUptime of a start count, in a row, up to
// MaxRestarts; a run that lasted resets the count (the window moves with
// each start); clean quick ends of a scheduled job or one with a long fixed
// delay do not count.
func TestCrashWindow(t *testing.T) {
	p := specWith(func(s *spec.Spec) { s.MaxRestarts, s.MinUptime = 3, 10*time.Second })
	quick, long := outcome{code: 1, uptime: time.Second}, outcome{code: 1, uptime: time.Hour}
	q, over := 0, false
	for i := 1; i <= 3; i++ {
		if q, over = nextQuick(p, q, quick); q != i || over {
			t.Fatalf("quick end %d: count %d, over %v", i, q, over)
		}
	}
	if _, over = nextQuick(p, q, quick); !over {
		t.Error("the 4th quick end in a row with max_restarts 3 is not errored (4 runs, restarts=3)")
	}
	if q, over = nextQuick(p, q, long); q != 0 || over {
		t.Errorf("a run that lasted: count %d, over %v; want 0, false", q, over)
	}
	// A day of running, then failing at once: caught like any other loop.
	q = 0
	for range 3 {
		q, _ = nextQuick(p, q, quick)
	}
	if _, over = nextQuick(p, q, quick); !over {
		t.Error("a loop after a long run is not caught")
	}
	clean := outcome{code: 0, uptime: time.Second}
	cron := specWith(func(s *spec.Spec) { s.MaxRestarts, s.CronRestart = 0, "@daily" })
	if q, over = nextQuick(cron, 5, clean); q != 0 || over {
		t.Errorf("a scheduled job's clean quick end counts: %d, %v", q, over)
	}
	delayed := specWith(func(s *spec.Spec) { s.MaxRestarts, s.RestartDelay, s.MinUptime = 0, time.Minute, 10*time.Second })
	if q, over = nextQuick(delayed, 0, clean); q != 0 || over {
		t.Errorf("a clean end before a fixed delay >= min uptime counts: %d, %v", q, over)
	}
	if _, over = nextQuick(delayed, 0, quick); !over {
		t.Error("a failed quick end with a fixed delay does not count")
	}
}

// The back-off: 100 ms doubled for each quick end past the first, up to
// 30 s; a fixed delay replaces it.
func TestBackoff(t *testing.T) {
	p := spec.New()
	for _, tc := range []struct {
		quick int
		want  time.Duration
	}{{0, 100 * time.Millisecond}, {1, 100 * time.Millisecond}, {2, 200 * time.Millisecond}, {4, 800 * time.Millisecond}, {9, 25600 * time.Millisecond}, {10, spec.MaxBackoff}, {20, spec.MaxBackoff}, {1000, spec.MaxBackoff}} {
		want := min(tc.want, spec.MaxBackoff)
		if got := backoff(p, tc.quick); got != want {
			t.Errorf("backoff after %d quick ends = %v, want %v", tc.quick, got, want)
		}
	}
	fixed := specWith(func(s *spec.Spec) { s.RestartDelay = 2 * time.Second })
	if got := backoff(fixed, 9); got != 2*time.Second {
		t.Errorf("a fixed delay: %v", got)
	}
}
