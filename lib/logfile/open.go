package logfile

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// A log folder may be writable by someone else than the user tpm runs as (a
// tree set up by hand, or another user's tree used by root), so a log path is
// never trusted to name a regular file: whatever sits there was maybe planted.
// Every log file is opened without following a symbolic link (output appended
// to the link's target, a root-only file, would be the attack), without
// blocking (a FIFO would hang the opener until someone opens its other end),
// and is then accepted only if it is a regular file (a link to /dev/urandom, or
// a device, would feed a reader for ever).

// ErrNotRegular is the error for a log path that names something other than a
// regular file: a symbolic link, a FIFO, a device, a socket or a folder.
var ErrNotRegular = errors.New("not a regular file")

// OpenRead opens a log file for reading, refusing anything but a regular file
// (the error then wraps ErrNotRegular). A missing file gives an error that
// wraps fs.ErrNotExist.
func OpenRead(path string) (*os.File, error) {
	return openLog(path, unix.O_RDONLY, 0)
}

// openWrite opens path for appending, creating it (0600) if missing, with
// the same refusals as OpenRead.
func openWrite(path string) (*os.File, error) {
	return openLog(path, unix.O_WRONLY|unix.O_APPEND|unix.O_CREAT, 0o600)
}

func openLog(path string, flags int, perm uint32) (*os.File, error) {
	var fd int
	var err error
	for {
		fd, err = unix.Open(path, flags|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, perm)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		// O_NOFOLLOW fails with ELOOP at a symbolic link (EMLINK on some
		// BSDs), a FIFO opened for writing without a reader with ENXIO, a
		// folder opened for writing with EISDIR: say what is there rather
		// than what the kernel says.
		if err == unix.ELOOP || err == unix.EMLINK || err == unix.ENXIO || err == unix.EISDIR {
			if fi, lerr := os.Lstat(path); lerr == nil && !fi.Mode().IsRegular() {
				return nil, notRegular(path, fi.Mode())
			}
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if uint32(st.Mode)&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, notRegular(path, modeOf(uint32(st.Mode)))
	}
	// Blocking again: a regular file never blocks anyway, and the
	// descriptor then behaves as every other file's.
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// openDir opens a folder for its lock. O_DIRECTORY: whatever else sits at
// the path (a FIFO that would block the open) is refused.
func openDir(path string) (*os.File, error) {
	for {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return os.NewFile(uintptr(fd), path), nil
	}
}

// modeOf turns a stat mode's file type into an fs.FileMode's.
func modeOf(m uint32) os.FileMode {
	switch m & unix.S_IFMT {
	case unix.S_IFLNK:
		return os.ModeSymlink
	case unix.S_IFIFO:
		return os.ModeNamedPipe
	case unix.S_IFCHR:
		return os.ModeDevice | os.ModeCharDevice
	case unix.S_IFBLK:
		return os.ModeDevice
	case unix.S_IFSOCK:
		return os.ModeSocket
	case unix.S_IFDIR:
		return os.ModeDir
	}
	return os.ModeIrregular
}

// notRegular says what sits at path instead of a regular file.
func notRegular(path string, m os.FileMode) error {
	what := "something else"
	switch {
	case m&os.ModeSymlink != 0:
		what = "a symbolic link"
	case m&os.ModeNamedPipe != 0:
		what = "a FIFO"
	case m&os.ModeDevice != 0:
		what = "a device"
	case m&os.ModeSocket != 0:
		what = "a socket"
	case m.IsDir():
		what = "a folder"
	}
	return fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, what)
}
