package serve

import (
	"context"
	"os"

	"golang.org/x/sys/unix"
)

// watchDir returns a channel that receives a value whenever something in
// dir may have changed, until ctx ends. It sleeps on an inotify descriptor
// (no timer), which the runtime's poller wakes; the descriptor is closed
// when ctx ends, so a stream leaves nothing behind. Without inotify (none
// left: the user's limit is 128 by default) it polls, only while ctx lasts.
func watchDir(ctx context.Context, dir string) <-chan struct{} {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return pollDir(ctx)
	}
	mask := uint32(unix.IN_MODIFY | unix.IN_CREATE | unix.IN_MOVED_TO | unix.IN_MOVED_FROM | unix.IN_DELETE | unix.IN_CLOSE_WRITE | unix.IN_ATTRIB)
	if _, err := unix.InotifyAddWatch(fd, dir, mask); err != nil {
		unix.Close(fd)
		return pollDir(ctx)
	}
	// A non-blocking descriptor in an os.File is read through the poller:
	// Close wakes a pending Read.
	f := os.NewFile(uintptr(fd), "inotify")
	ch := make(chan struct{}, 1)
	go func() {
		<-ctx.Done()
		f.Close()
	}()
	go func() {
		buf := make([]byte, 16<<10)
		for {
			n, err := f.Read(buf)
			if err != nil || n <= 0 {
				return
			}
			select { // one pending wake-up is enough
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	return ch
}
