package startcmd

// What tpm-start checks before anything is created. A program that cannot
// start must be refused here, synchronously and leaving no file: once its
// supervisor runs, the same failure becomes a restart loop (a script bash
// cannot read exits 126 at every try) or a misleading message (a removed
// folder makes exec fail with "no such file", which reads as a missing #!
// interpreter). The checks are a stat and a few access(2) calls: nothing
// next to a start.

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/spec"
)

// runnable checks that the caller can start s: its folder exists and can be
// entered; the script can be executed when it runs as it is, and read (by
// its interpreter, with the caller's rights); an interpreter given by its
// path can be executed. Root passes every read check and the execute check
// of any file with an execute bit, as exec itself would let it.
//
// A script run as it is must be readable too: the kernel execs a #! script
// without reading rights, but its interpreter then cannot open it. That
// refuses the rare binary that may only be executed (mode 0111) as well;
// chmod u+r is the way out, and the message says which file.
func runnable(s *spec.Spec) error {
	if s.Cwd != "" {
		if err := folder(s.Cwd); err != nil {
			return err
		}
	}
	script := s.Script
	if !filepath.IsAbs(script) {
		if s.Cwd == "" {
			return nil // a legacy record: the supervisor's folder decides
		}
		script = filepath.Join(s.Cwd, script)
	}
	if s.Interpreter == "" {
		if err := access(script, unix.X_OK, "execute"); err != nil {
			return err
		}
	} else {
		words, err := spec.InterpreterWords(s.Interpreter, s.Cwd)
		if err != nil {
			return exit.With(exit.DataErr, err)
		}
		// A bare name is found on the PATH of the program's environment
		// when the supervisor starts it; a path is checked here.
		if strings.Contains(words[0], "/") {
			if err := access(words[0], unix.X_OK, "execute"); err != nil {
				return err
			}
		}
	}
	return access(script, unix.R_OK, "read")
}

// folder checks the program's working folder.
func folder(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return exit.Errorf(exit.NoInput, "its folder %s does not exist", dir)
	case errors.Is(err, fs.ErrPermission):
		return exit.Errorf(exit.NoPerm, "cannot reach its folder %s: permission denied", dir)
	case err != nil:
		return exit.Errorf(exit.NoInput, "its folder %s: %v", dir, err)
	case !fi.IsDir():
		return exit.Errorf(exit.NoInput, "its folder %s is not a folder", dir)
	}
	return access(dir, unix.X_OK, "enter")
}

// access checks one right of the caller on path with access(2).
func access(path string, mode uint32, verb string) error {
	err := unix.Access(path, mode)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrPermission):
		return exit.Errorf(exit.NoPerm, "cannot %s %s: permission denied", verb, path)
	}
	return exit.Errorf(exit.NoInput, "cannot %s %s: %v", verb, path, err)
}

// fdSpare is what tpm-start has open besides the run locks: stdio, the
// spare supervisor's socket, the poller, a file being written.
const fdSpare = 16

// fdBudget refuses, before anything is created, more processes than
// tpm-start can hold locks for: each run lock stays open until every
// process has started (so that a taken port starts none), and running out
// half way failed with 73 and left a lock file per process behind. Go
// raises the soft limit to the hard one at start, so the limit read here is
// the real one.
func fdBudget(n int) error {
	if n <= 1 {
		return nil
	}
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil || rl.Cur == unix.RLIM_INFINITY {
		return nil
	}
	need := uint64(n) + fdSpare
	if need <= rl.Cur {
		return nil
	}
	return cli.WithHint(exit.Errorf(exit.Unavailable, "starting %d processes at once needs %d open files; the limit is %d", n, need, rl.Cur),
		"raise it (ulimit -n), or start fewer at a time")
}
