package logfile

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

var stampRE = regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d `)

// unstamp removes the stamp at the start of each line.
func unstamp(b []byte) []byte { return stampRE.ReplaceAll(b, nil) }

func fixedClock(w *Writer) {
	t := time.Date(2026, 11, 25, 19, 30, 0, 0, time.Local)
	w.now = func() time.Time { return t }
}

func TestStampsAndPartialLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.out")
	w, err := Open(path, Options{Stamps: true})
	if err != nil {
		t.Fatal(err)
	}
	fixedClock(w)
	for _, s := range []string{"hello\nwor", "ld\n", "", "prompt> ", "answer\n\n", "no newline"} {
		w.Write([]byte(s))
	}
	w.Close()
	got, _ := os.ReadFile(path)
	want := "2026-11-25 19:30:00 hello\n2026-11-25 19:30:00 world\n2026-11-25 19:30:00 prompt> answer\n2026-11-25 19:30:00 \n2026-11-25 19:30:00 no newline"
	if string(got) != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestInvariantBinaryAndLongLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.out")
	w, err := Open(path, Options{Stamps: true})
	if err != nil {
		t.Fatal(err)
	}
	var all bytes.Buffer
	long := bytes.Repeat([]byte("0123456789"), 600000) // a 6 MB line
	bin := []byte{0, 1, 2, 0xff, 0xfe, '\r', '\n', 0x1b, '[', '3', '1', 'm', '\n'}
	for _, chunk := range [][]byte{bin, long[:100000], long[100000:], []byte("\n"), bin} {
		all.Write(chunk)
		// write in odd pieces
		for len(chunk) > 0 {
			n := min(len(chunk), 65521)
			w.Write(chunk[:n])
			chunk = chunk[n:]
		}
	}
	w.Close()
	got, _ := os.ReadFile(path)
	if !bytes.Equal(unstamp(got), all.Bytes()) {
		t.Fatalf("unstamped file differs from the input (%d vs %d bytes)", len(unstamp(got)), all.Len())
	}
	if n := len(stampRE.FindAll(got, -1)); n != 5 {
		t.Errorf("%d stamps, want 5 (one per line)", n)
	}
}

func TestRotationBetweenLines(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.out")
	w, err := Open(path, Options{MaxSize: 1000, Keep: 3, Stamps: false})
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	for i := 0; i < 400; i++ {
		line := fmt.Sprintf("line %04d %s\n", i, strings.Repeat("x", i%17))
		want.WriteString(line)
		// split every line in two writes to catch rotation inside a line
		w.Write([]byte(line[:3]))
		w.Write([]byte(line[3:]))
	}
	w.Close()
	var got []byte
	for _, suffix := range []string{".3", ".2", ".1", ""} {
		b, err := os.ReadFile(path + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 0 && b[len(b)-1] != '\n' {
			t.Errorf("%s does not end between lines", suffix)
		}
		if suffix != "" && len(b) < 1000 {
			t.Errorf("x.out%s has %d bytes, rotated before 1000", suffix, len(b))
		}
		got = append(got, b...)
	}
	if _, err := os.Stat(path + ".4"); err == nil {
		t.Error("more files kept than Keep")
	}
	if !bytes.HasSuffix(want.Bytes(), got) {
		t.Error("the kept files are not the tail of the output, in order")
	}
}

// failing is a file whose writes fail with ENOSPC while full is set.
type failing struct {
	buf  *bytes.Buffer
	full *bool
}

func (f failing) Write(p []byte) (int, error) {
	if *f.full {
		return 0, syscall.ENOSPC
	}
	return f.buf.Write(p)
}
func (failing) Close() error { return nil }

func TestDiskFull(t *testing.T) {
	var buf bytes.Buffer
	full := false
	w, err := Open(filepath.Join(t.TempDir(), "x.out"), Options{Stamps: true})
	if err != nil {
		t.Fatal(err)
	}
	fixedClock(w)
	w.open = func(string) (io.WriteCloser, int64, error) { return failing{&buf, &full}, 0, nil }
	w.reopen()
	w.Write([]byte("before\nhalf a li"))
	full = true
	if n, err := w.Write([]byte("ne lost\nlost too\n")); n != 17 || err != nil {
		t.Fatalf("Write on a full disk = %d, %v; want all accepted", n, err)
	}
	w.Write([]byte("and this"))
	full = false
	w.Write([]byte(" tail\nafter\n"))
	want := "2026-11-25 19:30:00 before\n" +
		"2026-11-25 19:30:00 half a li\n" +
		"2026-11-25 19:30:00 tpm: 25 bytes of output lost (no space left on device)\n" +
		"2026-11-25 19:30:00  tail\n" +
		"2026-11-25 19:30:00 after\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestReopenAfterRemoval(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.out")
	w, _ := Open(path, Options{})
	w.Write([]byte("one\n"))
	os.Remove(path)
	w.Reopen()
	w.Write([]byte("two\n"))
	w.Close()
	if got, _ := os.ReadFile(path); string(got) != "two\n" {
		t.Errorf("after reopen: %q", got)
	}
}

func BenchmarkWrite(b *testing.B) {
	path := filepath.Join(b.TempDir(), "x.out")
	w, _ := Open(path, Options{Stamps: true, MaxSize: 1 << 30, Keep: 1})
	chunk := bytes.Repeat([]byte(strings.Repeat("x", 99)+"\n"), 2600) // 260 KB of 100-byte lines
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		w.Write(chunk)
	}
	w.Close()
}
