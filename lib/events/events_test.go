package events

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		kind       string
		fields     string // key=value,... after the kind
		bad        bool
	}{
		{"start with a pid", "2026-11-29 19:40:01 event=start pid=1234\n", "start", "pid=1234", false},
		{"no newline", "2026-11-29 19:40:03 event=exit code=1 uptime=2.1s", "exit", "code=1,uptime=2.1s", false},
		{"quoted value with a blank and a quote", `2026-11-29 19:40:03 event=policy why='bad '\''max_restarts'\'' x'`, "policy", "why=bad 'max_restarts' x", false},
		{"kind alone", "2026-11-29 19:40:03 event=errored", "errored", "", false},
		{"too short for a stamp", "2026-11-29 19:40", "", "", true},
		{"not a time", "2026-13-29 19:40:03 event=start", "", "", true},
		{"first field is not event", "2026-11-29 19:40:03 pid=1 event=start", "", "", true},
		{"no fields", "2026-11-29 19:40:03 ", "", "", true},
		{"output line, not an event", "2026-11-29 19:40:03 hello world", "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Parse([]byte(tc.line))
			if tc.bad {
				if err == nil {
					t.Fatalf("parsed %+v, want an error", e)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var fs []string
			for _, f := range e.Fields {
				fs = append(fs, f.Key+"="+f.Value)
			}
			if e.Kind != tc.kind || strings.Join(fs, ",") != tc.fields {
				t.Errorf("got %s %v, want %s %s", e.Kind, fs, tc.kind, tc.fields)
			}
			if KindOf([]byte(tc.line)) != tc.kind {
				t.Errorf("KindOf = %q, want %q", KindOf([]byte(tc.line)), tc.kind)
			}
		})
	}
}

// TestLineParses: what Line writes, stamped, Parse reads back; a value with
// a newline stays on its line, an empty one is left out.
func TestLineParses(t *testing.T) {
	line := Line(Stop, "signal", "TERM", "by", "request", "empty", "", "why", "two\nlines 'quoted' $(x)")
	if bytes.Count(line, []byte("\n")) != 1 || line[len(line)-1] != '\n' {
		t.Fatalf("Line wrote %q, not one line", line)
	}
	e, err := Parse(append([]byte("2026-11-29 19:41:00 "), line...))
	if err != nil {
		t.Fatal(err)
	}
	if e.Kind != Stop || e.Get("signal") != "TERM" || e.Get("by") != "request" || e.Get("why") != "two lines 'quoted' $(x)" {
		t.Errorf("read back %+v", e)
	}
	if len(e.Fields) != 3 {
		t.Errorf("fields %+v, want the empty one left out", e.Fields)
	}
	want := time.Date(2026, 11, 29, 19, 41, 0, 0, time.Local)
	if !e.Time.Equal(want) {
		t.Errorf("time %v, want %v", e.Time, want)
	}
}

func TestLastIn(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		cut        bool
		want       string // kind, "" for none
	}{
		{"empty", "", false, ""},
		{"one line", "2026-11-29 19:40:01 event=start pid=1\n", false, "start"},
		{"last of several", "2026-11-29 19:40:01 event=start pid=1\n2026-11-29 19:40:02 event=exit code=0\n", false, "exit"},
		{"line being written is passed over", "2026-11-29 19:40:01 event=start pid=1\n2026-11-29 19:40:02 event=ex", false, "start"},
		{"only a line being written", "2026-11-29 19:40:01 event=sta", false, ""},
		{"junk after an event", "2026-11-29 19:40:01 event=start pid=1\ngarbage\n", false, "start"},
		{"first line of a cut block is not trusted", "9 19:40:01 event=start\n", true, ""},
		{"first line of the file is", "2026-11-29 19:40:01 event=start\n", false, "start"},
		{"cut block, later line", "01 event=start\n2026-11-29 19:40:02 event=stop\n", true, "stop"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, ok := LastIn([]byte(tc.data), tc.cut)
			if ok != (tc.want != "") || e.Kind != tc.want {
				t.Errorf("got %q %v, want %q", e.Kind, ok, tc.want)
			}
		})
	}
}

// TestLast reads the end of real files: a long file (only its end is
// read), a file just rotated (its predecessor holds the last event), none,
// and a link planted where the file should be (refused).
func TestLast(t *testing.T) {
	dir := t.TempDir()
	long := filepath.Join(dir, "long.events")
	var b bytes.Buffer
	for i := range 2000 {
		b.WriteString("2026-11-29 19:40:01 event=restart count=" + strconv.Itoa(i) + "\n")
	}
	os.WriteFile(long, b.Bytes(), 0o600)
	if e, ok, err := Last(long); err != nil || !ok || e.Get("count") != "1999" {
		t.Errorf("long file: %+v %v %v", e, ok, err)
	}

	rot := filepath.Join(dir, "rot.events")
	os.WriteFile(rot, nil, 0o600)
	os.WriteFile(rot+".1", []byte("2026-11-29 19:40:01 event=stop by=request\n"), 0o600)
	if e, ok, err := Last(rot); err != nil || !ok || e.Kind != Stop {
		t.Errorf("rotated: %+v %v %v", e, ok, err)
	}

	if _, ok, err := Last(filepath.Join(dir, "none.events")); ok || err != nil {
		t.Errorf("missing file: %v %v", ok, err)
	}

	link := filepath.Join(dir, "link.events")
	os.Symlink(long, link)
	if _, ok, err := Last(link); ok || err == nil {
		t.Errorf("link: %v %v, want refused", ok, err)
	}
}

func TestEnds(t *testing.T) {
	for kind, want := range map[string]bool{
		Start: false, Adopt: false, Stop: false, Upgrade: false, Watch: false,
		Exit: true, Restart: true, Errored: true, "": false,
	} {
		if Ends(kind) != want {
			t.Errorf("Ends(%q) = %v", kind, !want)
		}
	}
}

func TestExtra(t *testing.T) {
	e, _ := Parse([]byte("2026-11-29 19:40:01 event=lost name=x bytes=12 stream=out time=1 line=2 reason=full"))
	var got []string
	for _, f := range e.Extra() {
		got = append(got, f.Key)
	}
	if strings.Join(got, ",") != "bytes,reason" {
		t.Errorf("Extra kept %v", got)
	}
}

// TestLastLongLine: a last line longer than the first block read is found
// by the second.
func TestLastLongLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.events")
	long := "2026-11-29 19:40:01 event=policy why=" + strings.Repeat("x", 3000) + "\n"
	os.WriteFile(p, []byte("2026-11-29 19:40:00 event=start pid=1\n"+long), 0o600)
	e, ok, err := Last(p)
	if err != nil || !ok || e.Kind != Policy || len(e.Get("why")) != 3000 {
		t.Errorf("got %s %v %v", e.Kind, ok, err)
	}
}
