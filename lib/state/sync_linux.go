package state

import "golang.org/x/sys/unix"

// fsync flushes a file's data and metadata to the disk.
func fsync(fd int) error {
	for {
		err := unix.Fsync(fd)
		if err != unix.EINTR {
			return err
		}
	}
}
