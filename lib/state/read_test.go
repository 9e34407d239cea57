package state

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tetra-toolkit/tpm/lib/exit"
)

// within fails the test when fn does not return in time: the point of the
// helper is that nothing blocks.
func within(t *testing.T, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { fn(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("blocked")
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	put := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	link := func(name, target string) string {
		p := filepath.Join(dir, name)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fifo := func(name string) string {
		p := filepath.Join(dir, name)
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	line := []byte("script=/srv/a.sh pid=1 port=0 start_time=1 type=cli\n")
	big := bytes.Repeat([]byte("x"), 300_000) // more than the first buffer, less than the bound
	for _, tc := range []struct {
		name  string
		path  string
		limit int
		want  []byte
		err   error  // errors.Is
		msg   string // in the message
	}{
		{"a regular file is read whole", put("a.meta", line), MaxMeta, line, nil, ""},
		{"an empty file is empty", put("empty.meta", nil), MaxMeta, []byte{}, nil, ""},
		{"a file larger than the first buffer is read whole", put("big.env", big), MaxEnv, big, nil, ""},
		{"a file of exactly the bound is read", put("ten.pid", []byte("0123456789")), 10, []byte("0123456789"), nil, ""},
		{"one byte over the bound is too large", put("eleven.pid", []byte("0123456789\n")), 10, nil, ErrTooLarge, "too large: over 10 bytes"},
		{"a missing file is ErrNotExist", filepath.Join(dir, "missing.meta"), MaxMeta, nil, fs.ErrNotExist, ""},
		{"a FIFO with no writer is refused, not waited on", fifo("fifo.meta"), MaxMeta, nil, ErrNotRegular, "not a regular file (a FIFO)"},
		{"a link to a regular file is not followed", link("link.meta", filepath.Join(dir, "a.meta")), MaxMeta, nil, ErrNotRegular, "(a symbolic link)"},
		{"a link to /dev/urandom is not read", link("rand.meta", "/dev/urandom"), MaxMeta, nil, ErrNotRegular, "(a symbolic link)"},
		{"a dangling link is refused", link("dangling.meta", filepath.Join(dir, "nowhere")), MaxMeta, nil, ErrNotRegular, "(a symbolic link)"},
		{"a device is refused", "/dev/null", MaxMeta, nil, ErrNotRegular, "(a device)"},
		{"a folder is refused", dir, MaxMeta, nil, ErrNotRegular, "(a folder)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []byte
			var err error
			within(t, func() { got, err = ReadFile(tc.path, tc.limit) })
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				if !strings.Contains(err.Error(), tc.path) || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("err = %q, want the path and %q", err, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("got %d bytes, want %d", len(got), len(tc.want))
			}
		})
	}
}

func TestReadFileFIFOWithWriter(t *testing.T) {
	// A writer that holds the FIFO open and writes a plausible meta line:
	// still refused, the type is checked, not the content.
	p := filepath.Join(t.TempDir(), "x.meta")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := os.OpenFile(p, os.O_RDWR, 0) // keeps the FIFO open without blocking
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.Write([]byte("script=/x pid=1 port=0 start_time=1 type=cli\n"))
	within(t, func() {
		if _, err := ReadFile(p, MaxMeta); !errors.Is(err, ErrNotRegular) {
			t.Errorf("err = %v, want ErrNotRegular", err)
		}
	})
}

func TestOpenFile(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, []byte("keep\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	appendFlags := os.O_WRONLY | os.O_APPEND | os.O_CREATE

	t.Run("creates and appends to a regular file, in blocking mode", func(t *testing.T) {
		p := filepath.Join(dir, "a.out")
		f, err := OpenFile(p, appendFlags, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		fl, err := unix.FcntlInt(f.Fd(), unix.F_GETFL, 0)
		if err != nil || fl&unix.O_NONBLOCK != 0 {
			t.Fatalf("flags %#x, err %v: want blocking", fl, err)
		}
		fd, err := unix.FcntlInt(f.Fd(), unix.F_GETFD, 0)
		if err != nil || fd&unix.FD_CLOEXEC == 0 {
			t.Fatalf("fd flags %#x, err %v: want close-on-exec", fd, err)
		}
		if _, err := f.WriteString("line\n"); err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v, want 0600", fi.Mode())
		}
	})
	t.Run("never writes through a link", func(t *testing.T) {
		p := filepath.Join(dir, "link.out")
		os.Symlink(target, p)
		if _, err := OpenFile(p, appendFlags, 0o600); !errors.Is(err, ErrNotRegular) {
			t.Fatalf("err = %v, want ErrNotRegular", err)
		}
		if b, _ := os.ReadFile(target); string(b) != "keep\n" {
			t.Fatalf("target now holds %q", b)
		}
	})
	t.Run("never creates through a dangling link", func(t *testing.T) {
		p := filepath.Join(dir, "dangling.out")
		os.Symlink(filepath.Join(dir, "created"), p)
		if _, err := OpenFile(p, appendFlags, 0o600); !errors.Is(err, ErrNotRegular) {
			t.Fatalf("err = %v, want ErrNotRegular", err)
		}
		if _, err := os.Lstat(filepath.Join(dir, "created")); err == nil {
			t.Fatal("a file was created through the link")
		}
	})
	t.Run("a FIFO for writing fails at once", func(t *testing.T) {
		p := filepath.Join(dir, "fifo.out")
		syscall.Mkfifo(p, 0o600)
		within(t, func() {
			if _, err := OpenFile(p, appendFlags, 0o600); err == nil {
				t.Error("opened a FIFO")
			}
		})
	})
	t.Run("a FIFO for reading is refused", func(t *testing.T) {
		p := filepath.Join(dir, "fifo.in")
		syscall.Mkfifo(p, 0o600)
		within(t, func() {
			if _, err := OpenFile(p, os.O_RDONLY, 0); !errors.Is(err, ErrNotRegular) {
				t.Errorf("err = %v, want ErrNotRegular", err)
			}
		})
	})
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	t.Run("writes whole, 0600, and leaves no temporary file", func(t *testing.T) {
		p := filepath.Join(dir, "a.meta")
		if err := WriteFile(p, []byte("one\n")); err != nil {
			t.Fatal(err)
		}
		if err := WriteFile(p, []byte("two\n")); err != nil {
			t.Fatal(err)
		}
		b, err := ReadFile(p, MaxMeta)
		if err != nil || string(b) != "two\n" {
			t.Fatalf("read %q, %v", b, err)
		}
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v", fi.Mode())
		}
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if IsTemp(e.Name()) {
				t.Fatalf("temporary file left: %s", e.Name())
			}
		}
	})
	t.Run("replaces a link, never writes through it", func(t *testing.T) {
		target := filepath.Join(dir, "target")
		os.WriteFile(target, []byte("keep\n"), 0o600)
		p := filepath.Join(dir, "b.pid")
		os.Symlink(target, p)
		if err := WriteFile(p, []byte("42\n")); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(target); string(b) != "keep\n" {
			t.Fatalf("target now holds %q", b)
		}
		if b, err := ReadFile(p, MaxPid); err != nil || string(b) != "42\n" {
			t.Fatalf("read %q, %v", b, err)
		}
	})
	t.Run("refuses what its reader would refuse", func(t *testing.T) {
		p := filepath.Join(dir, "c.pid")
		err := WriteFile(p, bytes.Repeat([]byte("1"), MaxPid+1))
		if exit.Code(err) != exit.DataErr {
			t.Fatalf("err = %v (exit %d), want exit 65", err, exit.Code(err))
		}
		if _, err := os.Lstat(p); err == nil {
			t.Fatal("written anyway")
		}
	})
}

func TestReadMetaExitCodes(t *testing.T) {
	tr := &Tree{Root: t.TempDir()}
	os.MkdirAll(filepath.Join(tr.Root, ProcessesDir), 0o700)
	syscall.Mkfifo(tr.Meta("fifo"), 0o600)
	os.Symlink("/dev/urandom", tr.Meta("rand"))
	for _, tc := range []struct {
		name string
		want int
	}{
		{"missing", exit.NoInput},
		{"fifo", exit.DataErr},
		{"rand", exit.DataErr},
	} {
		within(t, func() {
			_, err := tr.ReadMeta(tc.name)
			if exit.Code(err) != tc.want {
				t.Errorf("%s: err = %v (exit %d), want exit %d", tc.name, err, exit.Code(err), tc.want)
			}
		})
	}
}
