package supervise

import (
	"strconv"
	"sync"
	"time"

	"github.com/tetra-toolkit/tpm/lib/events"
	"github.com/tetra-toolkit/tpm/lib/proc"
)

// The memory limit (max_memory, tpm-start --max-memory SIZE): once the
// program's whole process group uses more resident memory than SIZE,
// summed as tpm-ls sums it, the run is replaced (event memory, with the
// size seen and the limit). That is no failure of the program's: the
// restart policy is not asked, and the crash-loop count does not grow.
//
// The check is periodic, every memoryEvery, and made only by a supervisor
// whose program sets a limit; it reads the group's members, not every
// process (lib/proc GroupMeter). Linux can tell of a group passing a limit
// without polling (a cgroup v2 memory.high, with inotify on memory.events),
// but only to a process that may create cgroups: a delegated subtree, such
// as systemd gives a service with Delegate=yes, which a supervisor started
// from a shell does not have. macOS does not tell a process's memory
// without cgo: there the limit is not enforced, and an event says so.

// memoryEvery is how often a supervisor whose program has a memory limit
// measures its group: each check costs some tens of microseconds of CPU,
// and a full scan of the processes every proc.FullScanEvery checks (once a
// minute) a millisecond or so.
const memoryEvery = 2 * time.Second

func init() { watchers = append(watchers, newMemoryWatch) }

// memoryWatch measures one run's group until it passes the limit.
type memoryWatch struct {
	quit, done chan struct{}
}

// noMemory says once per supervisor that the limit cannot be enforced.
var noMemory sync.Once

func newMemoryWatch(s *sup, pid int) watcher {
	limit := s.spec.MaxMemory
	if limit <= 0 || pid <= 0 {
		return nil
	}
	if !proc.MeasuresMemory {
		noMemory.Do(func() { s.event(events.Policy, "error", "max_memory: "+proc.ErrNoMemory.Error(), "kept", "no limit") })
		return nil
	}
	w := &memoryWatch{quit: make(chan struct{}), done: make(chan struct{})}
	go w.run(s, pid, proc.NewGroupMeter(pid), limit)
	return w
}

func (w *memoryWatch) run(s *sup, pid int, m *proc.GroupMeter, limit int64) {
	defer close(w.done)
	t := time.NewTicker(memoryEvery)
	defer t.Stop()
	var tidy tidier
	for {
		select {
		case <-w.quit:
			return
		case <-t.C:
		}
		u, err := m.Measure()
		tidy.after()
		if err != nil || u.RSS <= limit {
			continue
		}
		s.judge(verdict{kind: events.Memory, pid: pid, kv: []string{
			"rss", strconv.FormatInt(u.RSS, 10), "limit", strconv.FormatInt(limit, 10), "processes", strconv.Itoa(u.N)}})
		return
	}
}

func (w *memoryWatch) stop() {
	close(w.quit)
	<-w.done
}

// A tidier gives back, at most once every tidyEvery, what a watcher's
// checks left on the heap (see settle): a check leaves a little garbage,
// and the runtime would let it grow to 4 MiB before collecting, and then
// keep the pages.
type tidier struct{ last time.Time }

const tidyEvery = time.Minute

func (t *tidier) after() {
	if now := time.Now(); now.Sub(t.last) >= tidyEvery {
		t.last = now
		settle()
	}
}
