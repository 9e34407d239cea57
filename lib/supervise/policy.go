package supervise

import (
	"strconv"
	"time"

	"github.com/tetra-toolkit/tpm/lib/events"
	"github.com/tetra-toolkit/tpm/lib/spec"
	"github.com/tetra-toolkit/tpm/lib/state"
)

// Policies (SPEC §12): what may end a run besides the program itself.
//
// A watcher is started with each run and stopped when the run ends: the
// memory limit, the health check and the file watch (memory.go, health.go,
// watch.go) each watch the current run on a goroutine of their own and,
// when the run must go, send a verdict on s.verdicts; the supervisor's loop
// then ends the run and starts a new one (restart.go's rules). A watcher
// wakes only as often as its policy needs; a supervisor whose program sets
// none starts none, and uses no CPU while the program is quiet.
//
// The schedule (cron_restart) is the supervisor's own: it outlives the
// runs, so that a program that has ended (the nightly job) starts again at
// the next time.

// A verdict ends the current run: its event, and whether the restart
// policy decides what follows (a failed health check: as a failure) or the
// run is simply replaced (a memory limit, a changed file, the schedule).
type verdict struct {
	kind    string   // the event's kind (events.Memory, events.Health, events.Watch, events.Cron)
	kv      []string // its fields
	failure bool     // the end counts as a failure, for the restart policy
	state   string   // a state to record before the run goes ("" none: e.g. unhealthy)
	pid     int      // the run it is about: a verdict about an ended run is dropped
}

// A watcher watches one run for a policy.
type watcher interface{ stop() }

// watchers make the watchers a spec asks for; each is nil when its policy
// is not set. Registered by the policy files.
var watchers []func(s *sup, pid int) watcher

// startWatchers starts the watchers of the current run.
func (s *sup) startWatchers() {
	s.stopWatchers()
	for _, w := range watchers {
		if x := w(s, s.pid); x != nil {
			s.running = append(s.running, x)
		}
	}
}

// stopWatchers stops them (the run has ended, or is being replaced).
func (s *sup) stopWatchers() {
	for _, w := range s.running {
		w.stop()
	}
	s.running = nil
}

// judge sends a verdict to the loop; a watcher's goroutine calls it.
func (s *sup) judge(v verdict) {
	select {
	case s.verdicts <- v:
	default: // one is pending already: it will end the run
	}
}

// replace ends the current run for a verdict and starts the next: now, or
// (a failure) as the restart policy says. It returns the back-off before
// the next start, and whether the supervisor goes on.
func (s *sup) replace(v verdict) (time.Duration, bool) {
	s.event(v.kind, v.kv...)
	if v.state != "" {
		s.setState(v.state)
	}
	s.stopWatchers()
	o := s.terminate(s.stopSignal(""), s.spec.KillTimeout, nil)
	if v.failure {
		o.code, o.sig, o.unknown = 1, 0, false // a health failure: as a failed end
		return s.afterEnd(o)
	}
	s.restarts++
	s.record(o, state.Restarting, false)
	s.event(events.Restart, "delay", "0s", "count", itoa(s.restarts), "why", v.kind)
	return 0, true
}

// cronNext is when the schedule next fires, or nil without one.
func (s *sup) cronNext() <-chan time.Time {
	if s.spec.CronRestart == "" {
		return nil
	}
	sched, err := spec.CronParser.Parse(s.spec.CronRestart)
	if err != nil {
		return nil
	}
	return time.After(time.Until(sched.Next(time.Now())))
}

// waiting reports whether the supervisor stays once its program has ended
// for good: a schedule will start it again.
func (s *sup) waiting() bool { return s.spec.CronRestart != "" }

func itoa(n int) string { return strconv.Itoa(n) }
