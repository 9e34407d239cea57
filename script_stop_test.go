package tpm_test

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"github.com/rogpeppe/go-internal/testscript"
)

func init() {
	scriptCmds["strangergroup"] = cmdStrangerGroup
}

// strangergroup VAR starts a process group tpm did not start: a shell in a
// session of its own with two sleeps, as a daemon's workers would be. VAR
// is set to the shell's PID (the group's ID); the group is killed when the
// script ends.
func cmdStrangerGroup(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: strangergroup VAR")
	}
	cmd := exec.Command("sh", "-c", "sleep 1001 & sleep 1001 & wait")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	ts.Check(cmd.Start())
	ts.Defer(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	ts.Setenv(args[0], strconv.Itoa(cmd.Process.Pid))
}

func init() {
	scriptCmds["checkseq"] = cmdCheckseq
}

// checkseq LOG MIN checks that a log (LOG and its rotated files, oldest
// first) holds the lines "n 0", "n 1", ... each once, in order, with no
// gap, at least up to "n MIN", and nothing else but tpm's own notes.
func cmdCheckseq(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: checkseq LOG MIN")
	}
	path := ts.MkAbs(args[0])
	min := atoi(ts, args[1])
	files := series(path)
	next := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		ts.Check(err)
		for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
			if l == "" {
				continue
			}
			if !stampRE.MatchString(l) {
				ts.Fatalf("%s: line %q has no stamp", f, l)
			}
			body := l[20:]
			if strings.HasPrefix(body, "tpm: ") {
				continue
			}
			if body != "n "+strconv.Itoa(next) {
				ts.Fatalf("%s: want line %q, got %q", f, "n "+strconv.Itoa(next), body)
			}
			next++
		}
	}
	if next <= min {
		ts.Fatalf("%d lines, want more than %d", next, min)
	}
}
