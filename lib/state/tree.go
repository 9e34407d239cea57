// Package state is tpm's state tree under $TETRA_DIR/tpm (SPEC §1): where
// each file lives, how it is written, and what a process's files say about
// it.
//
// The rules:
//   - a tree another user could change is never used (trust.go): every
//     command opens it with Open, which refuses it with exit 77;
//   - folders are created 0700 and files 0600: logs and environments hold
//     secrets;
//   - every file of the tree is opened with OpenFile or ReadFile (read.go):
//     never through a symbolic link, never blocking, a regular file only,
//     read up to a bound;
//   - every .meta, .env and .pid file is written whole to a temporary file in
//     the same folder, flushed, then renamed over the old one, and the
//     folder flushed: no reader ever sees half a file, and a power loss
//     never leaves an empty one;
//   - tpm's own files (temporary files, locks, control FIFOs) have names that
//     cannot be process names: temporary files start with a dot, and locks and
//     FIFOs live in run/;
//   - the supervisor owns pids/NAME.pid and logs/NAME.*; a meta line is
//     rewritten only under the tree's edit lock, so that two writers never
//     lose each other's fields.
package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/meta"
	"github.com/tetra-toolkit/tpm/lib/names"
)

// The folders of the tree.
const (
	ProcessesDir = "processes"
	PidsDir      = "pids"
	LogsDir      = "logs"
	RunDir       = "run"
)

// Tree is the state tree rooted at $TETRA_DIR/tpm.
type Tree struct {
	Root string
	// complete is set once the tree is known to have all its folders and to
	// be trusted (trust.go): Ensure has nothing left to do.
	complete atomic.Bool
}

// Dir returns the tpm folder for TETRA_DIR: $TETRA_DIR/tpm, with TETRA_DIR
// defaulting to $HOME/tetra when unset or empty.
func Dir() (string, error) {
	base := os.Getenv("TETRA_DIR")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", exit.Errorf(exit.CantCreate, "TETRA_DIR is not set and there is no home folder: %v", err)
		}
		base = filepath.Join(home, "tetra")
	}
	abs, err := filepath.Abs(base)
	if err != nil {
		return "", exit.Errorf(exit.CantCreate, "TETRA_DIR: %v", err)
	}
	return filepath.Join(abs, "tpm"), nil
}

// Open returns the tree of the environment once it is trusted (trust.go):
// an untrusted tree is an error with exit code 77, a TETRA_DIR that is not
// a folder 73. A tree that does not exist yet is fine and is not created;
// its Root is then where it will be.
func Open() (*Tree, error) {
	d, err := Dir()
	if err != nil {
		return nil, err
	}
	return trusted(filepath.Dir(d))
}

// OpenCreate returns the tree of the environment, trusted and with all its
// folders.
func OpenCreate() (*Tree, error) {
	t, err := Open()
	if err != nil {
		return nil, err
	}
	return t, t.Ensure()
}

// Ensure creates the tree's folders (0700) when missing, after checking
// that what exists is trusted, and checks the result again: nothing is
// created in a tree another user could change.
func (t *Tree) Ensure() error {
	if t.complete.Load() {
		return nil
	}
	base := filepath.Dir(t.Root)
	c := newChecker(t.Root)
	real, missing, err := c.resolve(base)
	if err != nil {
		return err
	}
	if !missing {
		if _, err := c.check(real); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(t.Root, 0o700); err != nil {
		return exit.With(exitFor(err, exit.CantCreate), fmt.Errorf("create state folder: %w", err))
	}
	for _, d := range Folders {
		err := os.Mkdir(filepath.Join(t.Root, d), 0o700)
		if err != nil && !errors.Is(err, fs.ErrExist) {
			return exit.With(exitFor(err, exit.CantCreate), fmt.Errorf("create state folder: %w", err))
		}
	}
	// Again, now that all exists: the folders created are the ones checked.
	if real, missing, err = c.resolve(base); err != nil {
		return err
	}
	lacking := t.Root
	if !missing {
		if lacking, err = c.check(real); err != nil {
			return err
		}
	}
	if lacking != "" {
		return c.notFolder(lacking)
	}
	t.complete.Store(true)
	return nil
}

// exitFor maps a file system error to an exit code: permission problems are
// 77, a missing file 66, anything else def.
func exitFor(err error, def int) int {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return exit.NoPerm
	case errors.Is(err, fs.ErrNotExist):
		return exit.NoInput
	}
	return def
}

// Paths of one process's files.

func (t *Tree) Meta(name string) string { return filepath.Join(t.Root, ProcessesDir, name+".meta") }
func (t *Tree) Env(name string) string  { return filepath.Join(t.Root, ProcessesDir, name+".env") }
func (t *Tree) Pid(name string) string  { return filepath.Join(t.Root, PidsDir, name+".pid") }
func (t *Tree) Out(name string) string  { return filepath.Join(t.Root, LogsDir, name+".out") }
func (t *Tree) Err(name string) string  { return filepath.Join(t.Root, LogsDir, name+".err") }
func (t *Tree) Lock(name string) string { return filepath.Join(t.Root, RunDir, name+".lock") }

// Path returns the path of one kind of file of name: meta, env, pid, out or
// err.
func (t *Tree) Path(name, kind string) (string, bool) {
	switch kind {
	case "meta":
		return t.Meta(name), true
	case "env":
		return t.Env(name), true
	case "pid":
		return t.Pid(name), true
	case "out":
		return t.Out(name), true
	case "err":
		return t.Err(name), true
	}
	return "", false
}

// TempPrefix starts the name of every temporary file tpm writes; no process
// name can start with a dot.
const TempPrefix = "."

// TempMarker is in the name of every temporary file, after the target's name.
const TempMarker = ".tmp"

var tempSeq atomic.Uint64

// WriteFile writes data to path atomically and durably: a temporary file in
// the same folder, mode 0600, flushed to the disk, renamed over path, and
// the folder flushed too, so that neither a reader nor a power loss ever
// leaves half a file, or none (SPEC §12: a record of a first start or a
// final state must survive). A .meta, .env or .pid file over the bound its
// reader accepts is refused (65).
func WriteFile(path string, data []byte) error { return WriteFileMode(path, data, 0o600) }

// WriteFileMode is WriteFile with the file's mode, exactly (the umask
// aside): for files tpm writes outside its tree (a systemd unit, a crontab
// stand-in's file, an exported job), the same way.
func WriteFileMode(path string, data []byte, mode os.FileMode) error {
	if limit := maxFor(path); limit > 0 && len(data) > limit {
		return exit.Errorf(exit.DataErr, "write %s: %d bytes, over the %s tpm reads back", path, len(data), sizeString(limit))
	}
	dir, base := filepath.Split(path)
	seq := tempSeq.Add(1)
	tmp := filepath.Join(dir, TempPrefix+base+TempMarker+strconv.Itoa(os.Getpid())+"-"+strconv.FormatUint(seq, 10))
	// O_EXCL never opens what is there, link or not; O_NOFOLLOW says so
	// twice.
	fd, err := unix.Open(tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return writeErr(path, &os.PathError{Op: "open", Path: tmp, Err: err})
	}
	err = writeAll(fd, data)
	if err == nil && mode.Perm() != 0o600 {
		err = unix.Fchmod(fd, uint32(mode.Perm()))
	}
	if err == nil {
		err = fsync(fd)
	}
	if cerr := unix.Close(fd); err == nil && cerr != nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return writeErr(path, err)
	}
	if err := syncDir(dir); err != nil {
		return writeErr(path, err)
	}
	return nil
}

func writeAll(fd int, data []byte) error {
	for len(data) > 0 {
		n, err := unix.Write(fd, data)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// syncDir flushes a folder, so that a rename in it is on the disk.
func syncDir(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(fd)
	if err := fsync(fd); err != nil {
		return &os.PathError{Op: "sync", Path: dir, Err: err}
	}
	return nil
}

func writeErr(path string, err error) error {
	return exit.With(exitFor(err, exit.CantCreate), fmt.Errorf("write %s: %w", path, err))
}

// IsTemp reports whether a file name in the tree is one of tpm's temporary
// files.
func IsTemp(base string) bool {
	return strings.HasPrefix(base, TempPrefix) && strings.Contains(base, TempMarker)
}

// ErrNoProcess is wrapped by errors about a name that has no meta file.
var ErrNoProcess = errors.New("no such process")

// NoProcess returns the error for an unknown name.
func NoProcess(name string) error {
	return exit.With(exit.NoInput, noProcess(name))
}

// noProcess says "no process named NAME" once, and is ErrNoProcess.
type noProcess string

func (n noProcess) Error() string        { return fmt.Sprintf("no process named %q", string(n)) }
func (n noProcess) Is(target error) bool { return target == ErrNoProcess }

// ReadMeta reads and parses NAME.meta. A missing file is ErrNoProcess (66),
// an unreadable one a permission error (77), and one that is not a regular
// file of a sane size, or malformed, a data error (65) that names the path
// and the reason.
func (t *Tree) ReadMeta(name string) (*meta.Meta, error) {
	data, err := ReadFile(t.Meta(name), MaxMeta)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, NoProcess(name)
		case isNotRegular(err):
			return nil, exit.With(exit.DataErr, err)
		}
		return nil, exit.With(exitFor(err, exit.Failure), err)
	}
	return ParseMetaFile(t.Meta(name), data)
}

// ParseMetaFile parses and validates the contents of the meta file at path.
func ParseMetaFile(path string, data []byte) (*meta.Meta, error) {
	m, err := meta.Parse(data)
	if err == nil {
		err = m.Validate()
	}
	if err != nil {
		return nil, exit.Errorf(exit.DataErr, "%s: %v", path, err)
	}
	return m, nil
}

// WriteMeta writes NAME.meta atomically. Callers that change a meta line that
// may exist use EditMeta instead.
func (t *Tree) WriteMeta(name string, m *meta.Meta) error {
	if err := m.Check(); err != nil {
		return exit.Errorf(exit.DataErr, "%s: %v", name, err)
	}
	return WriteFile(t.Meta(name), m.Format())
}

// EditMeta reads NAME.meta, lets fn change it, and writes it back, all under
// the edit lock, so that concurrent editors (a supervisor recording a
// restart, a user running tpm-meta) never lose each other's fields.
func (t *Tree) EditMeta(name string, fn func(*meta.Meta) error) error {
	unlock, err := t.EditLock()
	if err != nil {
		return err
	}
	defer unlock()
	m, err := t.ReadMeta(name)
	if err != nil {
		return err
	}
	if err := fn(m); err != nil {
		return err
	}
	return t.WriteMeta(name, m)
}

// WritePid writes NAME.pid: the PID and a newline.
func (t *Tree) WritePid(name string, pid int) error {
	return WriteFile(t.Pid(name), []byte(strconv.Itoa(pid)+"\n"))
}

// RemovePid removes NAME.pid, durably: a pid file that came back after a
// power loss would make a stopped process stale, and tpm-start --stale
// would start it again. A missing file is fine.
func (t *Tree) RemovePid(name string) error {
	err := os.Remove(t.Pid(name))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	return syncDir(filepath.Join(t.Root, PidsDir))
}

// HasPid reports whether NAME.pid exists (a regular file: a link or a FIFO
// there is not a pid file).
func (t *Tree) HasPid(name string) bool {
	fi, err := os.Lstat(t.Pid(name))
	return err == nil && fi.Mode().IsRegular()
}

// Names lists the processes of the tree: every NAME.meta with a valid name,
// sorted. A missing tree has no processes; a folder that cannot be read is
// an error with its exit code (77 for a permission), never an empty list.
func (t *Tree) Names() ([]string, error) {
	return t.namesIn(ProcessesDir, ".meta")
}

// namesIn lists the valid names of files NAME+suffix in dir, sorted.
func (t *Tree) namesIn(dir, suffix string) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(t.Root, dir))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, exit.With(exitFor(err, exit.Failure), fmt.Errorf("list %s: %w", filepath.Join(t.Root, dir), err))
	}
	out := make([]string, 0, len(ents))
	for _, e := range ents {
		if dir == PidsDir && !e.Type().IsRegular() {
			continue // as HasPid: a link or a FIFO there is not a pid file
		}
		n, ok := strings.CutSuffix(e.Name(), suffix)
		if ok && names.Valid(n) {
			out = append(out, n)
		}
	}
	slices.Sort(out) // by name: "a-b.meta" sorts before "a.meta", but "a" before "a-b"
	return out, nil
}
