package proc

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// Linux: a member's /proc/PID/stat, and the children each of its threads
// forked (/proc/PID/task/TID/children), are read into the meter's own
// buffers. A check every few seconds must leave next to no garbage: a
// supervisor's heap is collected only once it has grown to 4 MiB, and the
// runtime keeps the pages it grew into.

// MeasuresMemory tells whether Measure sees resident memory here.
const MeasuresMemory = true

// member is what the meter reads of one process.
type member struct {
	pgid    int
	zombie  bool
	threads int
	cpu     time.Duration
	rss     int64
}

// Measure sums the CPU and resident memory of the group's live members
// now. A leader that has ended (or is a zombie) measures nothing: its run
// is over.
func (g *GroupMeter) Measure() (Usage, error) {
	var u Usage
	leader, ok := g.read(g.pgid)
	if !ok || leader.zombie {
		return u, nil
	}
	if leader.pgid != g.pgid {
		// It left the group it was started in: it alone, as tpm-ls counts it.
		return Usage{CPU: leader.cpu, RSS: leader.rss, N: 1}, nil
	}
	if g.seen == nil {
		g.seen = map[int]bool{}
	}
	if g.since >= FullScanEvery {
		return g.fullScan()
	}
	g.since++
	clear(g.seen)
	g.queue = append(g.queue[:0], g.pgid)
	for pid := range g.members {
		g.queue = append(g.queue, pid)
	}
	for len(g.queue) > 0 {
		pid := g.queue[len(g.queue)-1]
		g.queue = g.queue[:len(g.queue)-1]
		if g.seen[pid] {
			continue
		}
		g.seen[pid] = true
		in := leader
		if pid != g.pgid {
			if in, ok = g.read(pid); !ok || in.zombie || in.pgid != g.pgid {
				delete(g.members, pid)
				continue
			}
		}
		g.members[pid] = true
		u.CPU += in.cpu
		u.RSS += in.rss
		u.N++
		g.children(pid, in.threads)
	}
	return u, nil
}

// fullScan reads every process, and learns the group's members anew.
func (g *GroupMeter) fullScan() (Usage, error) {
	g.since = 1
	pids, err := g.list("/proc")
	if err != nil {
		return Usage{}, err
	}
	clear(g.members)
	var u Usage
	for _, pid := range pids {
		in, ok := g.read(pid)
		if !ok || in.pgid != g.pgid || in.zombie {
			continue
		}
		g.members[pid] = true
		u.CPU += in.cpu
		u.RSS += in.rss
		u.N++
	}
	return u, nil
}

// read reads /proc/PID/stat; ok is false for a process that is gone.
func (g *GroupMeter) read(pid int) (member, bool) {
	g.path = strconv.AppendInt(append(g.path[:0], "/proc/"...), int64(pid), 10)
	g.path = append(g.path, "/stat"...)
	b, ok := g.file()
	if !ok {
		return member{}, false
	}
	return parseMember(b)
}

// parseMember reads the fields the meter needs from a stat line, without
// allocating. The command name (field 2) may hold spaces and ')': fields
// are counted from the last ')'.
func parseMember(b []byte) (member, bool) {
	r := bytes.LastIndexByte(b, ')')
	if r < 0 {
		return member{}, false
	}
	var m member
	var ticks int64
	field := 2
	for rest := b[r+1:]; len(rest) > 0; {
		rest = bytes.TrimLeft(rest, " ")
		end := bytes.IndexAny(rest, " \n")
		if end < 0 {
			end = len(rest)
		}
		f := rest[:end]
		rest = rest[end:]
		if len(f) == 0 {
			break
		}
		field++
		switch field {
		case 3:
			m.zombie = f[0] == 'Z' || f[0] == 'X'
		case 5:
			m.pgid = int(number(f))
		case 14, 15, 16, 17:
			ticks += number(f)
		case 20:
			m.threads = int(number(f))
		case 24:
			m.rss = number(f) * pageSize
		}
		if field == 24 {
			m.cpu = time.Duration(ticks) * time.Second / clockTicks
			return m, true
		}
	}
	return member{}, false
}

// number reads a decimal integer, 0 when it is not one.
func number(f []byte) int64 {
	neg := len(f) > 0 && f[0] == '-'
	if neg {
		f = f[1:]
	}
	var n int64
	for _, c := range f {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		return -n
	}
	return n
}

// children queues the children of pid: each thread has its own list of the
// children it forked.
func (g *GroupMeter) children(pid, threads int) {
	g.dir = strconv.AppendInt(append(g.dir[:0], "/proc/"...), int64(pid), 10)
	g.dir = append(g.dir, "/task/"...)
	tids := g.ids[:0]
	if threads <= 1 {
		tids = append(tids, pid)
	} else {
		var err error
		if tids, err = g.list(string(g.dir)); err != nil {
			return
		}
	}
	g.ids = tids
	for _, tid := range tids {
		g.path = strconv.AppendInt(append(g.path[:0], g.dir...), int64(tid), 10)
		g.path = append(g.path, "/children"...)
		b, ok := g.file()
		if !ok {
			continue
		}
		for _, f := range bytes.Fields(b) {
			if n := number(f); n > 0 {
				g.queue = append(g.queue, int(n))
			}
		}
	}
}

// file reads the file at g.path whole into g.buf.
func (g *GroupMeter) file() ([]byte, bool) {
	fd, err := unix.Open(string(g.path), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	defer unix.Close(fd)
	if g.buf == nil {
		g.buf = make([]byte, 0, 4096)
	}
	b := g.buf[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // many children: grow, and keep it
		}
		n, err := unix.Read(fd, b[len(b):cap(b)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			g.buf = b
			return nil, false
		}
		if n == 0 {
			g.buf = b
			return b, true
		}
		b = b[:len(b)+n]
	}
}

// list returns the numeric names in a directory (PIDs in /proc, TIDs in
// /proc/PID/task), in g.ids.
func (g *GroupMeter) list(dir string) ([]int, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	if g.dents == nil {
		g.dents = make([]byte, 8192)
	}
	ids := g.ids[:0]
	for {
		n, err := unix.Getdents(fd, g.dents)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			break
		}
		// struct linux_dirent64: ino (8), off (8), reclen (2), type (1),
		// name (NUL-terminated).
		for b := g.dents[:n]; len(b) >= 19; {
			reclen := int(binary.NativeEndian.Uint16(b[16:18]))
			if reclen < 19 || reclen > len(b) {
				break
			}
			name := b[19:reclen]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			if id := number(name); id > 0 {
				ids = append(ids, int(id))
			}
			b = b[reclen:]
		}
	}
	g.ids = ids
	return ids, nil
}
