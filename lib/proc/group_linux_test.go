package proc

import (
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// startGroup runs sh -c script as the leader of a group of its own, and
// waits until the group has n live members, orphans of them (members whose
// parent is outside the group).
func startGroup(t *testing.T, script string, n, orphans int) int {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		syscall.Kill(-pid, syscall.SIGKILL)
		cmd.Wait()
	})
	ok := PollUntil(time.Now().Add(10*time.Second), func() bool {
		all, _ := All()
		in := map[int]bool{}
		for _, p := range all {
			if p.PGID == pid && !p.Zombie {
				in[p.PID] = true
			}
		}
		o := 0
		for _, p := range all {
			if in[p.PID] && p.PID != pid && !in[p.PPID] {
				o++
			}
		}
		return len(in) == n && o == orphans
	})
	if !ok {
		t.Fatalf("the group of %q never had %d members", script, n)
	}
	return pid
}

func TestGroupMeter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script string
		n      int
		walkN  int // members found from the leader down, with no full scan
	}{
		{"a leader and its children", "sleep 60 & sleep 60 & wait", 3, 3},
		// The inner shell ends at once: its sleep is reparented, out of
		// the leader's tree, but still in the group; only a full scan
		// finds it, and the walks that follow know it.
		{"a member whose parent ended", `sh -c "sleep 60 &"; exec sleep 60`, 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pid := startGroup(t, tc.script, tc.n, tc.n-tc.walkN)
			walk := NewGroupMeter(pid)
			walk.since = 0
			if u, err := walk.Measure(); err != nil || u.N != tc.walkN {
				t.Errorf("walk from the leader: %d members, %v; want %d", u.N, err, tc.walkN)
			}
			m := NewGroupMeter(pid)
			for i, what := range []string{"full scan", "walk"} {
				u, err := m.Measure()
				if err != nil {
					t.Fatal(err)
				}
				if u.N != tc.n || u.RSS <= 0 {
					t.Errorf("measure %d (%s): %d members, RSS %d; want %d members", i, what, u.N, u.RSS, tc.n)
				}
			}
		})
	}
}

func TestGroupMeterEnded(t *testing.T) {
	cmd := exec.Command("true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	u, err := NewGroupMeter(cmd.Process.Pid).Measure()
	if err != nil || u.N != 0 {
		t.Errorf("a group whose leader is gone: %+v, %v; want nothing", u, err)
	}
}

func TestParseMember(t *testing.T) {
	// Fields 3 to 24 after the command name; 14 to 17 are CPU ticks, 20 the
	// threads, 24 the resident pages.
	line := func(comm, state string) []byte {
		return []byte("4242 (" + comm + ") " + state + " 1 4242 4242 0 -1 4194560 100 0 0 0 7 3 1 1 20 0 5 0 1234 9999 25 18446744073709551615\n")
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want member
		ok   bool
	}{
		{"plain", line("sleep", "S"), member{pgid: 4242, threads: 5, cpu: 120 * time.Millisecond, rss: 25 * pageSize}, true},
		{"a command name with ') ' and spaces", line("a) b (c", "R"), member{pgid: 4242, threads: 5, cpu: 120 * time.Millisecond, rss: 25 * pageSize}, true},
		{"a zombie", line("x", "Z"), member{pgid: 4242, zombie: true, threads: 5, cpu: 120 * time.Millisecond, rss: 25 * pageSize}, true},
		{"cut short", []byte("4242 (x) S 1 4242 4242"), member{}, false},
		{"no command", []byte("4242 x S"), member{}, false},
	} {
		got, ok := parseMember(tc.b)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: %+v, %v; want %+v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

// A measure leaves next to no garbage: the supervisor that makes one every
// few seconds must not grow its heap.
func TestGroupMeterAllocs(t *testing.T) {
	pid := startGroup(t, "sleep 60 & sleep 60 & wait", 3, 0)
	m := NewGroupMeter(pid)
	m.Measure() // the full scan, and the buffers made
	walk := testing.AllocsPerRun(20, func() {
		m.since = 0
		m.Measure()
	})
	full := testing.AllocsPerRun(5, func() {
		m.since = FullScanEvery
		m.Measure()
	})
	// Opening a file makes two small strings of its path.
	if walk > 3*2*2 {
		t.Errorf("a walk of 3 processes: %v allocations", walk)
	}
	all, _ := All()
	if full > float64(2*len(all)+20) {
		t.Errorf("a full scan of %d processes: %v allocations", len(all), full)
	}
}
