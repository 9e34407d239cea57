package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// line is the writer's line k, as a log holds it (stamped or not).
func line(k int, stamped bool) string {
	l := fmt.Sprintf("%d ", k)
	l += strings.Repeat("x", 99-len(l))
	if stamped {
		l = "2026-01-02 03:04:05 " + l
	}
	return l + "\n"
}

func numbered(stamped bool, ks ...int) string {
	var b strings.Builder
	for _, k := range ks {
		b.WriteString(line(k, stamped))
	}
	return b.String()
}

func TestScanLines(t *testing.T) {
	for _, c := range []struct {
		name    string
		files   []string // oldest first
		stamped bool
		n       int
		lost    int
		dups    int
		bad     int
		clean   bool
	}{
		{"whole", []string{numbered(true, 0, 1, 2, 3)}, true, 4, 0, 0, 0, true},
		{"across rotated files", []string{numbered(true, 0, 1), numbered(true, 2), numbered(true, 3)}, true, 4, 0, 0, 0, true},
		{"unstamped", []string{numbered(false, 0, 1, 2)}, false, 3, 0, 0, 0, true},
		{"a gap", []string{numbered(true, 0, 1, 3)}, true, 4, 1, 0, 0, false},
		{"the end missing", []string{numbered(true, 0, 1)}, true, 4, 2, 0, 0, false},
		{"a line twice", []string{numbered(true, 0, 1, 1, 2)}, true, 3, 0, 1, 0, false},
		{"out of order", []string{numbered(true, 0, 2, 1, 3)}, true, 4, 1, 1, 0, false},
		{"files in the wrong order", []string{numbered(true, 2, 3), numbered(true, 0, 1)}, true, 4, 2, 2, 0, false},
		{"a cut line", []string{numbered(true, 0) + "2026-01-02 03:04:05 1 xx\n" + numbered(true, 2)}, true, 3, 1, 0, 1, false},
		{"no stamp", []string{numbered(false, 0)}, true, 1, 1, 0, 1, false},
		{"more than asked", []string{numbered(true, 0, 1, 2)}, true, 2, 0, 0, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			var paths []string
			for i, f := range c.files {
				p := filepath.Join(dir, fmt.Sprint(i))
				if err := os.WriteFile(p, []byte(f), 0o600); err != nil {
					t.Fatal(err)
				}
				paths = append(paths, p)
			}
			got, err := scanLines(paths, c.stamped)
			if err != nil {
				t.Fatal(err)
			}
			if got.lost(c.n) != c.lost || got.dups != c.dups || got.bad != c.bad || got.clean(c.n) != c.clean {
				t.Errorf("%+v: lost %d dups %d bad %d clean %v, want %d %d %d %v",
					got, got.lost(c.n), got.dups, got.bad, got.clean(c.n), c.lost, c.dups, c.bad, c.clean)
			}
		})
	}
}

func TestLogFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.out")
	for _, f := range []string{p, p + ".1", p + ".2", p + ".4"} {
		os.WriteFile(f, nil, 0o600)
	}
	got := strings.Join(logFiles(p), " ")
	if want := strings.Join([]string{p + ".2", p + ".1", p}, " "); got != want {
		t.Errorf("logFiles = %s, want %s", got, want)
	}
}

func TestWriterReport(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "w.err")
	os.WriteFile(p+".1", []byte("2026-01-02 03:04:05 writer: wrote 5 lines, longest write 0s\n"), 0o600)
	os.WriteFile(p, []byte("2026-01-02 03:04:05 something else\n2026-01-02 03:04:06 writer: wrote 50000 lines, longest write 1.072s\n"), 0o600)
	n, d, err := writerReport(p)
	if err != nil || n != 50000 || d != 1072*time.Millisecond {
		t.Errorf("writerReport = %d, %v, %v", n, d, err)
	}
	os.WriteFile(p, []byte("nothing\n"), 0o600)
	if n, _, err := writerReport(p); err != nil || n != 5 {
		t.Errorf("from the rotated file: %d, %v", n, err)
	}
	os.Remove(p + ".1")
	if _, _, err := writerReport(p); err == nil {
		t.Error("no report: no error")
	}
}
