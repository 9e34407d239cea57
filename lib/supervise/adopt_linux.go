package supervise

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// openHeldPipes opens, for reading, the output pipes of program pid: the
// read ends it holds on HoldOut and HoldErr, or, for a program that closed
// them, its stdout and stderr themselves when they are still pipes.
// Opening /proc/PID/fd/N makes a new description of the same pipe.
func openHeldPipes(pid int) (out, errp *os.File, err error) {
	out, err = openPipeOf(pid, HoldOut, 1)
	if err != nil {
		return nil, nil, err
	}
	errp, err = openPipeOf(pid, HoldErr, 2)
	if err != nil {
		out.Close()
		return nil, nil, err
	}
	return out, errp, nil
}

func openPipeOf(pid, held, std int) (*os.File, error) {
	for _, fd := range []int{held, std} {
		path := "/proc/" + strconv.Itoa(pid) + "/fd/" + strconv.Itoa(fd)
		var st unix.Stat_t
		if unix.Stat(path, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
			continue
		}
		// A pipe its stdout still writes to, when it is the held one: the
		// program may have sent its output elsewhere since.
		f, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("open its output pipe: %w", err)
		}
		return os.NewFile(uintptr(f), path), nil
	}
	return nil, errors.New("its output is not a pipe tpm can read (a program that closed its descriptors, or one tpm did not start)")
}

// writeEnds opens new write ends of the two pipes, for the runs the
// adopting supervisor will start itself.
func writeEnds(out, errp *os.File) (*os.File, *os.File, error) {
	ow, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(int(rawFd(out))), os.O_WRONLY, 0)
	if err != nil {
		return nil, nil, err
	}
	ew, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(int(rawFd(errp))), os.O_WRONLY, 0)
	if err != nil {
		ow.Close()
		return nil, nil, err
	}
	bigPipe(ow.Fd())
	bigPipe(ew.Fd())
	return ow, ew, nil
}

// takeSocket copies descriptor fd of process pid (pidfd_getfd: Linux 5.6,
// and ptrace rights over it), when it is a socket; nil otherwise.
func takeSocket(pid, fd int) *os.File {
	pfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil
	}
	defer unix.Close(pfd)
	nfd, err := unix.PidfdGetfd(pfd, fd, 0)
	if err != nil {
		return nil
	}
	var st unix.Stat_t
	if unix.Fstat(nfd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		unix.Close(nfd)
		return nil
	}
	return os.NewFile(uintptr(nfd), "listener")
}
