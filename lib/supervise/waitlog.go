package supervise

import (
	"bytes"
	"os"
	"regexp"
	"sync/atomic"
	"time"

	"github.com/tetra-toolkit/tpm/lib/state"
)

// Readiness by a log line (wait_log, tpm-start --wait-log REGEX): a run is
// ready at the first line it writes, on stdout or stderr, that matches
// REGEX; until then the record says launching. At that moment the
// supervisor records it online (instead of after its first second), says
// "online" to a tpm-start --wait that listens, and a reload lets the run it
// replaces go. A line is what ends with a newline; one longer than
// maxReadyLine is matched on its first maxReadyLine bytes.
//
// The pumps look at the output only while a run waits for its line, so a
// program that is ready costs the logging path one atomic load per read.
// The two runs of a reload write to the same pipes: the new run's line is
// the first matching line after it started.

// maxReadyLine bounds what is kept of a line that comes in pieces.
const maxReadyLine = 4096

// readyLines is the supervisor's watch for the line.
type readyLines struct {
	re  atomic.Pointer[regexp.Regexp] // set while a run waits for its line
	gen atomic.Uint64                 // counts the runs armed: a piece of line from before is dropped
	ch  chan struct{}                 // a line matched; made by the first arm, before re is set

	// The loop's own.
	src      string
	compiled *regexp.Regexp

	// Each pump's own: the line in progress on stdout, and on stderr.
	part [2]partLine
}

type partLine struct {
	gen uint64
	b   []byte
}

// armReady makes the pumps look for the line of the run about to start. It
// runs on the loop, before the fork: the run's first line cannot come
// before.
func (s *sup) armReady() {
	l := &s.lines
	src := ""
	if s.spec != nil {
		src = s.spec.WaitLog
	}
	if src != l.src || l.compiled == nil {
		l.src, l.compiled = src, nil
		if src != "" {
			l.compiled, _ = regexp.Compile(src) // checked with the record: a bad one is no wait
		}
	}
	if l.compiled == nil {
		l.re.Store(nil)
		return
	}
	if l.ch == nil {
		l.ch = make(chan struct{}, 1)
	}
	select {
	case <-l.ch: // about an earlier run
	default:
	}
	l.gen.Add(1)
	l.re.Store(l.compiled)
}

// scanReady looks for the line in what a pump read from r.
func (s *sup) scanReady(r *os.File, b []byte) {
	re := s.lines.re.Load()
	if re == nil {
		return
	}
	p := &s.lines.part[0]
	if r != s.outR {
		p = &s.lines.part[1]
	}
	if g := s.lines.gen.Load(); p.gen != g {
		p.gen, p.b = g, p.b[:0]
	}
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			p.add(b)
			return
		}
		line := b[:i]
		b = b[i+1:]
		if len(p.b) > 0 {
			p.add(line)
			line = p.b
		}
		hit := re.Match(bytes.TrimSuffix(line, []byte("\r")))
		p.b = p.b[:0]
		if hit {
			if s.lines.re.CompareAndSwap(re, nil) {
				select {
				case s.lines.ch <- struct{}{}:
				default:
				}
			}
			return
		}
	}
}

func (p *partLine) add(b []byte) {
	if room := maxReadyLine - len(p.b); room > 0 {
		p.b = append(p.b, b[:min(len(b), room)]...)
	}
}

// onlineTimer is when a new run counts as online: after d, or, with
// wait_log, at its line (an adopted run printed it long ago: d).
func (s *sup) onlineTimer(d time.Duration) <-chan time.Time {
	if s.spec != nil && s.spec.WaitLog != "" && !s.adopted {
		return nil
	}
	return time.After(d)
}

// lineReady records the current run online once its line came, if it
// still waits for it, and tells tpm-start. It returns the loop's online
// timer: a retry when the record could not be written.
func (s *sup) lineReady(online <-chan time.Time) <-chan time.Time {
	if s.ended || !s.launching {
		return online
	}
	online = nil
	if s.setState(state.Online) != nil {
		online = time.After(time.Second)
	}
	s.tell("online")
	return online
}
