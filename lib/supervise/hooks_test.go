package supervise

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tetra-toolkit/tpm/lib/events"
	"github.com/tetra-toolkit/tpm/lib/logfile"
	"github.com/tetra-toolkit/tpm/lib/spec"
	"github.com/tetra-toolkit/tpm/lib/state"
)

// Which events of a run's story run the hook: one per happening, none for
// what tpm does on purpose.
func TestHookFollow(t *testing.T) {
	ev := func(kind string, kv ...string) [2]any { return [2]any{kind, kv} }
	for _, tc := range []struct {
		name  string
		story [][2]any
		want  string // the kinds that run a hook, in order
	}{
		{"a crash loop", [][2]any{ev(events.Start), ev(events.Exit, "code", "3"), ev(events.Restart), ev(events.Start),
			ev(events.Exit, "code", "3"), ev(events.Errored)}, "exit restart exit errored"},
		{"a stop runs none", [][2]any{ev(events.Start), ev(events.Stop), ev(events.Exit, "signal", "TERM")}, ""},
		{"a memory verdict runs its own, not the exit and restart it causes",
			[][2]any{ev(events.Start), ev(events.Memory), ev(events.Exit, "signal", "TERM"), ev(events.Restart, "why", "memory"),
				ev(events.Start), ev(events.Exit, "code", "1")}, "memory exit"},
		{"a health verdict that ends errored", [][2]any{ev(events.Start), ev(events.Health), ev(events.Exit, "signal", "TERM"),
			ev(events.Errored)}, "health errored"},
		{"a watched change and the schedule run none", [][2]any{ev(events.Start), ev(events.Watch), ev(events.Exit, "signal", "TERM"),
			ev(events.Restart, "why", "watch"), ev(events.Start), ev(events.Cron), ev(events.Exit, "signal", "TERM"),
			ev(events.Restart, "why", "cron"), ev(events.Start)}, ""},
		{"an ended job started again by its schedule, then failing", [][2]any{ev(events.Start), ev(events.Exit, "code", "0"),
			ev(events.Cron), ev(events.Start), ev(events.Exit, "code", "2")}, "exit exit"},
		{"a reload's old run ends quietly; the new run's own end is said", [][2]any{ev(events.Start),
			ev(events.Start, "reload", "1"), ev(events.Exit, "signal", "TERM"), ev(events.Reload), ev(events.Exit, "code", "1")}, "exit"},
		{"adopted", [][2]any{ev(events.Adopt), ev(events.Exit, "code", "unknown")}, "adopt exit"},
		{"others never", [][2]any{ev(events.Start), ev(events.Policy), ev(events.Upgrade, "error", "x"), ev(events.Lost), ev(events.Hook)}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &hooks{}
			var ran []string
			for _, e := range tc.story {
				if k := h.follow(e[0].(string), e[1].([]string)); k != "" {
					ran = append(ran, k)
				}
			}
			if got := strings.Join(ran, " "); got != tc.want {
				t.Errorf("hooks for %q, want %q", got, tc.want)
			}
		})
	}
}

// TPM_EXIT_CODE and TPM_EXIT_SIGNAL: the run's end, kept for the errored
// or restart event that follows it, forgotten at the next start.
func TestHookFollowExit(t *testing.T) {
	h := &hooks{}
	h.follow(events.Start, nil)
	h.follow(events.Exit, []string{"pid", "9", "code", "", "signal", "KILL"})
	h.follow(events.Errored, nil)
	if h.code != "" || h.sig != "KILL" {
		t.Errorf("code %q signal %q", h.code, h.sig)
	}
	h.follow(events.Start, nil)
	if h.code != "" || h.sig != "" {
		t.Errorf("after a start: code %q signal %q", h.code, h.sig)
	}
}

// TPM_STATUS of an exit: what the restart policy makes of it.
func TestHookStatus(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(s *sup)
		kind string
		kv   []string
		want string
	}{
		{"a crash, restarted", nil, events.Exit, []string{"code", "3", "uptime", "10ms"}, state.Restarting},
		{"a crash, the last one", func(s *sup) { s.quick = 15 }, events.Exit, []string{"code", "3", "uptime", "10ms"}, state.Errored},
		{"a crash after a long run resets the count", func(s *sup) { s.quick = 15 }, events.Exit, []string{"code", "3", "uptime", "1h"}, state.Restarting},
		{"a clean end under on-failure", nil, events.Exit, []string{"code", "0", "uptime", "1s"}, state.Exited},
		{"TERM is clean", nil, events.Exit, []string{"signal", "TERM", "uptime", "1s"}, state.Exited},
		{"KILL is not", nil, events.Exit, []string{"signal", "KILL", "uptime", "1s"}, state.Restarting},
		{"restart no, a failure", func(s *sup) { s.spec.Restart = spec.RestartNo }, events.Exit, []string{"code", "1"}, state.Errored},
		{"restart no, a stop exit code", func(s *sup) { s.spec.Restart = spec.RestartNo; s.spec.StopExitCodes = []int{2} },
			events.Exit, []string{"code", "2"}, state.Exited},
		{"always, a quick clean end with a schedule", func(s *sup) {
			s.spec.Restart, s.spec.CronRestart, s.quick = spec.RestartAlways, "@daily", 15
		}, events.Exit, []string{"code", "0", "uptime", "5ms"}, state.Restarting},
		{"an adopted program's end", func(s *sup) { s.spec.Restart = spec.RestartNo }, events.Exit, []string{"code", "unknown"}, state.Errored},
		{"errored", nil, events.Errored, nil, state.Errored},
		{"restart", nil, events.Restart, nil, state.Restarting},
		{"memory", nil, events.Memory, nil, state.Restarting},
		{"health", nil, events.Health, nil, state.Unhealthy},
		{"adopt", nil, events.Adopt, nil, state.Online},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &sup{spec: spec.New()}
			if tc.set != nil {
				tc.set(s)
			}
			if got := s.hookStatus(tc.kind, tc.kv); got != tc.want {
				t.Errorf("status %q, want %q", got, tc.want)
			}
		})
	}
}

// hookSup is a supervisor of the process "app" with a tree, an events log
// and an environment, enough to run hooks; cmd is its on_event.
func hookSup(t *testing.T, cmd string, record ...string) *sup {
	t.Helper()
	dir := t.TempDir()
	tree := &state.Tree{Root: filepath.Join(dir, "tpm")}
	if err := tree.Ensure(); err != nil {
		t.Fatal(err)
	}
	s := &sup{tree: tree, name: "app", spec: spec.New(), env: []string{"PATH=" + os.Getenv("PATH"), "MINE=kept"}, pid: 4242}
	s.spec.OnEvent, s.spec.Cwd = cmd, dir
	if len(record) > 0 {
		m := s.spec.Meta() // script pid port start_time type first
		m.Set("script", "/bin/true")
		m.Set(spec.KeyOnEvent, cmd)
		for i := 0; i+1 < len(record); i += 2 {
			m.Set(record[i], record[i+1])
		}
		if err := tree.WriteMeta("app", m); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	if s.null, err = os.Open(os.DevNull); err != nil {
		t.Fatal(err)
	}
	if s.evLog, err = logfile.Open(tree.Events("app"), logfile.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.endHooks(0, "the test ended")
		s.evLog.Close()
		s.null.Close()
	})
	return s
}

// hookLines waits until the events file holds n hook lines, and returns
// them.
func hookLines(t *testing.T, s *sup, n int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, _ := os.ReadFile(s.tree.Events("app"))
		var got []string
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(l, "event=hook ") {
				got = append(got, l)
			}
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d hook lines after 10s, want %d: %q", len(got), n, data)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestHookRuns(t *testing.T) {
	s := hookSup(t, `echo "$TPM_NAME $TPM_EVENT $TPM_EXIT_CODE/$TPM_EXIT_SIGNAL $TPM_RESTARTS $TPM_STATUS $TPM_PID $MINE"; echo "[$TPM_EVENT_LINE]" >&2; exit 4`)
	s.event(events.Start, "pid", "4242")
	s.event(events.Exit, "pid", "4242", "code", "3", "uptime", "5ms")
	got := hookLines(t, s, 1)
	want := `event=hook for=exit code=4 took=`
	if !strings.HasPrefix(got[0], want) ||
		!strings.HasSuffix(got[0], ` output='app exit 3/ 0 restarting 4242 kept [event=exit pid=4242 code=3 uptime=5ms]'`) {
		t.Errorf("hook line %q", got[0])
	}
}

// The record's on_event_timeout bounds a hook: KILL to its group (what it
// started too), said in its line.
func TestHookTimeLimit(t *testing.T) {
	s := hookSup(t, `echo begun; sleep 30 & wait`, KeyHookTimeout, "200ms")
	s.event(events.Errored, "restarts", "1")
	got := hookLines(t, s, 1)
	if !regexp.MustCompile(`^event=hook for=errored signal=KILL took=[0-9.]+m?s killed='after its time limit of 200ms' output=begun$`).MatchString(got[0]) {
		t.Errorf("hook line %q", got[0])
	}
}

// Hooks never overlap: one waits, the latest; the events between are
// said skipped. At the end, what waits still runs within the grace.
func TestHookQueue(t *testing.T) {
	s := hookSup(t, `sleep 0.3; echo $TPM_EVENT`)
	s.event(events.Exit, "code", "3")
	s.event(events.Restart, "count", "1")
	s.event(events.Exit, "code", "3")
	s.event(events.Errored, "restarts", "1")
	s.endHooks(10*time.Second, "the supervisor ended")
	got := hookLines(t, s, 4)
	want := []*regexp.Regexp{
		regexp.MustCompile(`^event=hook for=restart skipped='the hook for exit was running, and exit came next'$`),
		regexp.MustCompile(`^event=hook for=exit skipped='the hook for exit was running, and errored came next'$`),
		regexp.MustCompile(`^event=hook for=exit code=0 took=\S+ output=exit$`),
		regexp.MustCompile(`^event=hook for=errored code=0 took=\S+ output=errored$`),
	}
	for i, re := range want {
		if !re.MatchString(got[i]) {
			t.Errorf("line %d: %q, want %s", i, got[i], re)
		}
	}
}

// At the supervisor's end a hook gets its grace, then is killed; the one
// waiting is skipped; nothing is left running.
func TestEndHooks(t *testing.T) {
	s := hookSup(t, `echo $$ > "$PIDS/$TPM_EVENT"; exec sleep 30`)
	pids := t.TempDir()
	s.env = append(s.env, "PIDS="+pids)
	s.event(events.Exit, "code", "1")
	s.event(events.Restart, "count", "1")
	start := time.Now()
	s.endHooks(200*time.Millisecond, "the supervisor ended")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("endHooks took %v", d)
	}
	got := hookLines(t, s, 2)
	if !regexp.MustCompile(`^event=hook for=exit signal=KILL took=\S+ killed='the supervisor ended'$`).MatchString(got[0]) ||
		got[1] != `event=hook for=restart skipped='the supervisor ended'` {
		t.Errorf("hook lines %q", got)
	}
	b, err := os.ReadFile(filepath.Join(pids, "exit"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("the hook %d still runs", pid)
	}
	// Hooks run again afterwards (an upgrade that failed goes on).
	s.event(events.Errored, "restarts", "1")
	s.endHooks(200*time.Millisecond, "the supervisor ended")
	if got := hookLines(t, s, 3); !strings.HasPrefix(got[2], "event=hook for=errored signal=KILL") {
		t.Errorf("hook line %q", got[2])
	}
}
