package logfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
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

// series reads a log stream's files oldest first (path.N ... path.1, path).
func series(t *testing.T, path string) [][]byte {
	t.Helper()
	var files [][]byte
	for _, p := range Series(path) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		files = append([][]byte{b}, files...)
	}
	return files
}

// TestRotationInsideLongLines writes lines of every kind (short, longer than
// a file, with no end at all) in chunks of every size, and checks the
// invariant across files: joined oldest first and unstamped they are the
// output; each file stays under twice MaxSize; a line is split across files
// only when it is at least MaxSize long; each line is stamped once.
func TestRotationInsideLongLines(t *testing.T) {
	const maxSize = 1000
	progress := func(n int) string { // a progress bar: no newline
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "\rprogress %d", i)
		}
		return b.String()
	}
	for _, tc := range []struct {
		name  string
		lines []string
	}{
		{"progress bar, no newline at all", []string{progress(3000)}},
		{"progress bar ended by a newline", []string{progress(3000) + "\n", "after\n"}},
		{"short lines", []string{strings.Repeat("short line\n", 500)}},
		{"a line just under the limit", []string{"a\n", strings.Repeat("y", maxSize-StampLen-2) + "\n", "b\n"}},
		{"mixed", []string{"start\n", strings.Repeat("z", 5*maxSize) + "\n", strings.Repeat("mid\n", 300), strings.Repeat("w", 3*maxSize+7) + "\n", progress(500)}},
	} {
		for _, chunk := range []int{1, 7, 100, 999, 1000, 1001, 4096, 1 << 20} {
			for _, stamps := range []bool{true, false} {
				path := filepath.Join(t.TempDir(), "x.out")
				w, err := Open(path, Options{MaxSize: maxSize, Keep: 100, Stamps: stamps})
				if err != nil {
					t.Fatal(err)
				}
				all := strings.Join(tc.lines, "")
				for p := []byte(all); len(p) > 0; {
					n := min(chunk, len(p))
					w.Write(p[:n])
					p = p[n:]
				}
				w.Close()
				where := fmt.Sprintf("%s, chunks of %d, stamps %v", tc.name, chunk, stamps)
				files := series(t, path)
				joined := bytes.Join(files, nil)
				got := joined
				if stamps {
					got = unstamp(joined)
				}
				if string(got) != all {
					t.Fatalf("%s: the files joined are not the output (%d bytes, want %d)", where, len(got), len(all))
				}
				if stamps {
					if n, want := len(stampRE.FindAll(joined, -1)), strings.Count(all, "\n")+1; n != want && !(n == want-1 && strings.HasSuffix(all, "\n")) {
						t.Errorf("%s: %d stamps for %d lines", where, n, want)
					}
				}
				// Where each file ends inside a line, that line is long.
				off := 0
				for i, f := range files {
					if len(f) >= 2*maxSize {
						t.Errorf("%s: file %d of %d holds %d bytes", where, i, len(files), len(f))
					}
					off += len(f)
					if i == len(files)-1 || len(f) == 0 || f[len(f)-1] == '\n' {
						continue
					}
					start := bytes.LastIndexByte(joined[:off], '\n') + 1
					end := bytes.IndexByte(joined[off:], '\n')
					if end < 0 {
						end = len(joined) - off
					}
					if n := off + end - start; n < maxSize {
						t.Errorf("%s: a line of %d bytes is split after file %d", where, n, i)
					}
				}
			}
		}
	}
}

// TestRotationInsideLineWaitsForReaders: a reader holding the folder's
// rotation lock delays a rotation inside a line, it never stops the writer;
// the rotation comes once the lock is let go.
func TestRotationInsideLineWaitsForReaders(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.out")
	w, err := Open(path, Options{MaxSize: 1000, Keep: 100})
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := LockDir(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte{'.'}, 100)
	for range 50 {
		w.Write(chunk)
	}
	if n := len(Series(path)); n != 1 {
		t.Errorf("%d files while a reader held the lock", n)
	}
	unlock()
	for range 50 {
		w.Write(chunk)
	}
	w.Close()
	files := series(t, path)
	if len(files) < 3 {
		t.Errorf("%d files after the lock was let go", len(files))
	}
	if n := len(bytes.Join(files, nil)); n != 10000 {
		t.Errorf("%d bytes in the files, want 10000", n)
	}
}

// TestRotationAfterTruncation: after the file is emptied by hand, the next
// rotation comes when the file really reaches MaxSize, not when the writer's
// stale count says so.
func TestRotationAfterTruncation(t *testing.T) {
	for _, line := range []string{strings.Repeat("x", 99) + "\n", strings.Repeat("-", 100)} {
		path := filepath.Join(t.TempDir(), "x.out")
		w, err := Open(path, Options{MaxSize: 1000, Keep: 3})
		if err != nil {
			t.Fatal(err)
		}
		write := func(n int) {
			for range n {
				w.Write([]byte(line))
			}
		}
		write(9)
		if err := os.Truncate(path, 0); err != nil {
			t.Fatal(err)
		}
		write(5)
		if _, err := os.Stat(path + ".1"); err == nil {
			t.Fatalf("%q: rotated at 500 bytes after the truncation", line[99:])
		}
		write(7)
		w.Close()
		if _, err := os.Stat(path + ".1"); err != nil {
			t.Errorf("%q: not rotated at 1200 bytes after the truncation", line[99:])
		}
	}
}

// TestOpenRefusesSpecialFiles: a symbolic link, a FIFO, a device or a folder
// at a log path is neither written through nor read, and nothing blocks.
func TestOpenRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("secret\n"), 0o600)
	paths := map[string]func(string) error{
		"link to a file":       func(p string) error { return os.Symlink(target, p) },
		"link to /dev/urandom": func(p string) error { return os.Symlink("/dev/urandom", p) },
		"dangling link":        func(p string) error { return os.Symlink(filepath.Join(dir, "nothing"), p) },
		"FIFO":                 func(p string) error { return syscall.Mkfifo(p, 0o600) },
		"folder":               func(p string) error { return os.Mkdir(p, 0o700) },
	}
	for name, make := range paths {
		p := filepath.Join(dir, strings.NewReplacer(" ", "_", "/", "_").Replace(name)+".out")
		if err := make(p); err != nil {
			t.Fatal(err)
		}
		if w, err := Open(p, Options{}); !errors.Is(err, ErrNotRegular) {
			t.Errorf("%s: Open = %v, want ErrNotRegular", name, err)
			if err == nil {
				w.Close()
			}
		}
		if f, err := OpenRead(p); !errors.Is(err, ErrNotRegular) {
			t.Errorf("%s: OpenRead = %v, want ErrNotRegular", name, err)
			if err == nil {
				f.Close()
			}
		}
		if _, err := Tail(p, 10); !errors.Is(err, ErrNotRegular) {
			t.Errorf("%s: Tail = %v, want ErrNotRegular", name, err)
		}
	}
	if b, _ := os.ReadFile(target); string(b) != "secret\n" {
		t.Errorf("the link's target was written: %q", b)
	}
	if _, err := OpenRead(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenRead of a missing file = %v, want ErrNotExist", err)
	}
}

// BenchmarkWriteRotating is BenchmarkWrite with a rotation every 1 MiB.
func BenchmarkWriteRotating(b *testing.B) {
	path := filepath.Join(b.TempDir(), "x.out")
	w, _ := Open(path, Options{Stamps: true, MaxSize: 1 << 20, Keep: 2})
	chunk := bytes.Repeat([]byte(strings.Repeat("x", 99)+"\n"), 2600)
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		w.Write(chunk)
	}
	w.Close()
}

// BenchmarkWriteNoNewline writes output without newlines, rotated every 1 MiB.
func BenchmarkWriteNoNewline(b *testing.B) {
	path := filepath.Join(b.TempDir(), "x.out")
	w, _ := Open(path, Options{Stamps: true, MaxSize: 1 << 20, Keep: 2})
	chunk := bytes.Repeat([]byte("\rprogress 1234"), 20000)
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		w.Write(chunk)
	}
	w.Close()
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) Close() error                { return nil }

// BenchmarkWriteCPU is the writer's own work (stamps, the search for lines,
// the rotation checks), the file left out: writes go nowhere.
func BenchmarkWriteCPU(b *testing.B) {
	w, _ := Open(filepath.Join(b.TempDir(), "x.out"), Options{Stamps: true, MaxSize: 1 << 40, Keep: 1})
	w.open = func(string) (io.WriteCloser, int64, error) { return discard{}, 0, nil }
	w.reopen()
	chunk := bytes.Repeat([]byte(strings.Repeat("x", 99)+"\n"), 2600)
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		w.Write(chunk)
	}
}
