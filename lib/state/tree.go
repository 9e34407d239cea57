// Package state is tpm's state tree under $TETRA_DIR/tpm (SPEC §1): where
// each file lives, how it is written, and what a process's files say about
// it.
//
// The rules:
//   - folders are created 0700 and files 0600: logs and environments hold
//     secrets;
//   - every .meta, .env and .pid file is written whole to a temporary file in
//     the same folder, then renamed over the old one, so no reader ever sees
//     half a file;
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

// Open returns the tree of the environment without touching the disk.
func Open() (*Tree, error) {
	d, err := Dir()
	if err != nil {
		return nil, err
	}
	return &Tree{Root: d}, nil
}

// OpenCreate returns the tree of the environment, creating its folders.
func OpenCreate() (*Tree, error) {
	t, err := Open()
	if err != nil {
		return nil, err
	}
	return t, t.Ensure()
}

// Ensure creates the tree's folders (0700) when missing.
func (t *Tree) Ensure() error {
	for _, d := range []string{ProcessesDir, PidsDir, LogsDir, RunDir} {
		p := filepath.Join(t.Root, d)
		if err := os.MkdirAll(p, 0o700); err != nil {
			return exit.With(exitFor(err, exit.CantCreate), fmt.Errorf("create state folder: %w", err))
		}
	}
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

// WriteFile writes data to path atomically: a temporary file in the same
// folder, mode 0600, then a rename over path.
func WriteFile(path string, data []byte) error {
	dir, base := filepath.Split(path)
	seq := tempSeq.Add(1)
	tmp := filepath.Join(dir, TempPrefix+base+TempMarker+strconv.Itoa(os.Getpid())+"-"+strconv.FormatUint(seq, 10))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return writeErr(path, err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return writeErr(path, err)
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
	return exit.With(exit.NoInput, fmt.Errorf("no process named %q: %w", name, ErrNoProcess))
}

// ReadMeta reads and parses NAME.meta. A missing file is ErrNoProcess (66), a
// malformed one a data error (65) that names the path and the reason.
func (t *Tree) ReadMeta(name string) (*meta.Meta, error) {
	data, err := os.ReadFile(t.Meta(name))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, NoProcess(name)
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

// RemovePid removes NAME.pid; a missing file is fine.
func (t *Tree) RemovePid(name string) error {
	err := os.Remove(t.Pid(name))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// HasPid reports whether NAME.pid exists.
func (t *Tree) HasPid(name string) bool {
	_, err := os.Lstat(t.Pid(name))
	return err == nil
}

// Names lists the processes of the tree: every NAME.meta with a valid name,
// sorted. A missing tree has no processes.
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
		return nil, err
	}
	out := make([]string, 0, len(ents))
	for _, e := range ents {
		n, ok := strings.CutSuffix(e.Name(), suffix)
		if ok && names.Valid(n) {
			out = append(out, n)
		}
	}
	slices.Sort(out) // by name: "a-b.meta" sorts before "a.meta", but "a" before "a-b"
	return out, nil
}
