package listen

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Holder finds the process that listens on TCP port p, reading
// /proc/net/tcp{,6} for the socket and /proc/*/fd for its owner. It returns
// 0 when it cannot tell (the owner belongs to another user, say).
func Holder(p int) (pid int, comm string) {
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
	if len(inodes) == 0 {
		return 0, ""
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/fd")
	for _, fd := range procs {
		links, err := os.ReadDir(fd)
		if err != nil {
			continue
		}
		for _, l := range links {
			if target, err := os.Readlink(filepath.Join(fd, l.Name())); err == nil && inodes[target] {
				dir := filepath.Dir(fd)
				pid, _ = strconv.Atoi(filepath.Base(dir))
				c, _ := os.ReadFile(filepath.Join(dir, "comm"))
				return pid, strings.TrimSpace(string(c))
			}
		}
	}
	return 0, ""
}
