package export

import (
	"strings"
	"testing"
	"time"

	"github.com/tetra-toolkit/tpm/lib/meta"
	"github.com/tetra-toolkit/tpm/lib/spec"
)

func TestStartLimit(t *testing.T) {
	for _, c := range []struct {
		name             string
		maxRestarts      int
		minUptime, delay time.Duration
		wantBurst        int
		wantInterval     time.Duration
	}{
		{"defaults: 16 runs of up to 10s and 100ms waits", 15, 10 * time.Second, 100 * time.Millisecond, 16, 162 * time.Second},
		{"max_restarts 3 means 4 runs", 3, 5 * time.Second, 100 * time.Millisecond, 4, 21 * time.Second},
		{"no restart allowed: one run", 0, 10 * time.Second, 0, 1, 10 * time.Second},
		{"rounded up to whole seconds, at least one", 0, 0, 100 * time.Millisecond, 1, time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := spec.New()
			s.MaxRestarts, s.MinUptime = c.maxRestarts, c.minUptime
			b, i := startLimit(s, c.delay)
			if b != c.wantBurst || i != c.wantInterval {
				t.Errorf("startLimit = %d, %v; want %d, %v", b, i, c.wantBurst, c.wantInterval)
			}
		})
	}
}

func TestBackoffSteps(t *testing.T) {
	// 100ms doubled 9 times passes 30s (51.2s): 9 steps.
	for first, want := range map[time.Duration]int{100 * time.Millisecond: 9, time.Second: 5, 20 * time.Second: 1, 0: 9} {
		if got := backoffSteps(first); got != want {
			t.Errorf("backoffSteps(%v) = %d, want %d", first, got, want)
		}
	}
}

func TestGroups(t *testing.T) {
	proc := func(name string, instance int) *Process {
		s := spec.New()
		s.Name, s.Instance = name, instance
		return &Process{Spec: s}
	}
	gs := Groups([]*Process{proc("web-0", 0), proc("api-3000", -1), proc("web-1", 1), proc("web-9", -1)})
	var got []string
	for _, g := range gs {
		got = append(got, g.Name+"×"+string(rune('0'+len(g.Procs))))
	}
	// web-9 has no instance number: a process of its own, name and all.
	if want := "web×2 api-3000×1 web-9×1"; strings.Join(got, " ") != want {
		t.Errorf("groups %s, want %s", strings.Join(got, " "), want)
	}
}

func TestDropNulls(t *testing.T) {
	in := `{"a":null,"b":{"c":null,"d":[1,null,{"e":null,"f":""}],"g":false},"h":"x"}`
	out, err := dropNulls([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	// Members go; array items stay (a position means something); false
	// stays (Unlimited: false is a setting).
	if want := `{"b":{"d":[1,null,{}],"g":false},"h":"x"}`; string(out) != want {
		t.Errorf("dropNulls = %s, want %s", out, want)
	}
}

func TestUnmapped(t *testing.T) {
	m, err := meta.Parse([]byte("script=/x pid=0 port=0 start_time=0 type=cli watch=1 health_http=/h listen=0 max_memory=lots cron_restart=''"))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(unmapped(m), "\n")
	for _, want := range []string{"watch=1 is not exported", "health_http=/h is not exported", "max_memory=lots is not exported"} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in:\n%s", want, got)
		}
	}
	// Off or empty settings say nothing.
	for _, not := range []string{"listen", "cron_restart"} {
		if strings.Contains(got, not) {
			t.Errorf("%s named in:\n%s", not, got)
		}
	}
}

func TestEnvironLeavesOutTheShellsBookkeeping(t *testing.T) {
	p := &Process{Env: []string{"PWD=/x", "B=2", "_=/usr/bin/tpm-start", "SHLVL=1", "A=1", "OLDPWD=/y"}}
	if got := strings.Join(p.Environ(), " "); got != "A=1 B=2" {
		t.Errorf("Environ = %s", got)
	}
}
