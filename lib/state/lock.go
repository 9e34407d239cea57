package state

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/logfile"
	"github.com/tetra-toolkit/tpm/lib/proc"
)

// The run lock, run/NAME.lock, is taken by tpm-start before anything of NAME
// is written and handed to the supervisor, which holds it for its whole life
// (as s6-supervise's lock): while a supervisor of NAME lives, or a command
// is changing NAME's files, the lock is held. The program does not inherit
// it (SPEC §12): a descendant that escapes the program's group must never
// keep the name locked. Whether the program runs without its supervisor
// comes from its recorded identity (PID and token) instead. tpm-clean takes
// the lock, and checks that identity, before it removes NAME's files.

// ErrLocked is returned when another process holds a lock.
var ErrLocked = errors.New("locked")

// TryLock takes NAME's run lock without waiting. The returned file holds the
// lock until it (and every copy of its descriptor) is closed. It returns
// ErrLocked when the lock is held.
func (t *Tree) TryLock(name string) (*os.File, error) {
	return lockFile(t.Lock(name), unix.LOCK_EX|unix.LOCK_NB)
}

// lockFile opens path and flocks it with how. Another process may remove the
// lock file between our open and our flock (tpm-clean removes the locks of
// forgotten names); then we hold a lock on a file nobody else can find, so
// after locking we check that path still names the file we locked, and start
// again if not.
func lockFile(path string, how int) (*os.File, error) {
	for {
		f, err := OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, exit.With(exitFor(err, exit.CantCreate), fmt.Errorf("open lock: %w", err))
		}
		if err := flock(f, how); err != nil {
			f.Close()
			if errors.Is(err, unix.EWOULDBLOCK) {
				return nil, ErrLocked
			}
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if sameFile(f, path) {
			return f, nil
		}
		f.Close()
	}
}

// flock is logfile.Flock: one way to take a lock.
func flock(f *os.File, how int) error { return logfile.Flock(f, how) }

func sameFile(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}

// Held reports whether NAME's run lock is held by anyone. It takes a shared
// lock for an instant when it is free, so it is for tpm's writers (tpm-clean,
// tpm-start), never for tpm-ls, which must not disturb a concurrent start.
func (t *Tree) Held(name string) bool {
	f, err := OpenFile(t.Lock(name), os.O_RDONLY, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := flock(f, unix.LOCK_SH|unix.LOCK_NB); err != nil {
		return errors.Is(err, unix.EWOULDBLOCK)
	}
	return false
}

// WaitUnlocked waits until nothing holds NAME's run lock, or the timeout
// passes, and reports whether the lock came free. It polls with a
// non-blocking flock: a blocking one left in a goroutine after a timeout
// would later take the lock and hold it, and closing the file under it does
// not wake it.
func (t *Tree) WaitUnlocked(name string, timeout time.Duration) bool {
	f, err := OpenFile(t.Lock(name), os.O_RDONLY, 0)
	if err != nil {
		return true
	}
	defer f.Close()
	return proc.PollUntil(time.Now().Add(timeout), func() bool {
		if flock(f, unix.LOCK_SH|unix.LOCK_NB) != nil {
			return false
		}
		flock(f, unix.LOCK_UN)
		return true
	})
}

// editLockTimeout bounds the wait for the edit lock; a holder keeps it for the
// time of one read and one rename.
const editLockTimeout = 5 * time.Second

// EditLock takes the tree's edit lock, a flock on the processes folder, and
// returns the function that releases it. After editLockTimeout it gives up
// with exit code 75.
func (t *Tree) EditLock() (func(), error) {
	d, err := os.OpenFile(t.Root+"/"+ProcessesDir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, exit.With(exitFor(err, exit.CantCreate), fmt.Errorf("edit lock: %w", err))
	}
	deadline := time.Now().Add(editLockTimeout)
	wait := 100 * time.Microsecond
	for {
		err := flock(d, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { d.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) || time.Now().After(deadline) {
			d.Close()
			if errors.Is(err, unix.EWOULDBLOCK) {
				return nil, exit.Errorf(exit.TempFail, "another tpm command holds the lock on %s; try again", t.Root)
			}
			return nil, fmt.Errorf("edit lock: %w", err)
		}
		time.Sleep(wait)
		wait = min(wait*2, 20*time.Millisecond)
	}
}
