package remote

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func TestParseHosts(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     []string
	}{
		{"empty means this machine", "", nil},
		{"only commas", " , ,", nil},
		{"two", "web1,web2", []string{"web1", "web2"}},
		{"blanks around items dropped", " web1 , web2 ", []string{"web1", "web2"}},
		{"repeats dropped, first place kept", "b,a,b", []string{"b", "a"}},
		{"user and local kept as given", "deploy@web1,local", []string{"deploy@web1", "local"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseHosts(c.in)
			if err != nil || !slices.Equal(got, c.want) {
				t.Fatalf("ParseHosts(%q) = %q, %v; want %q", c.in, got, err, c.want)
			}
		})
	}
	for _, bad := range []string{"-oProxyCommand=touch /tmp/x", "web1,-p", "a\tb", "a\x00b"} {
		if _, err := ParseHosts(bad); err == nil {
			t.Errorf("ParseHosts(%q): no error", bad)
		}
	}
}

func TestOnlyLocal(t *testing.T) {
	for _, c := range []struct {
		hosts []string
		want  bool
	}{
		{nil, true}, {[]string{"local"}, true}, {[]string{"local", "web1"}, false}, {[]string{"web1"}, false},
	} {
		if got := OnlyLocal(c.hosts); got != c.want {
			t.Errorf("OnlyLocal(%q) = %v", c.hosts, got)
		}
	}
}

func TestSSHCommand(t *testing.T) {
	own := []string{"-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=15", "-T"}
	for _, c := range []struct {
		name, env string
		want      []string
	}{
		{"unset: the system's ssh", "", append([]string{"ssh"}, own...)},
		{"split as a shell would, its options first so they win", `ssh -p 2222 -i "/keys/my key" -o 'UserKnownHostsFile=/k h'`,
			append([]string{"ssh", "-p", "2222", "-i", "/keys/my key", "-o", "UserKnownHostsFile=/k h"}, own...)},
		{"no expansion", `ssh -i $HOME/key`, append([]string{"ssh", "-i", "$HOME/key"}, own...)},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := SSHCommand(c.env)
			if err != nil || !slices.Equal(got, c.want) {
				t.Fatalf("SSHCommand(%q) = %q, %v; want %q", c.env, got, err, c.want)
			}
		})
	}
	if _, err := SSHCommand(`ssh -i 'unterminated`); err == nil {
		t.Error("an unterminated quote: no error")
	}
}

// TestCommandLineShells runs the remote command line under each shell a
// remote user may have: every argument must come back as it was given,
// and nothing in it may run.
func TestCommandLineShells(t *testing.T) {
	args := []string{"plain", "api-*", "two words", "it's", `$(touch pwned)`, "`touch pwned`", "a\nb", "~", "=ls",
		"x==y", "a:=b", `back\slash`, "!event", "{a,b}", "", "--host=h1", "semi;colon", "tab\there", "ünï"}
	argv := append([]string{"printf", `%s\0`}, args...)
	line := CommandLine([]string{"TPM_HOSTS=", "X=a b"}, argv)
	for _, sh := range []string{"sh", "bash", "zsh", "dash"} {
		path, err := exec.LookPath(sh)
		if err != nil {
			continue
		}
		t.Run(sh, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(path, "-c", line)
			cmd.Dir = dir
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s -c %q: %v", sh, line, err)
			}
			got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
			if !slices.Equal(got, args) {
				t.Errorf("%s gave back %q\nwant %q", sh, got, args)
			}
			if _, err := os.Stat(dir + "/pwned"); err == nil {
				t.Errorf("%s ran a command from an argument", sh)
			}
		})
	}
	// The variables reach the command.
	out, err := exec.Command("sh", "-c", CommandLine([]string{"TPM_HOSTS=", "X=a b"}, []string{"sh", "-c", `printf '%s|%s' "${TPM_HOSTS-unset}" "$X"`})).Output()
	if err != nil || string(out) != "|a b" {
		t.Errorf("vars: %q, %v", out, err)
	}
}

// TestLineWriterWholeLines writes the lines of several sources at once, cut
// at odd places, and checks that each line comes out whole, never mixed
// with another source's, long lines (in pieces) included.
func TestLineWriterWholeLines(t *testing.T) {
	var lock sync.Mutex
	var out bytes.Buffer
	var cur *lineWriter // the writer whose line is being written
	const sources, lines = 4, 300
	ws := make([]*lineWriter, sources)
	for i := range ws {
		var w *lineWriter
		w = &lineWriter{lock: &lock, fail: func(err error) { t.Error(err) }, fn: func(first bool, data []byte) error {
			if first != (cur == nil) || !first && cur != w {
				t.Errorf("source %d: a piece (first=%v) inside another line", i, first)
			}
			out.Write(data)
			cur = w
			if data[len(data)-1] == '\n' {
				cur = nil
			}
			return nil
		}}
		ws[i] = w
	}
	want := map[string]int{}
	var wg sync.WaitGroup
	for i, w := range ws {
		var all bytes.Buffer
		for n := range lines {
			l := "src" + strconv.Itoa(i) + " line " + strconv.Itoa(n) + " "
			if n%50 == 7 {
				l += strings.Repeat("x", lineMax*2+123) // given in pieces
			}
			want[l]++
			all.WriteString(l + "\n")
		}
		all.WriteString("src" + strconv.Itoa(i) + " last without newline")
		want["src"+strconv.Itoa(i)+" last without newline"]++
		data := all.Bytes()
		wg.Go(func() {
			for k := 0; len(data) > 0; k++ {
				n := min(len(data), 1+(k*7919)%9000)
				w.Write(data[:n])
				data = data[n:]
			}
			w.end()
		})
	}
	wg.Wait()
	got := map[string]int{}
	for _, l := range strings.SplitAfter(out.String(), "\n") {
		if l == "" {
			continue
		}
		if !strings.HasSuffix(l, "\n") {
			t.Fatalf("output ends inside a line: %.60q", l)
		}
		got[strings.TrimSuffix(l, "\n")]++
	}
	if len(got) != len(want) {
		t.Fatalf("%d distinct lines, want %d", len(got), len(want))
	}
	for l, n := range want {
		if got[l] != n {
			t.Fatalf("line %.40q: %d times, want %d", l, got[l], n)
		}
	}
}

func TestSpool(t *testing.T) {
	for _, size := range []int{0, 10, spoolMem, spoolMem + 1, 3*spoolMem + 17} {
		var s Spool
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i * 31)
		}
		for p := data; len(p) > 0; {
			n := min(len(p), 100000)
			s.Write(p[:n])
			p = p[n:]
		}
		if (s.file != nil) != (size > spoolMem) {
			t.Errorf("%d bytes: in a file: %v", size, s.file != nil)
		}
		got, err := io.ReadAll(s.Reader())
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%d bytes: read back %d, %v", size, len(got), err)
		}
		s.Close()
	}
}

// TestRunLocal runs a command on "local" (this machine, no ssh) with the
// runner's variables, and one that fails, and checks what each job holds.
func TestRunLocal(t *testing.T) {
	r := &Runner{Vars: []string{"TPM_HOSTS=", "TPM_TEST_VAR=x y"}}
	jobs := r.Run(context.Background(), []string{Local}, []string{"sh", "-c", `printf '%s\n' "$TPM_TEST_VAR"; echo oops >&2; exit 3`})
	j := jobs[0]
	j.Wait()
	defer j.Close()
	if j.Status != 3 || j.Err != nil || string(j.Stdout.Bytes()) != "x y\n" || string(j.Stderr.Bytes()) != "oops\n" {
		t.Errorf("job: status %d, err %v, stdout %q, stderr %q", j.Status, j.Err, j.Stdout.Bytes(), j.Stderr.Bytes())
	}
	jobs = r.Run(context.Background(), []string{Local}, []string{"no-such-command-of-tpm"})
	jobs[0].Wait()
	if jobs[0].Err == nil || jobs[0].Status != -1 {
		t.Errorf("a missing command: status %d, err %v", jobs[0].Status, jobs[0].Err)
	}
}

// TestRunSSH runs through a stand-in for ssh that prints its arguments: the
// options come before the host, and the command line is one word.
func TestRunSSH(t *testing.T) {
	r := &Runner{SSH: []string{"sh", "-c", `printf '%s\n' "$@"`, "ssh", "-o", "BatchMode=yes"}, Vars: []string{"TPM_HOSTS="}}
	jobs := r.Run(context.Background(), []string{"web1", "web2"}, []string{"tpm-ls", "api-*"})
	for _, j := range jobs {
		j.Wait()
		want := "-o\nBatchMode=yes\n" + j.Host + "\nenv TPM_HOSTS= tpm-ls 'api-*'\n"
		if got := string(j.Stdout.Bytes()); got != want {
			t.Errorf("%s: ssh got\n%s\nwant\n%s", j.Host, got, want)
		}
		j.Close()
	}
}

// TestStreamEnds checks that Stream gives every line of every host and ends
// when they end, and that a callback's error ends the others at once.
func TestStreamEnds(t *testing.T) {
	r := &Runner{SSH: []string{"sh", "-c", `i=0; while [ $i -lt 100 ]; do echo "$0 $i"; i=$((i+1)); done`}}
	var n int
	_, err := r.Stream(context.Background(), []string{"a", "b", "c"}, []string{"x"}, func(p Piece) error {
		n++
		return nil
	})
	if err != nil || n != 300 {
		t.Fatalf("%d lines, %v; want 300", n, err)
	}
	// Hosts that would follow for ever end once the reader goes away.
	r = &Runner{SSH: []string{"sh", "-c", `echo "$0"; exec sleep 600`}}
	_, err = r.Stream(context.Background(), []string{"a", "b"}, []string{"x"}, func(p Piece) error {
		return io.ErrClosedPipe
	})
	if err != io.ErrClosedPipe {
		t.Fatalf("err %v, want the callback's", err)
	}
}
