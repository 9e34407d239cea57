package state

// Every file of the tree is opened through OpenFile or ReadFile. The tree's
// folders are checked once per command (trust.go); these close the last
// gaps at the file itself:
//   - a symbolic link is never followed (O_NOFOLLOW): a link at
//     logs/NAME.out would have a supervisor append a program's output to
//     any file its user can write;
//   - the open never blocks (O_NONBLOCK): a FIFO at processes/x.meta
//     would hang tpm-ls until somebody wrote to it;
//   - only a regular file is accepted, checked on the open descriptor
//     (fstat), so nothing can swap the file between the check and the use;
//   - a read is bounded: a file tpm wrote is small, and one that is not
//     (a device, a file grown by mistake) is an error, not a read forever.

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Bounds of the files tpm reads whole. A writer refuses to write more than
// its reader accepts (WriteFile), so a record never becomes unreadable.
const (
	// MaxMeta bounds a meta line: it holds the program's arguments, and no
	// server is started with a megabyte of them.
	MaxMeta = 1 << 20
	// MaxEnv bounds a saved environment: above the 6 MiB that Linux lets
	// exec pass in all (so tpm-start's own environment always fits, quoted).
	MaxEnv = 8 << 20
	// MaxPid bounds a pid file: one number and a newline.
	MaxPid = 4 << 10
)

// ErrNotRegular is wrapped by the error for a path of the tree that is not
// a regular file (a symbolic link, a FIFO, a device, a folder).
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is wrapped by the error for a file over the bound of its kind.
var ErrTooLarge = errors.New("too large")

// OpenFile opens a file of the tree with flag (os.O_RDONLY, os.O_WRONLY|
// os.O_APPEND|os.O_CREATE, ...) and perm, as os.OpenFile does, but never
// through a symbolic link, never blocking on a FIFO, close-on-exec, and only
// when path is a regular file: anything else is an error that wraps
// ErrNotRegular and names path. The returned file is in blocking mode.
func OpenFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	fd, _, err := openRegular(path, flag, perm)
	if err != nil {
		return nil, err
	}
	// O_NONBLOCK was for the open; a regular file ignores it, but an
	// os.File made from a non-blocking descriptor takes another path.
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// openRegular opens path with the flags of OpenFile and returns the
// descriptor of a regular file, still non-blocking, and its size.
func openRegular(path string, flag int, perm os.FileMode) (int, int64, error) {
	flag |= unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC
	var fd int
	var err error
	for {
		fd, err = unix.Open(path, flag, uint32(perm.Perm()))
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		if err == unix.ELOOP {
			// O_NOFOLLOW's answer for a link at the last component (the
			// folders above were checked to be real folders).
			return -1, 0, &os.PathError{Op: "open", Path: path, Err: notRegular("a symbolic link")}
		}
		return -1, 0, &os.PathError{Op: "open", Path: path, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, 0, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if kind := fileKind(uint32(st.Mode)); kind != "" {
		unix.Close(fd)
		return -1, 0, &os.PathError{Op: "open", Path: path, Err: notRegular(kind)}
	}
	return fd, st.Size, nil
}

func notRegular(kind string) error {
	return fmt.Errorf("%w (%s)", ErrNotRegular, kind)
}

// fileKind names the type of a file that is not regular, "" for a regular
// file.
func fileKind(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return ""
	case unix.S_IFLNK:
		return "a symbolic link"
	case unix.S_IFIFO:
		return "a FIFO"
	case unix.S_IFDIR:
		return "a folder"
	case unix.S_IFCHR, unix.S_IFBLK:
		return "a device"
	case unix.S_IFSOCK:
		return "a socket"
	}
	return "of an unknown type"
}

// ReadFile reads the regular file at path whole, at most limit bytes: more
// is an error that wraps ErrTooLarge. It takes four system calls (open,
// fstat, read, close) where os.ReadFile takes five or six: tpm-ls reads a
// thousand files.
func ReadFile(path string, limit int) ([]byte, error) {
	fd, size, err := openRegular(path, unix.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	// One byte more than the size, so that a file read whole ends in a
	// short read; the size may have changed since the fstat, so the loop
	// goes on until a short read or the bound.
	buf := make([]byte, 0, int(min(max(size, 511), int64(limit)))+1)
	for {
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		buf = buf[:len(buf)+n]
		if len(buf) > limit {
			return nil, &os.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: over %s", ErrTooLarge, sizeString(limit))}
		}
		if n == 0 || len(buf) < cap(buf) {
			// A short read of a regular file is its end.
			return buf, nil
		}
		buf = append(buf, 0)[:len(buf)]
	}
}

// sizeString writes a bound the way a person reads it.
func sizeString(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// maxFor is the bound of the file at path by its kind, 0 for a file that is
// not read whole.
func maxFor(path string) int {
	switch {
	case strings.HasSuffix(path, ".meta"):
		return MaxMeta
	case strings.HasSuffix(path, ".env"):
		return MaxEnv
	case strings.HasSuffix(path, ".pid"):
		return MaxPid
	}
	return 0
}

// readFile reads a meta file of the tree (record.go).
func readFile(path string) ([]byte, error) {
	return ReadFile(path, MaxMeta)
}

// isNotRegular reports whether err says a file of the tree is there but is
// not one tpm can read: of the wrong type, or too large.
func isNotRegular(err error) bool {
	return errors.Is(err, ErrNotRegular) || errors.Is(err, ErrTooLarge)
}
