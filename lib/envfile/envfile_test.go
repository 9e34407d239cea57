package envfile

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func TestSnapshotRoundTrip(t *testing.T) {
	env := []string{"PATH=/usr/bin:/bin", "MSG=it's a \"test\" $(id)", "MULTI=line1\nline2", "EMPTY=", "BASH_FUNC_f%%=() {  echo hi\n}", "EQ=a=b"}
	got, err := Parse(Format(env))
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(env)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("round trip:\n got %q\nwant %q", got, want)
	}
}

func TestSnapshotSourcesInSh(t *testing.T) {
	env := []string{"MSG=it's $(touch pwned)", "MULTI=a\nb"}
	out, err := exec.Command("sh", "-c", `set -a; eval "$1"; printf '%s|%s' "$MSG" "$MULTI"`, "sh", string(Format(env))).Output()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "it's $(touch pwned)|a\nb" {
		t.Errorf("sh read %q", out)
	}
}

func TestDotenv(t *testing.T) {
	in := `# comment
export A=1
B = two words   # trailing comment
C='single $x # not a comment'
D="double\nline \"q\""
E="spans
two lines"
F=
G=a#b
`
	got, err := Dotenv([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"A=1", "B=two words", "C=single $x # not a comment", "D=double\nline \"q\"", "E=spans\ntwo lines", "F=", "G=a#b"}
	if !slices.Equal(got, want) {
		t.Errorf("Dotenv:\n got %q\nwant %q", got, want)
	}
	for _, bad := range []string{"NOEQUALS\n", "1X=2\n", "A=\"open\n"} {
		if _, err := Dotenv([]byte(bad)); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("Dotenv(%q) error = %v, want one naming line 1", bad, err)
		}
	}
}

func TestSetMerge(t *testing.T) {
	env := Merge([]string{"A=1", "B=2", "A=3"}, "A=4", "C=5")
	if v, _ := Get(env, "A"); v != "4" || len(env) != 3 {
		t.Errorf("Merge = %q", env)
	}
}

// exec cannot carry a NUL byte: a dotenv file or snapshot with one is
// refused by its line, wherever the byte sits.
func TestNUL(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		line       int
	}{
		{"in a value", "A=1\n# two\nB=x\x00y\n", 3},
		{"in a name", "A\x00B=1\n", 1},
		{"inside a quoted value over lines", "A=\"one\ntwo\x00\"\n", 2},
		{"in a comment", "A=1\n#\x00\n", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := fmt.Sprintf("line %d: holds a NUL byte", tc.line)
			if _, err := Dotenv([]byte(tc.data)); err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Dotenv: %v, want %q", err, want)
			}
			if _, err := Parse([]byte(tc.data)); err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Parse: %v, want %q", err, want)
			}
		})
	}
}

func TestReadOnlyRegularFiles(t *testing.T) {
	dir := t.TempDir()
	at := func(n string) string { return filepath.Join(dir, n) }
	write := func(n, data string) {
		if err := os.WriteFile(at(n), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("ok.env", "A=1\n")
	write("snap.env", string(Format([]string{"A=1"})))
	if err := os.Symlink("ok.env", at("link.env")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(at("fifo.env"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("fifo.env", at("fifolink.env")); err != nil {
		t.Fatal(err)
	}
	write("big.env", strings.Repeat("K=0123456789\n", MaxDotenv/13+1))

	var odd *NotRegularError
	// A snapshot: a regular file of the tree, never through a link.
	if env, err := Read(at("snap.env")); err != nil || !slices.Equal(env, []string{"A=1"}) {
		t.Errorf("Read of a snapshot: %q, %v", env, err)
	}
	for _, n := range []string{"link.env", "fifo.env", ""} {
		if _, err := Read(at(n)); !errors.As(err, &odd) {
			t.Errorf("Read(%s): %v, want a NotRegularError", n, err)
		}
	}
	// A dotenv file: links followed; a named FIFO (nobody writes it), a
	// folder, a device refused at once; a pipe through a link read; a file
	// over the bound refused.
	if env, err := ReadDotenv(at("link.env")); err != nil || !slices.Equal(env, []string{"A=1"}) {
		t.Errorf("ReadDotenv through a link: %q, %v", env, err)
	}
	for _, p := range []string{at("fifo.env"), dir, "/dev/zero"} {
		if _, err := ReadDotenv(p); !errors.As(err, &odd) {
			t.Errorf("ReadDotenv(%s): %v, want a NotRegularError", p, err)
		}
	}
	if _, err := ReadDotenv(at("big.env")); err == nil || !strings.HasSuffix(err.Error(), "larger than 1 MiB") {
		t.Errorf("ReadDotenv of a big file: %v", err)
	}
	if _, err := ReadDotenv(at("missing.env")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadDotenv of a missing file: %v", err)
	}
	// A link to a FIFO is read as a pipe: nobody writes it, and the read
	// ends at once rather than waiting for a writer.
	if env, err := ReadDotenv(at("fifolink.env")); err != nil || len(env) != 0 {
		t.Errorf("ReadDotenv of a link to an idle FIFO: %q, %v", env, err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() { w.WriteString("FROM=pipe\n"); w.Close() }()
	if env, err := ReadDotenv(fmt.Sprintf("/dev/fd/%d", r.Fd())); err != nil || !slices.Equal(env, []string{"FROM=pipe"}) {
		t.Errorf("ReadDotenv of a pipe: %q, %v", env, err)
	}
}
