package logcmd

import (
	"golang.org/x/sys/unix"
)

// watch returns a channel that receives a value whenever something in dir
// may have changed: a write, a new file, a rename (a rotation). It sleeps in
// read(2) on an inotify descriptor: no polling.
func watch(dir string) (<-chan struct{}, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err != nil {
		return pollEvery(dir), nil
	}
	mask := uint32(unix.IN_MODIFY | unix.IN_CREATE | unix.IN_MOVED_TO | unix.IN_MOVED_FROM | unix.IN_DELETE | unix.IN_CLOSE_WRITE | unix.IN_ATTRIB)
	if _, err := unix.InotifyAddWatch(fd, dir, mask); err != nil {
		unix.Close(fd)
		return pollEvery(dir), nil
	}
	ch := make(chan struct{}, 1)
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := unix.Read(fd, buf)
			if err == unix.EINTR {
				continue
			}
			if err != nil || n <= 0 {
				return
			}
			select { // coalesce: one pending wake-up is enough
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	return ch, nil
}
