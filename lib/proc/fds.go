package proc

import (
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// CloseOnExecFrom marks every open descriptor numbered from or above n
// close-on-exec. Go opens its own files that way, but descriptors inherited
// from whoever started us are not: left alone they would reach the programs
// we start (a caller's pipe would then stay open, and its reader wait, for as
// long as the program runs).
func CloseOnExecFrom(n int) {
	dir := "/dev/fd"
	if runtime.GOOS == "linux" {
		dir = "/proc/self/fd"
	}
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	for _, name := range names {
		if fd, err := strconv.Atoi(name); err == nil && fd >= n {
			unix.CloseOnExec(fd)
		}
	}
}
