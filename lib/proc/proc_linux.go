package proc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Linux reports times in clock ticks of USER_HZ, which is 100 on every
// architecture Go supports (sysconf(_SC_CLK_TCK) cannot be asked without cgo).
const clockTicks = 100

var pageSize = int64(os.Getpagesize())

// bootID is the first 8 hex digits of this boot's id: with it, a token
// cannot match a process of an earlier boot that had the same PID and start
// ticks.
var bootID = sync.OnceValue(func() string {
	var buf [64]byte
	if b, err := readSmall("/proc/sys/kernel/random/boot_id", buf[:]); err == nil {
		h := bytes.ReplaceAll(bytes.TrimSpace(b), []byte("-"), nil)
		if len(h) >= 8 {
			return string(h[:8])
		}
	}
	return "0"
})

// bootTime is when the system booted; start ticks count from it.
var bootTime = sync.OnceValue(func() time.Time {
	var btime time.Time
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		if i := bytes.Index(b, []byte("\nbtime ")); i >= 0 {
			line := b[i+7:]
			if j := bytes.IndexByte(line, '\n'); j >= 0 {
				line = line[:j]
			}
			if n, err := strconv.ParseInt(string(line), 10, 64); err == nil {
				btime = time.Unix(n, 0)
			}
		}
	}
	return btime
})

// Started is when the process started (wall clock).
func (in Info) Started() time.Time {
	return bootTime().Add(time.Duration(in.start) * time.Second / clockTicks)
}

// Stat reads /proc/PID/stat.
func Stat(pid int) (Info, error) {
	var buf [1024]byte
	b, err := readSmall("/proc/"+strconv.Itoa(pid)+"/stat", buf[:])
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
			return Info{}, ErrGone
		}
		return Info{}, err
	}
	return parseStat(pid, b)
}

func readSmall(path string, buf []byte) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	n, err := unix.Read(fd, buf)
	if err != nil {
		return nil, &os.PathError{Op: "read", Path: path, Err: err}
	}
	return buf[:n], nil
}

// parseStat parses a /proc/PID/stat line. The command name (field 2) is in
// parentheses and may itself hold spaces and ')', so the fields are counted
// from the last ')'.
func parseStat(pid int, b []byte) (Info, error) {
	r := bytes.LastIndexByte(b, ')')
	if r < 0 || r+2 > len(b) {
		return Info{}, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	f := bytes.Fields(b[r+1:])
	// f[0] is field 3 (state); field N is f[N-3].
	if len(f) < 22 {
		return Info{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	num := func(field int) int64 {
		n, _ := strconv.ParseInt(string(f[field-3]), 10, 64)
		return n
	}
	start := num(22)
	ticks := num(14) + num(15) + num(16) + num(17)
	return Info{
		PID:    pid,
		PPID:   int(num(4)),
		PGID:   int(num(5)),
		SID:    int(num(6)),
		Token:  strconv.FormatInt(start, 10) + "@" + bootID(),
		start:  start,
		Zombie: len(f[0]) == 1 && (f[0][0] == 'Z' || f[0][0] == 'X'),
		CPU:    time.Duration(ticks) * time.Second / clockTicks,
		RSS:    num(24) * pageSize,
	}, nil
}

// All reads every process of /proc.
func All() ([]Info, error) {
	d, err := os.Open("/proc")
	if err != nil {
		return nil, err
	}
	defer d.Close()
	ents, err := d.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	out := make([]Info, 0, len(ents))
	for _, e := range ents {
		if e[0] < '0' || e[0] > '9' {
			continue
		}
		pid, err := strconv.Atoi(e)
		if err != nil {
			continue
		}
		if in, err := Stat(pid); err == nil {
			out = append(out, in)
		}
	}
	return out, nil
}

// WaitGone waits until pid, if it is still ours, has ended or the timeout
// passes, and reports whether it ended. It sleeps in poll(2) on a pidfd: no
// polling loop.
func WaitGone(pid int, token string, startUnix int64, timeout time.Duration) bool {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			return true
		}
		return waitGonePolling(pid, token, startUnix, timeout)
	}
	defer unix.Close(fd)
	if _, ok := Alive(pid, token, startUnix); !ok {
		return true
	}
	deadline := time.Now().Add(timeout)
	for {
		ms := int(time.Until(deadline) / time.Millisecond)
		if ms < 0 {
			return false
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, ms)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return waitGonePolling(pid, token, startUnix, time.Until(deadline))
		}
		if n > 0 {
			return true
		}
	}
}

// BootTime is when the system booted.
func BootTime() time.Time { return bootTime() }

// tokenStart is when the process a token was taken from started, if the
// token is of this boot.
func tokenStart(token string) (time.Time, bool) {
	ticks, boot, ok := strings.Cut(token, "@")
	if !ok || boot != bootID() {
		return time.Time{}, false
	}
	n, err := strconv.ParseInt(ticks, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return bootTime().Add(time.Duration(n) * time.Second / clockTicks), true
}
