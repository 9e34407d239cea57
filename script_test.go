// The testscript harness: every behaviour a user relies on is a script in
// testdata/scripts that runs the real binaries against a real $WORK/tetra
// tree and real processes.
//
// The binaries are registered with testscript.Main, so the tests need no
// build step. Setup makes TETRA_DIR and HOME live under $WORK and registers a
// cleanup that kills whatever a script left running (and fails the script
// for it). Nothing waits with sleep: waitfor polls a condition until a
// deadline.
package tpm_test

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/cmd/cleancmd"
	"github.com/tetra-toolkit/tpm/lib/cmd/ecocmd"
	"github.com/tetra-toolkit/tpm/lib/cmd/logcmd"
	"github.com/tetra-toolkit/tpm/lib/cmd/lscmd"
	"github.com/tetra-toolkit/tpm/lib/cmd/metacmd"
	"github.com/tetra-toolkit/tpm/lib/cmd/startcmd"
	"github.com/tetra-toolkit/tpm/lib/cmd/stopcmd"
	"github.com/tetra-toolkit/tpm/lib/cmd/upgradecmd"
	"github.com/tetra-toolkit/tpm/lib/proc"
	"github.com/tetra-toolkit/tpm/lib/state"
	"github.com/tetra-toolkit/tpm/lib/supervise"
)

var update = flag.Bool("u", false, "update testscript files in place")

// commands are the binaries, as the test binary runs them.
var commands = map[string]func(){
	"tpm-meta":      func() { os.Exit(metacmd.Main(cli.Std("tpm-meta"))) },
	"tpm-ls":        func() { os.Exit(lscmd.Main(cli.Std("tpm-ls"))) },
	"tpm-start":     func() { os.Exit(startcmd.Main(cli.Std("tpm-start"))) },
	"tpm-stop":      func() { os.Exit(stopcmd.Main(cli.Std("tpm-stop"))) },
	"tpm-log":       func() { os.Exit(logcmd.Main(cli.Std("tpm-log"))) },
	"tpm-clean":     func() { os.Exit(cleancmd.Main(cli.Std("tpm-clean"))) },
	"tpm-ecosystem": func() { os.Exit(ecocmd.Main(cli.Std("tpm-ecosystem"))) },
	"tpm-supervise": func() { os.Exit(supervise.Main()) },
	"tpm-upgrade":   func() { os.Exit(upgradecmd.Main(cli.Std("tpm-upgrade"))) },
	"tpm-restart":   func() { os.Exit(startcmd.RestartMain(cli.Std("tpm-restart"))) },
	"tpm-reload":    func() { os.Exit(startcmd.ReloadMain(cli.Std("tpm-reload"))) },
	// A program for the tests: numbered 100-byte lines as fast as it can.
	"linewriter": linewriter,
}

// scriptCmds are the scripts' own commands. Files of this package that add
// one register it in an init function.
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"waitfor":    cmdWaitfor,
	"httpget":    cmdHttpget,
	"alive":      cmdAlive,
	"metavar":    cmdMetavar,
	"stranger":   cmdStranger,
	"expand":     cmdExpand,
	"exits":      cmdExits,
	"now":        cmdNow,
	"procs":      cmdProcs,
	"unstamp":    cmdUnstamp,
	"checklines": cmdChecklines,
}

// goEnv is the go command's cache and module settings of the test's own
// environment, or nothing when go is not on PATH.
var goEnv = sync.OnceValue(func() map[string]string {
	out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOPATH", "GOPROXY", "GOFLAGS").Output()
	if err != nil {
		return nil
	}
	vals := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	env := map[string]string{}
	for i, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOPROXY", "GOFLAGS"} {
		if i < len(vals) {
			env[k] = vals[i]
		}
	}
	return env
})

func TestMain(m *testing.M) {
	testscript.Main(m, commands)
}

func TestScripts(t *testing.T) {
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/scripts",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       *update,
		Setup: func(e *testscript.Env) error {
			tetra := filepath.Join(e.WorkDir, "tetra")
			home := filepath.Join(e.WorkDir, "home")
			if err := os.MkdirAll(home, 0o700); err != nil {
				return err
			}
			e.Setenv("TETRA_DIR", tetra)
			e.Setenv("HOME", home)
			e.Setenv("TPM_SH", filepath.Join(root, "shell", "tetra_tpm.sh"))
			// The repository, and the go command's caches, for scripts that
			// build a binary of their own (HOME is the script's).
			e.Setenv("TPM_ROOT", root)
			for k, v := range goEnv() {
				e.Setenv(k, v)
			}
			e.Setenv("NO_COLOR", "")
			e.Setenv("TPM_TERMINAL", "")
			e.Defer(func() { reap(e, tetra) })
			return nil
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "root":
				return os.Geteuid() == 0, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: scriptCmds,
	})
}

// reap kills every process that runs with this script's TETRA_DIR in its
// environment (supervisors and programs), and every process group they lead.
// A script is expected to stop what it starts: a leftover fails it.
func reap(e *testscript.Env, tetra string) {
	// A supervisor that has recorded its program's end is on its way out:
	// it gets a moment to finish before it counts as left behind.
	deadline := time.Now().Add(exitGrace)
	for len(ours(tetra)) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	var left []string
	for range 3 {
		found := ours(tetra)
		for _, in := range found {
			left = append(left, fmt.Sprintf("%d (%s)", in.pid, in.cmdline))
			syscall.Kill(in.pid, syscall.SIGKILL)
			if in.pgid == in.pid {
				syscall.Kill(-in.pid, syscall.SIGKILL)
			}
		}
		if len(found) == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond) // let the killed be reaped before looking again
	}
	if len(left) > 0 {
		e.T().Log("processes left running by the script (killed): " + strings.Join(left, "; "))
		e.T().FailNow()
	}
}

// exitGrace is how long processes of a script that are ending by
// themselves get before they count as left running.
const exitGrace = time.Second

type live struct {
	pid, pgid int
	cmdline   string
}

// ours lists the live processes that run with TETRA_DIR=tetra in their
// environment: the supervisors and programs of one script.
func ours(tetra string) []live {
	marker := []byte("TETRA_DIR=" + tetra + "\x00")
	all, _ := proc.All()
	var out []live
	for _, in := range all {
		if in.PID == os.Getpid() || in.Zombie {
			continue
		}
		env, err := os.ReadFile("/proc/" + strconv.Itoa(in.PID) + "/environ")
		if err != nil || !bytes.Contains(env, marker) {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(in.PID) + "/cmdline")
		out = append(out, live{in.PID, in.PGID, strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))})
	}
	return out
}

// procs [-wait] N REGEXP checks that exactly N live processes of this script
// have a command line matching REGEXP. With -wait it polls until the count
// is right or the deadline passes (a process takes a moment to die after a
// kill); without, the count must be right at once (tpm-stop returns only
// when everything it stopped is gone).
func cmdProcs(ts *testscript.TestScript, neg bool, args []string) {
	wait := len(args) > 0 && args[0] == "-wait"
	if wait {
		args = args[1:]
	}
	if neg || len(args) != 2 {
		ts.Fatalf("usage: procs [-wait] N REGEXP")
	}
	want := atoi(ts, args[0])
	re := regexp.MustCompile(args[1])
	deadline := time.Now()
	if wait {
		deadline = deadline.Add(defaultWait)
	}
	for {
		var match []string
		for _, in := range ours(ts.Getenv("TETRA_DIR")) {
			if re.MatchString(in.cmdline) {
				match = append(match, fmt.Sprintf("%d (%s)", in.pid, in.cmdline))
			}
		}
		if len(match) == want {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%d processes match %q, want %d: %s", len(match), args[1], want, strings.Join(match, "; "))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

const defaultWait = 20 * time.Second

// waitfor [-t DURATION] KIND ARGS... polls until a condition holds or the
// deadline passes:
//
//	waitfor file PATH [REGEXP]      the file exists (and its content matches);
//	                                PATH may be a glob that matches one file
//	waitfor status NAME STATUS      tpm's derived status of NAME is STATUS
//	waitfor gone PID                the process has ended
//	waitfor port PORT               something accepts TCP connections on PORT
//	waitfor free PORT               nothing listens on PORT
//	waitfor group PGID N            N live processes are in group PGID
func cmdWaitfor(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("usage: waitfor does not support !")
	}
	timeout := defaultWait
	if len(args) >= 2 && args[0] == "-t" {
		d, err := time.ParseDuration(args[1])
		ts.Check(err)
		timeout, args = d, args[2:]
	}
	if len(args) < 2 {
		ts.Fatalf("usage: waitfor [-t D] file PATH [REGEXP] | status NAME STATUS | gone PID | port PORT | free PORT")
	}
	var cond func() (bool, string)
	switch args[0] {
	case "file":
		var re *regexp.Regexp
		if len(args) > 2 {
			re = regexp.MustCompile(args[2])
		}
		path := ts.MkAbs(args[1])
		cond = func() (bool, string) {
			path := path
			if strings.ContainsAny(path, "*?[") {
				m, _ := filepath.Glob(path)
				if len(m) != 1 {
					return false, fmt.Sprintf("%d files match", len(m))
				}
				path = m[0]
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return false, err.Error()
			}
			if re != nil && !re.Match(data) {
				return false, fmt.Sprintf("%s holds %q", path, tail(data))
			}
			return true, ""
		}
	case "status":
		if len(args) != 3 {
			ts.Fatalf("usage: waitfor status NAME STATUS")
		}
		cond = func() (bool, string) {
			s := statusOf(ts, args[1])
			return s == args[2], "status " + s
		}
	case "gone":
		pid := atoi(ts, args[1])
		cond = func() (bool, string) {
			in, err := proc.Stat(pid)
			return err != nil || in.Zombie, "still running"
		}
	case "port":
		cond = func() (bool, string) {
			c, err := net.DialTimeout("tcp", "127.0.0.1:"+args[1], time.Second)
			if err != nil {
				return false, err.Error()
			}
			c.Close()
			return true, ""
		}
	case "free":
		cond = func() (bool, string) {
			l, err := net.Listen("tcp", ":"+args[1])
			if err != nil {
				return false, err.Error()
			}
			l.Close()
			return true, ""
		}
	case "group":
		if len(args) != 3 {
			ts.Fatalf("usage: waitfor group PGID N")
		}
		pgid, n := atoi(ts, args[1]), atoi(ts, args[2])
		cond = func() (bool, string) {
			all, _ := proc.All()
			got := 0
			for _, in := range all {
				if in.PGID == pgid && !in.Zombie {
					got++
				}
			}
			return got == n, fmt.Sprintf("%d in the group", got)
		}
	default:
		ts.Fatalf("waitfor: unknown condition %q", args[0])
	}
	deadline := time.Now().Add(timeout)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waitfor %s: not true after %v: %s", strings.Join(args, " "), timeout, why)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func tail(b []byte) string {
	if len(b) > 300 {
		b = b[len(b)-300:]
	}
	return string(b)
}

func atoi(ts *testscript.TestScript, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		ts.Fatalf("not a number: %q", s)
	}
	return n
}

func tree(ts *testscript.TestScript) *state.Tree {
	return &state.Tree{Root: filepath.Join(ts.Getenv("TETRA_DIR"), "tpm")}
}

func statusOf(ts *testscript.TestScript, name string) string {
	r, err := tree(ts).Load(name)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return r.Status
}

// httpget URL prints the body of a GET on stdout; a status other than 200
// fails.
func cmdHttpget(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: httpget URL")
	}
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(args[0])
	if err != nil {
		if neg {
			return
		}
		ts.Fatalf("httpget: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if (resp.StatusCode == 200) == neg {
		ts.Fatalf("httpget %s: %s", args[0], resp.Status)
	}
	ts.Stdout().Write(body)
}

// alive PID succeeds when the process runs (and is not a zombie).
func cmdAlive(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: alive PID")
	}
	in, err := proc.Stat(atoi(ts, args[0]))
	alive := err == nil && !in.Zombie
	if alive == neg {
		ts.Fatalf("process %s alive: %v", args[0], alive)
	}
}

// metavar VAR NAME KEY sets the environment variable VAR to the field KEY of
// NAME's meta line.
func cmdMetavar(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: metavar VAR NAME KEY")
	}
	m, err := tree(ts).ReadMeta(args[1])
	ts.Check(err)
	v, ok := m.Get(args[2])
	if !ok {
		ts.Fatalf("%s has no field %s", args[1], args[2])
	}
	ts.Setenv(args[0], v)
}

// stranger VAR starts a process that tpm did not start (a sleep in its own
// session), sets VAR to its PID, and kills it when the script ends.
func cmdStranger(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: stranger VAR")
	}
	cmd := exec.Command("sleep", "600")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	ts.Check(cmd.Start())
	ts.Defer(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	ts.Setenv(args[0], strconv.Itoa(cmd.Process.Pid))
}

// expand SRC DST copies SRC to DST with $VAR and ${VAR} replaced by the
// script's environment.
func cmdExpand(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: expand SRC DST")
	}
	data := ts.ReadFile(args[0])
	out := os.Expand(data, ts.Getenv)
	ts.Check(os.MkdirAll(filepath.Dir(ts.MkAbs(args[1])), 0o700))
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(out), 0o600))
}

// exits CODE PROGRAM ARGS... runs the program like exec and checks that it
// exits with exactly CODE: the exit codes of SPEC §10 are part of the contract.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROGRAM [ARGS...]")
	}
	want := atoi(ts, args[0])
	err := ts.Exec(args[1], args[2:]...)
	got := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

// now VAR sets VAR to the current Unix time in seconds.
func cmdNow(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: now VAR")
	}
	ts.Setenv(args[0], strconv.FormatInt(time.Now().Unix(), 10))
}

// linewriter [-e] N [PAUSE] writes N numbered lines of 100 bytes ("i xxx...")
// to stdout (stderr with -e) as fast as it can; with PAUSE it then sleeps
// that long before it exits.
func linewriter() {
	args := os.Args[1:]
	out := os.Stdout
	if len(args) > 0 && args[0] == "-e" {
		out, args = os.Stderr, args[1:]
	}
	n, _ := strconv.Atoi(args[0])
	w := bufio.NewWriterSize(out, 64<<10)
	pad := strings.Repeat("x", 98)
	for i := range n {
		s := strconv.Itoa(i) + " "
		w.WriteString(s)
		w.WriteString(pad[:99-len(s)])
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		os.Exit(1)
	}
	if len(args) > 1 {
		if d, err := time.ParseDuration(args[1]); err == nil {
			time.Sleep(d)
		}
	}
}

var stampRE = regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d `)

// unstamp SRC DST writes SRC without the time stamp at the start of each line.
func cmdUnstamp(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: unstamp SRC DST")
	}
	data, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), stampRE.ReplaceAll(data, nil), 0o600))
}

// series lists a log and its rotated files, oldest first: LOG.N ... LOG.1,
// LOG.
func series(path string) []string {
	files := []string{path}
	for i := 1; ; i++ {
		p := path + "." + strconv.Itoa(i)
		if _, err := os.Stat(p); err != nil {
			return files
		}
		files = append([]string{p}, files...)
	}
}

// checklines LOG N checks that a log stream (LOG, then its rotated files
// LOG.1, LOG.2, ... read oldest first) holds linewriter's lines 0..N-1, each
// once, in order, each stamped, no rotated file ending inside a line.
func cmdChecklines(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: checklines LOG N")
	}
	path := ts.MkAbs(args[0])
	want := atoi(ts, args[1])
	files := series(path)
	next := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		ts.Check(err)
		if len(data) > 0 && data[len(data)-1] != '\n' {
			ts.Fatalf("%s ends inside a line", f)
		}
		for _, l := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
			if len(l) == 0 && len(data) == 0 {
				continue
			}
			if !stampRE.Match(l) {
				ts.Fatalf("%s: line %q has no stamp", f, l)
			}
			body := l[20:]
			sp := bytes.IndexByte(body, ' ')
			if len(body) != 99 || sp < 0 || string(body[:sp]) != strconv.Itoa(next) {
				ts.Fatalf("%s: want line %d, got %q", f, next, body)
			}
			next++
		}
	}
	if next != want {
		ts.Fatalf("%d lines in %d files, want %d", next, len(files), want)
	}
}
