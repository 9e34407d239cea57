package logcmd

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tetra-toolkit/tpm/lib/logfile"
	"github.com/tetra-toolkit/tpm/lib/state"
)

// TestFollowAcrossRotations runs the supervisor's writer, rotating small
// files as fast as it can, against a follower that looks again and again:
// every line must come out once, in order, whatever the interleaving.
func TestFollowAcrossRotations(t *testing.T) {
	for round := range 5 {
		dir := t.TempDir()
		path := filepath.Join(dir, "x.out")
		lw, err := logfile.Open(path, logfile.Options{MaxSize: 8 << 10, Keep: 400})
		if err != nil {
			t.Fatal(err)
		}
		const n = 30000
		var out bytes.Buffer
		w := &writer{out: bufio.NewWriter(&out)}
		f := &follower{stream: stream{name: "x", kind: kindOut, stamped: true}, path: path}
		// The follower holds the (empty) file before the first line: it
		// follows from there, across every rotation that comes.
		if err := f.poll(w, true); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			for i := range n {
				lw.Write([]byte(strconv.Itoa(i) + " " + strings.Repeat("x", 40) + "\n"))
			}
			lw.Close()
			close(done)
		}()
		for finished := false; ; {
			select {
			case <-done:
				finished = true
			default:
			}
			if err := f.poll(w, true); err != nil {
				t.Fatal(err)
			}
			if finished {
				f.poll(w, true)
				break
			}
		}
		w.flush()
		next := 0
		for _, l := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
			num, _, _ := strings.Cut(l, " ")
			if num != strconv.Itoa(next) {
				t.Fatalf("round %d: want line %d, got %q (%s)", round, next, l, fmt.Sprint(len(logfile.Series(path))))
			}
			next++
		}
		if next != n {
			t.Fatalf("round %d: %d lines, want %d", round, next, n)
		}
	}
}

// TestFollowLineWithoutEnd: output with no newline (a progress bar), rotated
// inside its one line, is followed byte for byte when one stream is shown as
// it comes, and in pieces of bounded size, each printed as a line, when lines
// wait for their end.
func TestFollowLineWithoutEnd(t *testing.T) {
	for _, immediate := range []bool{true, false} {
		dir := t.TempDir()
		path := filepath.Join(dir, "x.out")
		lw, err := logfile.Open(path, logfile.Options{MaxSize: 8 << 10, Keep: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		for i := range 30000 {
			fmt.Fprintf(&want, "\rprogress %d", i)
		}
		done := make(chan struct{})
		go func() {
			for p := want.Bytes(); len(p) > 0; {
				n := min(len(p), 1000)
				lw.Write(p[:n])
				p = p[n:]
			}
			lw.Close()
			close(done)
		}()
		var out bytes.Buffer
		w := &writer{out: bufio.NewWriter(&out)}
		f := &follower{stream: stream{name: "x", kind: kindOut, stamped: true}, path: path}
		held := 0
		for finished := false; !finished; {
			select {
			case <-done:
				finished = true
			default:
			}
			if err := f.poll(w, immediate); err != nil {
				t.Fatal(err)
			}
			held = max(held, len(f.partial))
		}
		w.flush()
		if immediate {
			if !bytes.Equal(out.Bytes(), want.Bytes()) {
				t.Errorf("followed %d bytes, not the %d written", out.Len(), want.Len())
			}
			continue
		}
		if held > holdMax {
			t.Errorf("held %d bytes of a line, more than %d", held, holdMax)
		}
		got := append(out.Bytes(), f.partial...)
		if !bytes.Equal(bytes.ReplaceAll(got, []byte("\n"), nil), want.Bytes()) {
			t.Errorf("the pieces printed are not the line written")
		}
		if n := bytes.Count(got, []byte("\n")); n < want.Len()/(2*holdMax) {
			t.Errorf("%d pieces printed of a %d-byte line", n, want.Len())
		}
	}
}

// TestFollowFromInsideALine: tpm-log -f starts while a line longer than a
// file is in progress; its start lies in rotated files. The line is shown
// whole, then what follows, byte for byte.
func TestFollowFromInsideALine(t *testing.T) {
	for _, immediate := range []bool{true, false} {
		root := t.TempDir()
		tree := &state.Tree{Root: root}
		os.MkdirAll(filepath.Join(root, state.LogsDir), 0o700)
		path := tree.Out("x")
		os.WriteFile(path+".2", []byte("2026-11-25 19:30:00 first\n2026-11-25 19:30:00 long"), 0o600)
		os.WriteFile(path+".1", []byte(" line, its middle"), 0o600)
		os.WriteFile(path, []byte(" and its end so far"), 0o600)
		var out bytes.Buffer
		w := &writer{out: bufio.NewWriter(&out)}
		l := &logs{tree: tree, kinds: []string{"out"}, followers: map[string]*follower{}, warn: t.Errorf}
		es, err := l.open("x", 2, "", true)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 1 || string(es[0].line) != "2026-11-25 19:30:00 first" {
			t.Errorf("read back %q, want the line before the one in progress", texts(es))
		}
		f := l.followers[path]
		if err := f.poll(w, immediate); err != nil {
			t.Fatal(err)
		}
		af, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		af.WriteString(", ended\n2026-11-25 19:30:01 next\n")
		af.Close()
		if err := f.poll(w, immediate); err != nil {
			t.Fatal(err)
		}
		w.flush()
		want := "2026-11-25 19:30:00 long line, its middle and its end so far, ended\n2026-11-25 19:30:01 next\n"
		if out.String() != want {
			t.Errorf("immediate %v: followed %q, want %q", immediate, out.String(), want)
		}
	}
}

// texts are the lines of entries, for messages.
func texts(es []entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, string(e.line))
	}
	return out
}
