// Package cleancmd is tpm-clean: it tidies the state tree (the safe default
// for cron), deletes the files of named processes, and maintains the logs of
// processes whose supervisor is gone.
//
// The rule that makes it safe beside everything else: before it touches any
// file of NAME, it takes NAME's run lock without waiting. The lock is held by
// a starting tpm-start, by the supervisor, and by the program itself, so
// holding it proves that nothing of NAME is alive or being started; when it
// cannot have it, it leaves NAME alone.
package cleancmd

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/logfile"
	"github.com/tetra-toolkit/tpm/lib/meta"
	"github.com/tetra-toolkit/tpm/lib/names"
	"github.com/tetra-toolkit/tpm/lib/proc"
	"github.com/tetra-toolkit/tpm/lib/spare"
	"github.com/tetra-toolkit/tpm/lib/spec"
	"github.com/tetra-toolkit/tpm/lib/state"
	"github.com/tetra-toolkit/tpm/lib/stop"
)

type grammar struct {
	Stop      bool     `help:"With NAMEs: stop a running process first instead of refusing it."`
	Logs      bool     `help:"Also rotate logs above --max-size and remove old rotated logs, for processes whose supervisor is gone."`
	MaxSize   string   `placeholder:"SIZE" help:"With --logs: rotate a log above this size (default: the process's own log_max_size, 10M)."`
	Keep      string   `placeholder:"N" help:"With --logs: rotated files to keep per log (default: the process's own log_keep, 5)."`
	OlderThan string   `placeholder:"D" help:"With --logs: also remove rotated files older than D (e.g. 7d, 12h)."`
	DryRun    bool     `short:"n" help:"Print what would be removed, one path per line; remove nothing."`
	Verbose   bool     `short:"v" help:"Print each path removed."`
	Targets   []string `arg:"" optional:"" name:"NAME|PATTERN" help:"Processes whose files to delete (meta, env, pid, logs)."`
}

const description = `Tidy tpm's state tree, or delete the files of processes.

  tpm-clean [flags]               tidy: the safe default for cron. Removes pid files of processes
                                  that are gone (stale becomes stopped; the record stays), leftover
                                  temporary and lock files, and files that belong to no record.
  tpm-clean [flags] NAME...       delete these processes' files: meta, env, pid, logs.

It never touches a live process or its files, and is silent when there is nothing to do.

Exit codes: 0 ok, 1 a named process is running (give --stop), 64 usage, 66 no such process,
73 a file cannot be removed, 77 permission denied.`

// Main runs tpm-clean and returns its exit status.
func Main(e *cli.Env) int {
	var g grammar
	return e.Run(&g, description, func() error { return run(e, &g) })
}

// tempAge is how old a temporary file must be before tidy removes it: a
// write in progress keeps its temporary file for a moment only.
const tempAge = time.Minute

// bootGrace: for this long after a boot, tidy leaves alone the records of
// processes that were running when the machine went down, so that
// `@reboot tpm-start --stale` finds them stale whichever cron job runs first.
const bootGrace = 15 * time.Minute

type cleaner struct {
	e      *cli.Env
	g      *grammar
	t      *state.Tree
	code   int   // the worst failure so far
	maxLog int64 // --max-size, or -1 for each process's own
	keep   int   // --keep, or -1 for each process's own
	older  time.Duration
}

func run(e *cli.Env, g *grammar) error {
	c := &cleaner{e: e, g: g, maxLog: -1, keep: -1}
	var err error
	if !g.Logs && (g.MaxSize != "" || g.Keep != "" || g.OlderThan != "") {
		return cli.Usagef("--max-size, --keep and --older-than go with --logs")
	}
	if g.MaxSize != "" {
		if c.maxLog, err = spec.ParseSize(g.MaxSize); err != nil {
			return cli.Usagef("--max-size: %v", err)
		}
	}
	if g.Keep != "" {
		if c.keep, err = strconv.Atoi(g.Keep); err != nil || c.keep < 0 {
			return cli.Usagef("--keep %q: want 0 or more", g.Keep)
		}
	}
	if g.OlderThan != "" {
		if c.older, err = spec.ParseAge(g.OlderThan); err != nil {
			return cli.Usagef("--older-than: %v", err)
		}
	}
	if c.t, err = state.Open(); err != nil {
		return err
	}
	if _, err := os.Stat(c.t.Root); errors.Is(err, fs.ErrNotExist) {
		if len(g.Targets) > 0 {
			return state.NoProcess(g.Targets[0])
		}
		return nil // no tree: nothing to tidy
	}
	// A tree of the bash TPM, or made by hand, may lack the run folder
	// where the locks live.
	if err := c.t.Ensure(); err != nil {
		return err
	}
	if len(g.Targets) > 0 {
		if g.Logs {
			return cli.Usagef("--logs works on every process; give it without NAMEs")
		}
		ns, err := cli.Resolve(c.t, g.Targets)
		if err != nil {
			return err
		}
		for _, n := range ns {
			c.delete(n)
		}
	} else {
		c.tidy()
		if g.Logs {
			c.logs()
		}
	}
	if c.code != exit.OK {
		return cli.Silent(c.code)
	}
	return nil
}

func (c *cleaner) fail(err error) {
	c.e.Report(err)
	c.code = max(c.code, exit.Code(err))
}

// remove removes path (or, in a dry run, prints it). A file already gone is
// fine.
func (c *cleaner) remove(path string) {
	if c.g.DryRun {
		if _, err := os.Lstat(path); err == nil {
			fmt.Fprintln(c.e.Stdout, path)
		}
		return
	}
	err := os.Remove(path)
	switch {
	case err == nil:
		if c.g.Verbose {
			fmt.Fprintln(c.e.Stdout, path)
		}
	case errors.Is(err, fs.ErrNotExist):
	case errors.Is(err, fs.ErrPermission):
		c.fail(exit.With(exit.NoPerm, err))
	default:
		c.fail(exit.With(exit.CantCreate, err))
	}
}

// locked runs fn while holding NAME's run lock, and reports whether it could
// take the lock: when it cannot, something of NAME is alive or starting. A
// dry run takes no lock (which would create a lock file): it runs fn unless
// the lock is held.
func (c *cleaner) locked(name string, fn func(lock *os.File)) bool {
	if c.g.DryRun {
		if c.t.Held(name) {
			return false
		}
		fn(nil)
		return true
	}
	f, err := c.t.TryLock(name)
	if err != nil {
		if !errors.Is(err, state.ErrLocked) {
			c.fail(err)
		}
		return false
	}
	defer f.Close()
	fn(f)
	return true
}

// delete removes every file of a named process, stopping it first with --stop.
func (c *cleaner) delete(name string) {
	if r, err := c.t.Load(name); err == nil && (r.Alive() || c.t.Held(name)) {
		if !c.g.Stop {
			c.fail(cli.WithHint(exit.Errorf(exit.Failure, "%s is running", name), "stop it first, or give --stop"))
			return
		}
		if c.g.DryRun {
			fmt.Fprintf(c.e.Stderr, "%s: would stop %s first\n", c.e.Name, name)
			for _, p := range append(c.t.Files(name), c.t.Lock(name)) {
				c.remove(p)
			}
			return
		}
		if _, err := stop.Stop(c.t, name, stop.Options{}); err != nil {
			c.fail(err)
			return
		}
	}
	ok := c.locked(name, func(lock *os.File) {
		for _, p := range c.t.Files(name) {
			c.remove(p)
		}
		// The lock file last, while we hold it: a tpm-start that opened it
		// meanwhile notices that its lock file is gone and takes a new one.
		c.remove(c.t.Lock(name))
	})
	if !ok && c.code == exit.OK {
		c.fail(exit.Errorf(exit.Failure, "%s came back to life; not removed", name))
	}
}

// adopt gives a program whose supervisor died a new one (lib/supervise,
// adopt.go), under NAME's run lock, which the new supervisor keeps. A
// program that cannot be adopted is said on stderr, and left running.
func (c *cleaner) adopt(name string) {
	f, err := c.t.TryLock(name)
	if err != nil {
		return // a tpm-start is at it
	}
	defer f.Close()
	r, err := c.t.Load(name)
	if err != nil || r.Status != state.Unsupervised {
		return
	}
	sp, err := spare.Start()
	if err == nil {
		var pid int
		var st *spare.Status
		if pid, st, err = sp.Give(c.t.Root, name, f, r.Meta, 0, true); err == nil {
			st.Close()
			if c.g.Verbose {
				fmt.Fprintf(c.e.Stdout, "%s adopted pid=%d\n", name, pid)
			}
			return
		}
	}
	c.e.Warnf("%v", err)
}

// keepForReboot reports whether tidy should leave a stale record alone: its
// pid file was written before the machine booted (so it ran when the machine
// went down), and the boot was recent, so @reboot tpm-start --stale may not
// have run yet.
func keepForReboot(pidWritten, booted, now time.Time) bool {
	return pidWritten.Before(booted) && now.Sub(booted) < bootGrace
}

// tidy is bare tpm-clean.
func (c *cleaner) tidy() {
	known, err := c.t.Names()
	if err != nil {
		c.fail(err)
		return
	}
	isKnown := func(n string) bool { _, ok := slices.BinarySearch(known, n); return ok }
	booted := proc.BootTime()

	// Stale records: the pid file goes, the record says stopped. Programs
	// whose supervisor died get a new one.
	for _, n := range known {
		r, err := c.t.Load(n)
		if err == nil && r.Status == state.Unsupervised && !c.g.DryRun && r.Meta.Value(state.KeySupPid) != "" {
			// (A program of the bash TPM, which never had a supervisor of
			// tpm's, is left as it is: its output goes to files, not to
			// pipes a supervisor could take over.)
			c.adopt(n)
			continue
		}
		if err != nil || r.Meta == nil || r.Alive() {
			continue
		}
		if r.PidFile {
			if fi, err := os.Lstat(c.t.Pid(n)); err == nil && keepForReboot(fi.ModTime(), booted, time.Now()) {
				continue
			}
			c.locked(n, func(*os.File) {
				if r, err := c.t.Load(n); err != nil || r.Alive() || !r.PidFile {
					return
				}
				c.remove(c.t.Pid(n))
				if !c.g.DryRun {
					c.t.EditMeta(n, func(m *meta.Meta) error {
						m.Set(state.KeyState, state.Stopped)
						return nil
					})
				}
			})
		}
		// Control FIFOs left by supervisors that were killed: nobody
		// reads them.
		for _, p := range c.t.CtlFiles(n) {
			if state.DeadCtl(p) {
				c.locked(n, func(*os.File) {
					if state.DeadCtl(p) {
						c.remove(p)
					}
				})
			}
		}
	}

	// Files that belong to no record.
	orphans := map[string][]string{}
	scan := func(dir string, nameOf func(base string) (string, bool)) {
		ents, err := os.ReadDir(filepath.Join(c.t.Root, dir))
		if err != nil {
			return
		}
		for _, en := range ents {
			base := en.Name()
			if state.IsTemp(base) {
				if fi, err := en.Info(); err == nil && time.Since(fi.ModTime()) > tempAge {
					c.remove(filepath.Join(c.t.Root, dir, base))
				}
				continue
			}
			if n, ok := nameOf(base); ok && !isKnown(n) {
				orphans[n] = append(orphans[n], filepath.Join(c.t.Root, dir, base))
			}
		}
	}
	scan(state.ProcessesDir, suffixed(".env"))
	scan(state.PidsDir, suffixed(".pid"))
	scan(state.LogsDir, logName)
	scan(state.RunDir, func(b string) (string, bool) {
		if n, _, ok := state.CtlName(b); ok {
			return n, names.Valid(n)
		}
		return suffixed(".lock")(b)
	})
	for _, n := range slices.Sorted(maps.Keys(orphans)) {
		lockExisted := c.t.LockExists(n)
		c.locked(n, func(*os.File) {
			if _, err := os.Lstat(c.t.Meta(n)); err == nil {
				return // a record appeared meanwhile
			}
			lock := c.t.Lock(n)
			for _, p := range orphans[n] {
				if p != lock {
					c.remove(p)
				}
			}
			// The lock last, while we hold it; taking it made the file
			// when there was none, and that goes too (quietly: it was
			// not there before).
			if lockExisted {
				c.remove(lock)
			} else if !c.g.DryRun {
				os.Remove(lock)
			}
		})
	}
}

// suffixed returns a function that takes NAME out of NAME+suffix.
func suffixed(suffix string) func(string) (string, bool) {
	return func(base string) (string, bool) {
		n, ok := strings.CutSuffix(base, suffix)
		return n, ok && names.Valid(n)
	}
}

// logName takes NAME out of NAME.out, NAME.err, NAME.out.3 and NAME.err.3.
func logName(base string) (string, bool) {
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		if _, err := strconv.Atoi(base[i+1:]); err == nil {
			base = base[:i]
		}
	}
	for _, s := range []string{".out", ".err", ".events"} {
		if n, ok := strings.CutSuffix(base, s); ok && names.Valid(n) {
			return n, true
		}
	}
	return "", false
}

// logs rotates the big logs and removes the old rotated ones of every
// process whose supervisor is gone; a live supervisor does that itself. The
// limits are each process's own (log_max_size, log_keep) unless given.
func (c *cleaner) logs() {
	known, err := c.t.Names()
	if err != nil {
		c.fail(err)
		return
	}
	for _, n := range known {
		maxSize, keep := c.maxLog, c.keep
		if m, err := c.t.ReadMeta(n); err == nil {
			if sp, err := spec.FromMeta(n, m); err == nil {
				if maxSize < 0 {
					maxSize = sp.LogMaxSize
				}
				if keep < 0 {
					keep = sp.LogKeep
				}
			}
		}
		if maxSize < 0 {
			maxSize = spec.DefaultLogMaxSize
		}
		if keep < 0 {
			keep = spec.DefaultLogKeep
		}
		c.locked(n, func(*os.File) {
			// Renames under the folder's rotation lock, which followers
			// (tpm-log -f) take while they look.
			if unlock, err := logfile.LockDir(filepath.Dir(c.t.Out(n)), true); err == nil {
				defer unlock()
			}
			c.logPlan(c.t.Out(n), maxSize, keep)
			c.logPlan(c.t.Err(n), maxSize, keep)
		})
	}
}

// logPlan maintains one log stream (logfile.Maintain): a dry run prints
// what would go and renames nothing.
func (c *cleaner) logPlan(path string, maxSize int64, keep int) {
	if err := logfile.Maintain(path, maxSize, keep, c.older, c.g.DryRun, c.remove); err != nil {
		c.fail(exit.With(exit.CantCreate, err))
	}
}
