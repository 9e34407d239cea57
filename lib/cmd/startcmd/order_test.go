package startcmd

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tetra-toolkit/tpm/lib/spec"
)

// jobsOf makes jobs named as given; "web:db,cache" depends on db and
// cache; "pool-1@1" is instance 1 of pool.
func jobsOf(defs ...string) []*job {
	var out []*job
	for _, d := range defs {
		s := spec.New()
		name, deps, _ := strings.Cut(d, ":")
		if n, i, ok := strings.Cut(name, "@"); ok {
			name = n
			s.Instance = int(i[0] - '0')
		}
		s.Name = name
		if deps != "" {
			s.DependsOn = strings.Split(deps, ",")
		}
		out = append(out, &job{spec: s})
	}
	return out
}

func jobNames(js []*job) string {
	var n []string
	for _, j := range js {
		n = append(n, j.spec.Name)
	}
	return strings.Join(n, " ")
}

// The jobs with no dependency here first, in their own order, then each
// level of dependents; a dependency on an app is on all its instances; a
// dependency outside the start does not order.
func TestLevels(t *testing.T) {
	for _, tc := range []struct {
		name   string
		jobs   []*job
		want   string
		cyclic string
	}{
		{"none", jobsOf("a", "b", "c"), "a b c", ""},
		{"written backwards", jobsOf("web:migrate", "migrate:database", "database"), "database migrate web", ""},
		{"independent ones do not wait", jobsOf("web:migrate", "worker", "migrate:db", "db"), "worker db migrate web", ""},
		{"on every instance", jobsOf("web:pool", "pool-0@0", "pool-1@1"), "pool-0 pool-1 web", ""},
		{"instances of a dependent", jobsOf("web-0@0:db", "web-1@1:db", "db"), "db web-0 web-1", ""},
		{"a diamond", jobsOf("d:b,c", "b:a", "c:a", "a"), "a b c d", ""},
		{"outside the start", jobsOf("web:db"), "web", ""},
		{"a cycle stays out, the rest goes on", jobsOf("x", "a:b", "b:a", "c:a"), "x c", "a b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			order, cyclic := levels(tc.jobs)
			if got := jobNames(order); got != tc.want {
				t.Errorf("order %q, want %q", got, tc.want)
			}
			var cy []string
			for _, j := range tc.jobs {
				if why, ok := cyclic[j]; ok {
					cy = append(cy, j.spec.Name)
					if !strings.HasPrefix(why, "depends_on makes a cycle: ") {
						t.Errorf("why %q", why)
					}
				}
			}
			if got := strings.Join(cy, " "); got != tc.cyclic {
				t.Errorf("cyclic %q, want %q", got, tc.cyclic)
			}
		})
	}
}

func TestIsInstance(t *testing.T) {
	for _, tc := range []struct {
		n, app string
		want   bool
	}{
		{"web-0", "web", true},
		{"web-12", "web", true},
		{"web", "web", false},
		{"web-", "web", false},
		{"web-api", "web", false},
		{"webx-0", "web", false},
		{"my-web-1", "web", false},
	} {
		if got := isInstance(tc.n, tc.app); got != tc.want {
			t.Errorf("isInstance(%q, %q) = %v", tc.n, tc.app, got)
		}
	}
}

// wait_log readiness reads what a log gained since the start: whole lines,
// the stamp left out, a line written in two parts read once whole, an
// older line never.
func TestLogMark(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "app.out")
	write := func(s string) {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(s)
		f.Close()
	}
	write("2026-01-02 03:04:05 ready\n") // before the start: does not count
	m := &logMark{re: regexp.MustCompile(`^ready$`), stamps: true, files: []*logScan{newLogScan(p)}}
	if m.seen() {
		t.Fatal("an old line counted")
	}
	write("2026-01-02 03:04:06 starting\n2026-01-02 03:04:06 rea")
	if m.seen() {
		t.Fatal("half a line counted")
	}
	write("dy\n")
	if !m.seen() {
		t.Fatal("the ready line was not seen")
	}
	// Rotated: the new file is read from its start.
	os.Rename(p, p+".1")
	write("2026-01-02 03:04:07 ready\n")
	if !m.seen() {
		t.Fatal("the ready line of a new file was not seen")
	}
	plain := &logMark{re: regexp.MustCompile(`^listening on`), files: []*logScan{newLogScan(p)}}
	write("listening on 3000\n")
	if !plain.seen() {
		t.Fatal("a line without stamps was not seen")
	}
}
