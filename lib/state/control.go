package state

import (
	"errors"
	"os"
	"syscall"
)

// ErrNoSupervisor is returned by Request when no supervisor reads NAME's
// control FIFO.
var ErrNoSupervisor = errors.New("no supervisor")

// Request writes one request line to NAME's supervisor through run/NAME.ctl.
// The open does not block: it fails with ENXIO when no supervisor holds the
// FIFO open for reading, which proves the supervisor is gone whatever the
// pid files say.
func (t *Tree) Request(name, line string) error {
	f, err := os.OpenFile(t.Ctl(name), os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, syscall.ENXIO) || errors.Is(err, os.ErrNotExist) {
			return ErrNoSupervisor
		}
		return err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		return ErrNoSupervisor
	}
	_, err = f.Write([]byte(line + "\n"))
	return err
}

// Supervised reports whether a supervisor of NAME is alive: one holds its
// control FIFO open for reading.
func (t *Tree) Supervised(name string) bool {
	f, err := os.OpenFile(t.Ctl(name), os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeNamedPipe != 0
}

// LockExists reports whether NAME's run lock file exists.
func (t *Tree) LockExists(name string) bool {
	_, err := os.Lstat(t.Lock(name))
	return err == nil
}
