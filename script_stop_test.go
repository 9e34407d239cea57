package tpm_test

import (
	"os/exec"
	"strconv"
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
