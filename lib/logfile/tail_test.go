package logfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestTailAt(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"a\nb\nc\n", 2, "b\nc\n"},
		{"a\nb\nc", 2, "b\nc"},
		{"a\nb\nc\n", 5, "a\nb\nc\n"},
		{"a\nb\nc\n", 3, "a\nb\nc\n"},
		{"", 3, ""},
		{"\n\n", 1, "\n"},
		{"only", 1, "only"},
	} {
		got, err := TailAt(strings.NewReader(tc.in), int64(len(tc.in)), tc.n)
		if err != nil || string(got) != tc.want {
			t.Errorf("TailAt(%q, %d) = %q, %v; want %q", tc.in, tc.n, got, err, tc.want)
		}
	}
}

func TestTailAcrossBlocks(t *testing.T) {
	var b bytes.Buffer
	for i := 0; i < 100000; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	got, err := TailAt(bytes.NewReader(b.Bytes()), int64(b.Len()), 20000)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
	if len(lines) != 20000 || lines[0] != "line 80000" || lines[19999] != "line 99999" {
		t.Errorf("got %d lines from %q to %q", len(lines), lines[0], lines[len(lines)-1])
	}
}

func TestTailSeries(t *testing.T) {
	dir := t.TempDir()
	p := dir + "/x.out"
	os.WriteFile(p+".2", []byte("1\n2\n3\n"), 0o600)
	os.WriteFile(p+".1", []byte("4\n5\n"), 0o600)
	os.WriteFile(p, []byte("6\n"), 0o600)
	for n, want := range map[int]string{1: "6\n", 2: "5\n6\n", 4: "3\n4\n5\n6\n", 10: "1\n2\n3\n4\n5\n6\n", 0: "1\n2\n3\n4\n5\n6\n"} {
		got, err := TailSeries(p, n)
		if err != nil || string(got) != want {
			t.Errorf("TailSeries(%d) = %q, %v; want %q", n, got, err, want)
		}
	}
}

func TestStamp(t *testing.T) {
	for line, ok := range map[string]bool{
		"2026-11-25 19:30:00 hello": true,
		"2026-11-25 19:30:00 ":      true,
		"2026-11-25T19:30:00 x":     false,
		"hello world, this is long": false,
		"2026-11-25 19:30:00":       false,
	} {
		if got := Stamp([]byte(line)) != nil; got != ok {
			t.Errorf("Stamp(%q) = %v", line, got)
		}
	}
}

// huge is a 1 GiB log made of 100-byte lines, generated on demand; it
// counts the bytes read from it.
type huge struct{ read int64 }

const hugeSize = 1 << 30

func (h *huge) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) && off+int64(n) < hugeSize {
		i := off + int64(n)
		if i%100 == 99 {
			p[n] = '\n'
		} else {
			p[n] = 'a' + byte(i/100%26)
		}
		n++
	}
	h.read += int64(n)
	return n, nil
}

// TestTailOfHugeLog pins that the last lines of a 1 GiB log are found by
// reading its end, not the whole file.
func TestTailOfHugeLog(t *testing.T) {
	h := &huge{}
	got, err := TailAt(h, hugeSize, 50)
	if err != nil {
		t.Fatal(err)
	}
	if n := CountLines(got); n != 50 {
		t.Fatalf("%d lines", n)
	}
	if h.read > 128<<10 {
		t.Errorf("read %d bytes of a 1 GiB log for 50 lines", h.read)
	}
}

// TestTailSeriesAcrossALineSplit: a rotation inside a long line leaves a
// rotated file that ends inside the line and a next file that goes on with
// it; the line is one line, read whole from the files it spans.
func TestTailSeriesAcrossALineSplit(t *testing.T) {
	dir := t.TempDir()
	p := dir + "/x.out"
	os.WriteFile(p+".3", []byte("1\n2\nlo"), 0o600)
	os.WriteFile(p+".2", []byte("ng li"), 0o600) // the line's middle only
	os.WriteFile(p+".1", []byte("ne\n3\nnext "), 0o600)
	os.WriteFile(p, []byte("line\n4\npart"), 0o600)
	all := "1\n2\nlong line\n3\nnext line\n4\npart"
	for n, want := range map[int]string{
		1:  "part",
		2:  "4\npart",
		3:  "next line\n4\npart",
		4:  "3\nnext line\n4\npart",
		5:  "long line\n3\nnext line\n4\npart",
		6:  "2\nlong line\n3\nnext line\n4\npart",
		7:  all,
		50: all,
		0:  all,
	} {
		got, err := TailSeries(p, n)
		if err != nil || string(got) != want {
			t.Errorf("TailSeries(%d) = %q, %v; want %q", n, got, err, want)
		}
	}
}

// TestTailSeriesSkipsSpecialFiles: a FIFO or a link in the series is left
// out (and reported), never read; the files on either side of it do not join.
func TestTailSeriesSkipsSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	p := dir + "/x.out"
	os.WriteFile(p+".3", []byte("1\nhalf"), 0o600)
	os.Symlink("/dev/urandom", p+".2")
	os.WriteFile(p+".1", []byte("2\n"), 0o600)
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	var skipped []string
	got, err := TailStream(p, nil, 0, 0, func(err error) {
		if !errors.Is(err, ErrNotRegular) {
			t.Errorf("skipped for %v", err)
		}
		skipped = append(skipped, err.Error())
	})
	if want := "1\nhalf\n2\n"; err != nil || string(got) != want {
		t.Errorf("TailStream = %q, %v; want %q", got, err, want)
	}
	if len(skipped) != 2 {
		t.Errorf("skipped %q, want the FIFO and the link", skipped)
	}
}
