// Script commands for the trust scripts (testdata/scripts/trust_*.txtar):
// running a command as another user, and with a deadline, so that a command
// that would hang on a FIFO fails its script instead of blocking the suite.
package tpm_test

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

func init() {
	scriptCmds["tryexec"] = cmdTryexec
	scriptCmds["publicdir"] = cmdPublicdir
}

// nobody is the other user of the scripts: uid and gid 65534.
const nobody = 65534

// scriptEnv lists the variables a command run by tryexec gets from the
// script (testscript keeps its environment to itself).
var scriptEnv = []string{"PATH", "HOME", "TMPDIR", "WORK", "TETRA_DIR", "NO_COLOR", "TPM_TERMINAL", "TPM_SH", "TPM_BIN", "PORT"}

// tryexec [-nobody] [-t DURATION] CODE PROGRAM [ARGS...] runs PROGRAM like
// exec and checks that it exits with exactly CODE, and that it exits at all:
// past DURATION (default 20s) its process group is killed and the script
// fails. Its stdout and stderr are there for the stdout and stderr commands.
//
// With -nobody it runs as user nobody (uid and gid 65534), in /, from a copy
// of the test binary that nobody can run (the test binary and testscript's
// PATH folder are private to the user running the tests).
func cmdTryexec(ts *testscript.TestScript, neg bool, args []string) {
	asNobody := false
	timeout := defaultWait
	for len(args) > 0 {
		switch args[0] {
		case "-nobody":
			asNobody, args = true, args[1:]
			continue
		case "-t":
			if len(args) < 2 {
				break
			}
			d, err := time.ParseDuration(args[1])
			ts.Check(err)
			timeout, args = d, args[2:]
			continue
		}
		break
	}
	if neg || len(args) < 2 {
		ts.Fatalf("usage: tryexec [-nobody] [-t DURATION] CODE PROGRAM [ARGS...]")
	}
	want := atoi(ts, args[0])
	prog, pargs := args[1], args[2:]
	var env []string
	for _, k := range scriptEnv {
		if v := ts.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var cmd *exec.Cmd
	if asNobody {
		if _, ok := commands[prog]; !ok {
			ts.Fatalf("tryexec -nobody runs only the registered commands, not %s", prog)
		}
		cmd = exec.CommandContext(ctx, filepath.Join(nobodyBin(ts), prog), pargs...)
		cmd.Dir = "/"
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	} else {
		path, err := exec.LookPath(prog)
		if p := lookPath(ts, prog); p != "" {
			path, err = p, nil
		}
		ts.Check(err)
		cmd = exec.CommandContext(ctx, path, pargs...)
		cmd.Args[0] = prog
		cmd.Dir = ts.MkAbs(".")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = ts.Stdout(), ts.Stderr()
	// Kill the whole group: a hung command's children must not outlive it.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		ts.Fatalf("%s did not exit within %v (killed)", prog, timeout)
	}
	got := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("%s: %v", prog, err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", prog, got, want)
	}
}

// lookPath finds prog on the script's PATH.
func lookPath(ts *testscript.TestScript, prog string) string {
	if filepath.IsAbs(prog) {
		return prog
	}
	for _, d := range filepath.SplitList(ts.Getenv("PATH")) {
		p := filepath.Join(d, prog)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// nobodyBin returns a folder that nobody can reach, holding every
// registered command as a link to (or copy of) the test binary, removed
// when the script ends.
func nobodyBin(ts *testscript.TestScript) string {
	if d := ts.Getenv("TRY_NOBODY_BIN"); d != "" {
		return d
	}
	exe, err := os.Executable()
	ts.Check(err)
	dir, err := os.MkdirTemp("", "tpm-nobody-")
	ts.Check(err)
	ts.Defer(func() { os.RemoveAll(dir) })
	ts.Check(os.Chmod(dir, 0o755))
	for name := range commands {
		dst := filepath.Join(dir, name)
		if os.Link(exe, dst) != nil {
			ts.Check(copyExe(exe, dst))
		}
		ts.Check(os.Chmod(dst, 0o755))
	}
	ts.Setenv("TRY_NOBODY_BIN", dir)
	return dir
}

func copyExe(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// publicdir VAR makes a folder that every user can reach (mode 0755, in the
// system's temporary folder: $WORK is private to the user running the
// tests), sets VAR to it, and removes it when the script ends.
func cmdPublicdir(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: publicdir VAR")
	}
	dir, err := os.MkdirTemp("", "tpm-public-")
	ts.Check(err)
	ts.Defer(func() { os.RemoveAll(dir) })
	ts.Check(os.Chmod(dir, 0o755))
	real, err := filepath.EvalSymlinks(dir)
	ts.Check(err)
	ts.Setenv(args[0], real)
}
