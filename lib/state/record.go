package state

import (
	"errors"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetra-toolkit/tpm/lib/meta"
	"github.com/tetra-toolkit/tpm/lib/proc"
)

// The statuses of SPEC §4, and invalid for a meta file tpm cannot read.
const (
	Online     = "online"
	Launching  = "launching"
	Restarting = "restarting"
	Stopping   = "stopping"
	Stopped    = "stopped"
	Exited     = "exited"
	Errored    = "errored"
	Stale      = "stale"
	Invalid    = "invalid"
	// SPEC §12: alive, its token matching, but no supervisor runs for it
	// (adoption ends it); and failing its health check.
	Unsupervised = "unsupervised"
	Unhealthy    = "unhealthy"
)

// Statuses lists every status in the order of SPEC §4, then §12's.
var Statuses = []string{Online, Launching, Restarting, Stopping, Stopped, Exited, Errored, Stale, Invalid, Unsupervised, Unhealthy}

// Record is what the files of one process say about it, checked against what
// is really alive.
type Record struct {
	Name string
	// Meta is the parsed meta line; nil when the file is invalid.
	Meta *meta.Meta
	// Err says why the meta file is invalid.
	Err error
	// PidFile is set when pids/NAME.pid exists: the process is meant to run.
	PidFile bool
	// Prog is the program, valid when ProgAlive.
	Prog      proc.Info
	ProgAlive bool
	// SupAlive is set when the supervisor recorded in the meta is alive.
	SupAlive bool
	// Status is derived from all of the above (SPEC §4).
	Status string
}

// Fields of the meta line that tpm itself writes beyond the required ones
// (documented in the README).
const (
	KeyToken      = "token"       // start-time token of pid
	KeySupPid     = "sup_pid"     // the supervisor's pid
	KeySupToken   = "sup_token"   // and its token
	KeySupVersion = "sup_version" // the build of the supervisor (tpm-upgrade)
	KeyState      = "state"       // what the supervisor last recorded
	KeyRestarts   = "restarts"
	KeyExitCode   = "exit_code"
	KeyExitSig    = "exit_signal"
	KeyExitTime   = "exit_time"
	KeyInstance   = "instance"
	KeyCwd        = "cwd"
	KeyNodeEnv    = "node_env"
	KeyArgs       = "args"
	KeyInterp     = "interpreter"
	KeyInterpArg  = "interpreter_args"
)

// Load reads the record of name. A missing meta file is ErrNoProcess; an
// invalid one gives a record with status invalid and Err set.
func (t *Tree) Load(name string) (*Record, error) {
	data, err := readFile(t.Meta(name))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, NoProcess(name)
		}
		return &Record{Name: name, Err: err, Status: Invalid}, nil
	}
	r := t.record(name, data, t.HasPid(name))
	return r, nil
}

// LoadAll reads every record of the tree, sorted by name.
func (t *Tree) LoadAll() ([]*Record, error) {
	ns, err := t.Names()
	if err != nil {
		return nil, err
	}
	pids, err := t.namesIn(PidsDir, ".pid")
	if err != nil {
		return nil, err
	}
	hasPid := make(map[string]bool, len(pids))
	for _, n := range pids {
		hasPid[n] = true
	}
	// Reading a record is a few system calls; spread them over the CPUs.
	recs := make([]*Record, len(ns))
	Each(len(ns), func(i int) {
		n := ns[i]
		data, err := readFile(t.Meta(n))
		switch {
		case errors.Is(err, os.ErrNotExist): // removed since the listing
		case err != nil:
			recs[i] = &Record{Name: n, Err: err, Status: Invalid}
		default:
			recs[i] = t.record(n, data, hasPid[n])
		}
	})
	out := recs[:0]
	for _, r := range recs {
		if r != nil {
			out = append(out, r)
		}
	}
	return out, nil
}

func (t *Tree) record(name string, data []byte, pidFile bool) *Record {
	r := &Record{Name: name, PidFile: pidFile}
	m, err := ParseMetaFile(t.Meta(name), data)
	if err != nil {
		r.Err, r.Status = err, Invalid
		return r
	}
	r.Meta = m
	r.Prog, r.ProgAlive = proc.Alive(int(m.Int("pid")), m.Value(KeyToken), m.Int("start_time"))
	if sp := int(m.Int(KeySupPid)); sp > 0 {
		_, r.SupAlive = proc.Alive(sp, m.Value(KeySupToken), 0)
	}
	r.Status = derive(m.Value(KeyState), r.ProgAlive, r.SupAlive, pidFile)
	return r
}

// derive is the status table of SPEC §4: a record that says online about a
// dead process is never believed.
func derive(recorded string, progAlive, supAlive, pidFile bool) string {
	if supAlive {
		switch recorded {
		case Launching, Online:
			if !progAlive {
				// The program has just ended; its supervisor is deciding.
				return Restarting
			}
			return recorded
		case Restarting, Stopping, Stopped, Exited, Errored:
			return recorded
		case Unhealthy:
			if progAlive {
				return Unhealthy
			}
			return Restarting
		}
		if progAlive {
			return Online
		}
		return Launching
	}
	if progAlive {
		// The supervisor is gone (kill -9, or a record of the bash TPM) but
		// the program runs.
		return Unsupervised
	}
	if pidFile {
		return Stale
	}
	switch recorded {
	case Stopped, Exited, Errored:
		return recorded
	}
	return Stopped
}

// Alive reports whether anything of the record is alive: its program or its
// supervisor.
func (r *Record) Alive() bool { return r.ProgAlive || r.SupAlive }

// Uptime is how long the program has run, 0 when it does not.
func (r *Record) Uptime(now time.Time) time.Duration {
	if !r.ProgAlive {
		return 0
	}
	return max(now.Sub(r.Prog.Started()), 0)
}

// Each calls fn(0) ... fn(n-1) on up to one goroutine per CPU, one per 64
// items at the least, and returns when all are done: for work that is a
// few system calls per process (reading records, their last events).
func Each(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), max(n/64, 1))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
}
