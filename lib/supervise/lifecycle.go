package supervise

import (
	"os"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/tetra-toolkit/tpm/lib/events"
	"github.com/tetra-toolkit/tpm/lib/meta"
	"github.com/tetra-toolkit/tpm/lib/proc"
	"github.com/tetra-toolkit/tpm/lib/spec"
	"github.com/tetra-toolkit/tpm/lib/state"
)

// outcome is how a run ended.
type outcome struct {
	code    int            // exit code, when not killed by a signal
	sig     syscall.Signal // the signal that killed it, or 0
	unknown bool           // an adopted program, whose end nobody can read
	uptime  time.Duration
}

// clean reports whether the end counts as success: exit 0, or death by TERM,
// INT, HUP or PIPE, as systemd counts them. The end of an adopted program
// is unknown, and counts as a failure.
func (o outcome) clean() bool {
	if o.unknown {
		return false
	}
	switch o.sig {
	case 0:
		return o.code == 0
	case syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGPIPE:
		return true
	}
	return false
}

// reap reaps the ended leader, clears what is left of its group (sig first,
// unless it is 0 because the group already had it), and returns how the run
// ended.
func (s *sup) reap(sig syscall.Signal, grace time.Duration) outcome {
	o := outcome{uptime: time.Since(s.started)}
	if s.adopted {
		o.unknown = true // not our child: init reaps it
	} else {
		ws := s.wait()
		if ws.Signaled() {
			o.sig = ws.Signal()
		} else {
			o.code = ws.ExitStatus()
		}
	}
	s.ended, s.reaped = true, true
	s.clearGroup(sig, grace)
	s.event(events.Exit, "pid", strconv.Itoa(s.pid), "code", o.codeField(), "signal", o.sigField(), "uptime", o.uptime.Round(time.Millisecond).String())
	return o
}

// codeField and sigField are the outcome as record fields: one of them is
// empty.
func (o outcome) codeField() string {
	switch {
	case o.unknown:
		return "unknown"
	case o.sig != 0:
		return ""
	}
	return strconv.Itoa(o.code)
}

func (o outcome) sigField() string {
	if o.sig == 0 {
		return ""
	}
	return spec.SignalName(o.sig)
}

// clearGroup ends the processes left in the program's group after its
// leader ended (a shell script's children, say): sig and CONT, a polled
// grace, then KILL. Left alone they would hold the program's port and make
// the next run fail. Which of them may be signalled is lib/proc's rule: the
// members of the group in the supervisor's session that started with or
// after the program, each checked again as it is signalled.
func (s *sup) clearGroup(sig syscall.Signal, grace time.Duration) {
	s.claim().ClearLeftovers(sig, grace)
}

// claim is what the supervisor may signal of the current run (lib/proc's
// rule): its own unreaped child and that child's group, in its session; or
// an adopted program, checked by its token, and its group in the session
// it was started in.
func (s *sup) claim() proc.Claim {
	return proc.Claim{PID: s.pid, Token: s.token, Start: s.started.Unix(), Session: s.session, Child: !s.reaped && !s.adopted}
}

func (s *sup) stopSignal(name string) syscall.Signal {
	if name == "" {
		name = s.spec.Signal
	}
	sig, err := spec.ParseSignal(name)
	if err != nil {
		return syscall.SIGTERM
	}
	return sig
}

// ended_ handles the program's own end: it records the outcome and applies
// the restart policy. It returns the delay before the next start, or
// again=false when the program stays down.
func (s *sup) ended_(err error) (time.Duration, bool) {
	s.stopWatchers()
	return s.afterEnd(s.reap(s.stopSignal(""), s.spec.KillTimeout))
}

// afterEnd records how a run ended and applies the restart policy.
func (s *sup) afterEnd(o outcome) (time.Duration, bool) {
	if !s.wantRestart(o) {
		if o.sig != 0 && o.clean() && s.takenDown(100*time.Millisecond) {
			// Killed by the same shutdown that is taking us down.
			s.record(o, state.Stopped, false)
			return 0, false
		}
		st := state.Exited
		if !o.clean() && !slices.Contains(s.spec.StopExitCodes, o.code) {
			st = state.Errored
		}
		s.record(o, st, true)
		return 0, false
	}
	return s.scheduleRestart(o)
}

// takenDown waits up to d for a TERM or INT of our own and reports whether
// one came: then the program's death by a signal was part of a shutdown.
func (s *sup) takenDown(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case sig := <-s.sigCh:
			if sig != syscall.SIGHUP {
				return true
			}
		case <-t.C:
			return false
		}
	}
}

func (s *sup) wantRestart(o outcome) bool { return wantRestart(s.spec, o) }

// wantRestart is the restart policy: no, on-failure (unless the end was
// clean), always; a stop exit code ends the program for good.
func wantRestart(p *spec.Spec, o outcome) bool {
	if o.sig == 0 && !o.unknown && slices.Contains(p.StopExitCodes, o.code) {
		return false
	}
	switch p.Restart {
	case spec.RestartAlways:
		return true
	case spec.RestartOnFailure:
		return !o.clean()
	}
	return false
}

// quickEnd reports whether a run's end counts toward the crash loop: it
// came within MinUptime of the start, and is not a clean quick end that is
// the program's way (a job started again by a fixed delay at least as long
// as the minimum uptime, or by a schedule).
func quickEnd(p *spec.Spec, o outcome) bool {
	if o.uptime >= p.MinUptime {
		return false
	}
	return !(o.clean() && (p.CronRestart != "" || p.RestartDelay > 0 && p.RestartDelay >= p.MinUptime))
}

// nextQuick is the count of quick ends in a row after o, and whether the
// crash loop is over its limit (errored: MaxRestarts 3 means 4 runs).
func nextQuick(p *spec.Spec, quick int, o outcome) (int, bool) {
	if !quickEnd(p, o) {
		return 0, false
	}
	return quick + 1, quick+1 > p.MaxRestarts
}

// scheduleRestart counts the run against the crash-loop window and returns
// the back-off delay, or gives up (errored) after MaxRestarts quick ends in a
// row. The window moves with each start: a program that runs for a day and
// then starts failing at once is caught like one that fails from the start.
func (s *sup) scheduleRestart(o outcome) (time.Duration, bool) {
	var over bool
	s.quick, over = nextQuick(s.spec, s.quick, o)
	if over {
		s.event(events.Errored, "restarts", strconv.Itoa(s.restarts), "why", "it failed "+strconv.Itoa(s.quick)+" times in a row within "+s.spec.MinUptime.String()+" of its start")
		s.record(o, state.Errored, true)
		return 0, false
	}
	s.restarts++
	s.record(o, state.Restarting, false)
	d := s.delay()
	s.event(events.Restart, "delay", d.String(), "count", strconv.Itoa(s.restarts))
	return d, true
}

// failedStart is scheduleRestart for a restart whose exec failed (the
// script was removed, say): it counts as a quick failure.
func (s *sup) failedStart(err error) (time.Duration, bool) {
	s.quick++
	if s.quick > s.spec.MaxRestarts {
		s.event(events.Errored, "restarts", strconv.Itoa(s.restarts), "why", err.Error())
		if !s.waiting() {
			s.drainLogs()
		}
		s.editMeta(func(m *meta.Meta) {
			m.Set(state.KeyState, state.Errored)
			m.Set(keyError, err.Error())
		})
		s.writePid(false)
		return 0, false
	}
	s.restarts++
	s.editMeta(func(m *meta.Meta) {
		m.Set(state.KeyState, state.Restarting)
		m.SetInt(state.KeyRestarts, int64(s.restarts))
		m.Set(keyError, err.Error())
	})
	d := s.delay()
	s.event(events.Restart, "delay", d.String(), "count", strconv.Itoa(s.restarts), "error", err.Error())
	return d, true
}

// delay is the wait before the next start: the fixed restart delay when one
// is set, else Backoff doubled for each quick failure in a row, up to
// MaxBackoff.
func (s *sup) delay() time.Duration { return backoff(s.spec, s.quick) }

// backoff is the wait before the next start after quick quick ends in a
// row: the fixed restart delay when one is set, else Backoff doubled for
// each one past the first, up to MaxBackoff.
func backoff(p *spec.Spec, quick int) time.Duration {
	if p.RestartDelay > 0 {
		return p.RestartDelay
	}
	d := p.Backoff
	for i := 1; i < quick && d < spec.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, spec.MaxBackoff)
}

// record writes the outcome of a run and the new state. Unless keepPid, a
// state in which the program is no longer meant to run removes the pid file.
func (s *sup) record(o outcome, st string, removePid bool) {
	if st != state.Restarting && !s.waiting() {
		s.drainLogs() // final: the whole output is in the log before the record says so
	}
	if removePid {
		s.writePid(false)
	}
	s.editMeta(func(m *meta.Meta) {
		m.Set(state.KeyState, st)
		m.SetInt(state.KeyRestarts, int64(s.restarts))
		m.Del(state.KeyExitCode)
		m.Del(state.KeyExitSig)
		if o.sig != 0 {
			m.Set(state.KeyExitSig, spec.SignalName(o.sig))
		} else {
			m.Set(state.KeyExitCode, o.codeField())
		}
		m.SetInt(state.KeyExitTime, time.Now().Unix())
	})
	// tpm-start --wait may be listening: the program did not make it.
	s.tell("ended " + describe(o))
}

func describe(o outcome) string {
	if o.sig != 0 {
		return "signal " + spec.SignalName(o.sig)
	}
	return "code " + strconv.Itoa(o.code)
}

// stop takes the program down on request: the signal and CONT to the whole
// group (the leader is not reaped yet, so the group ID is still the
// program's), the grace, KILL to the group, then the leader reaped and any
// leftover cleared. removePid is false when the supervisor itself is being
// taken down: the process is then meant to run again.
func (s *sup) stop(r request, removePid bool) {
	grace := s.spec.KillTimeout
	if r.timeout >= 0 {
		grace = r.timeout
	}
	s.stopWatchers()
	if s.ended {
		// Between two runs: nothing runs, nothing to signal.
		s.drainLogs()
		if removePid {
			s.writePid(false)
		}
		s.editMeta(func(m *meta.Meta) { m.Set(state.KeyState, state.Stopped) })
		return
	}
	sig := s.stopSignal(r.sig)
	if grace <= 0 {
		sig = syscall.SIGKILL // no grace at all: KILL at once
	}
	by := "request"
	if !removePid {
		by = "shutdown"
	}
	s.event(events.Stop, "signal", spec.SignalName(sig), "grace", grace.String(), "by", by)
	o := s.terminate(sig, grace, func() { s.setState(state.Stopping) })
	s.record(o, state.Stopped, removePid)
}

// terminate ends the current run: sig and CONT to its whole group (the
// leader is not reaped yet, so the group ID is still the program's), up to
// grace for it to end, KILL to the group, then the leader reaped and any
// leftover cleared. slow runs once the run has taken stoppingAfter.
func (s *sup) terminate(sig syscall.Signal, grace time.Duration, slow func()) outcome {
	c := s.claim()
	c.SignalGroup(sig)
	c.SignalGroup(syscall.SIGCONT)
	deadline := time.Now().Add(grace)
	// Most programs end at once; record "stopping" only for those that take
	// their time, and spare the quick stop a write.
	quick := time.NewTimer(min(stoppingAfter, grace))
	defer quick.Stop()
	killed := time.NewTimer(grace)
	defer killed.Stop()
wait:
	for {
		select {
		case <-s.exitCh:
			break wait
		case <-quick.C:
			if slow != nil {
				slow()
			}
		case <-killed.C:
			c.SignalGroup(syscall.SIGKILL)
			<-s.exitCh
			break wait
		}
	}
	// The whole group had the signal already: a second one would read as
	// "force quit" to many programs. What is left gets the rest of the
	// grace, then KILL.
	return s.reap(0, max(time.Until(deadline), 0))
}

// stoppingAfter is how long a stop runs before the record says "stopping".
const stoppingAfter = 50 * time.Millisecond

// shutdown ends the supervisor: the last output written, the control FIFO
// removed.
func (s *sup) shutdown() {
	s.closeStatus()
	s.drainLogs()
	s.closeListener()
	s.stopHooks()
	if s.evLog != nil {
		s.evLog.Close()
		s.evLog = nil
	}
	if s.ctl != nil {
		os.Remove(s.tree.Ctl(s.name, s.self.PID))
		s.ctl.Close()
		s.ctl = nil
	}
}

// drainLogs closes the supervisor's ends of the pipes and waits for the
// pumps to write what is left in them, then closes the logs. It runs before
// a final state is recorded, so that whoever sees "exited" finds the whole
// output in the log.
//
// The pumps end at EOF. A process that left the group may hold the pipes
// open, and even keep writing: then the supervisor gives up once nothing has
// come through for a moment (a pump busy in a slow write counts as coming
// through), or after drainLimit in any case, and says so in the log.
func (s *sup) drainLogs() {
	if s.outW == nil {
		return
	}
	s.outW.Close()
	s.errW.Close()
	s.outW, s.errW = nil, nil
	limit := time.After(max(drainLimit, s.spec.KillTimeout))
	last := int64(-1)
	gaveUp := false
	for pending := 2; pending > 0 && !gaveUp; {
		select {
		case <-s.pumps:
			pending--
		case <-time.After(200 * time.Millisecond):
			n := s.pumped.Load()
			if n == last && s.writing.Load() == 0 {
				gaveUp = true
			}
			last = n
		case <-limit:
			gaveUp = true
		}
	}
	if gaveUp {
		// The pumps may still be inside a write; Note waits for them.
		s.errLog.Note("stopped reading the output of processes that left the program's process group")
	}
	s.outLog.Close()
	s.errLog.Close()
}

// drainLimit bounds the wait for the last output at the end.
const drainLimit = 3 * time.Second

// reloadPolicy takes the policy fields of the record again (SPEC §12, live
// policy): `tpm-meta NAME restart=no` applies from the program's next end
// on, without a restart. It runs when the program ends and on HUP. A record
// whose policy does not parse (written by hand: tpm-meta refuses bad
// values) leaves the policy in force, and an event says why. What the
// program is (script, arguments, folder, port) is not a policy: it changes
// with a start from the record, never under a running supervisor.
func (s *sup) reloadPolicy() {
	m, err := s.tree.ReadMeta(s.name)
	if err != nil {
		return // no record to read: keep what we have
	}
	n, err := spec.FromMeta(s.name, m)
	if err != nil {
		if err.Error() != s.badPolicy {
			s.event(events.Policy, "error", err.Error(), "kept", "the policy in force")
		}
		s.badPolicy = err.Error()
		return
	}
	s.badPolicy = ""
	p := s.spec
	p.Restart, p.MaxRestarts, p.MinUptime = n.Restart, n.MaxRestarts, n.MinUptime
	p.RestartDelay, p.Backoff, p.StopExitCodes = n.RestartDelay, n.Backoff, n.StopExitCodes
	p.KillTimeout, p.Signal = n.KillTimeout, n.Signal
	p.Policy = n.Policy
}
