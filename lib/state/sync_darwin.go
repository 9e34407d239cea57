package state

import "golang.org/x/sys/unix"

// fsync flushes a file to the disk. On macOS fsync(2) only hands the data
// to the drive, which may keep it in its cache through a power loss;
// F_FULLFSYNC asks the drive to write it, and some file systems refuse it,
// then fsync is the best there is.
func fsync(fd int) error {
	for {
		_, err := unix.FcntlInt(uintptr(fd), unix.F_FULLFSYNC, 0)
		if err == nil {
			return nil
		}
		if err != unix.EINTR {
			break
		}
	}
	for {
		err := unix.Fsync(fd)
		if err != unix.EINTR {
			return err
		}
	}
}
