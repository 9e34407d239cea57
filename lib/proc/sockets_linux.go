package proc

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ListenHolder finds the process that listens on TCP port p, reading
// /proc/net/tcp{,6} for the socket and /proc/*/fd for its owner. It returns
// 0 when it cannot tell (the owner belongs to another user, say).
func ListenHolder(p int) (pid int, comm string) {
	inodes := listening(p)
	if len(inodes) == 0 {
		return 0, ""
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/fd")
	for _, fd := range procs {
		if holds(fd, inodes) {
			dir := filepath.Dir(fd)
			pid, _ = strconv.Atoi(filepath.Base(dir))
			c, _ := os.ReadFile(filepath.Join(dir, "comm"))
			return pid, strings.TrimSpace(string(c))
		}
	}
	return 0, ""
}

// Listening reports whether one of pids holds a socket that listens on TCP
// port p: a new run of a program is ready once it does, even while another
// process (its previous run, a sibling instance) listens on the same port
// with SO_REUSEPORT.
func Listening(pids []int, p int) bool {
	inodes := listening(p)
	for _, pid := range pids {
		if len(inodes) > 0 && holds("/proc/"+strconv.Itoa(pid)+"/fd", inodes) {
			return true
		}
	}
	return false
}

// holds reports whether the fd folder of a process has one of the sockets.
func holds(fd string, inodes map[string]bool) bool {
	links, err := os.ReadDir(fd)
	if err != nil {
		return false
	}
	for _, l := range links {
		if target, err := os.Readlink(filepath.Join(fd, l.Name())); err == nil && inodes[target] {
			return true
		}
	}
	return false
}

// listening returns the sockets (as /proc/PID/fd links name them) that
// listen on TCP port p.
func listening(p int) map[string]bool {
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			// sl local_address rem_address st ... inode is field 9; st 0A is LISTEN.
			if len(fs) < 10 || fs[3] != "0A" {
				continue
			}
			i := strings.LastIndexByte(fs[1], ':')
			if n, err := strconv.ParseInt(fs[1][i+1:], 16, 32); err == nil && int(n) == p {
				inodes["socket:["+fs[9]+"]"] = true
			}
		}
		fh.Close()
	}
	return inodes
}
