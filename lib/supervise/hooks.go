package supervise

// Hooks (on_event, SPEC §12): the supervisor runs the record's on_event
// command, `/bin/sh -c CMD`, when something happens to its program that
// someone may want to hear of: errored, exit, restart, memory, health and
// adopt events. Enough for a mail, a chat webhook with curl, or a pager.
//
// The rules:
//   - One happening, one hook. What tpm does on purpose runs none: a stop,
//     a reload, a watched file's change or the schedule (watch, cron) end
//     the run and start the next without a hook for that exit and restart;
//     memory and health run theirs (event memory or health), and the exit
//     and restart they cause run none. errored always runs one.
//   - It is the supervisor's child, in a process group of its own, stdin
//     /dev/null, in the program's folder (or / when that is gone), with the
//     program's saved environment and TPM_NAME, TPM_EVENT, TPM_EXIT_CODE,
//     TPM_EXIT_SIGNAL, TPM_RESTARTS, TPM_STATUS (what the event makes of the
//     process), TPM_PID (the run's) and TPM_EVENT_LINE (the event as
//     NAME.events has it, without the time) on top.
//   - It never affects the program: it runs beside the supervisor's loop,
//     which never waits for it, and its failure is only said.
//   - It is time-limited: 30 s (the record key on_event_timeout, a
//     duration, changes it), then KILL to its group. When it ends, what it
//     left running in its group is killed too.
//   - What it wrote (stdout and stderr, the first 4 KiB) and how it ended
//     go into NAME.events as one line: event=hook for=KIND code=N
//     took=D output='...' (or signal=KILL killed='...', or error='...').
//   - Hooks of one process never overlap: while one runs, the next event's
//     hook waits; one waits at most, the latest (an event between is
//     skipped, and a line says so).
//   - The command and its limit are read from the record at each event:
//     tpm-meta NAME on_event=... applies from the next one.
//   - At the supervisor's end (stopHooks) a hook still running gets a
//     moment more (5 s after the program's own end, for the errored or
//     exit hook that says so; 1 s after a stop, which must not be held up)
//     and is then killed, and a hook still waiting runs within that time
//     or not at all. Before an upgrade's exec, likewise with 1 s.
//   - Nothing costs anything while no hook runs: a hook is waited for in
//     its own goroutine, blocked in waitid and a read; its limit is one
//     timer.

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tetra-toolkit/tpm/lib/envfile"
	"github.com/tetra-toolkit/tpm/lib/events"
	"github.com/tetra-toolkit/tpm/lib/spec"
	"github.com/tetra-toolkit/tpm/lib/state"
)

// Bounds of a hook.
const (
	hookTimeout   = 30 * time.Second // its run, unless on_event_timeout says otherwise
	hookOutput    = 4 << 10          // what is kept of its output
	hookEndGrace  = 5 * time.Second  // at the supervisor's end, after the program's own
	hookStopGrace = time.Second      // at its end after a stop, and before an upgrade
	hookDrain     = time.Second      // for its output, once it has ended
)

// KeyHookTimeout is the record key that bounds a hook's run: a duration
// (5s, 2m; a bare number is seconds). Not a flag: few need it.
const KeyHookTimeout = "on_event_timeout"

// hookKinds are the events that run the hook.
var hookKinds = []string{events.Errored, events.Exit, events.Restart, events.Memory, events.Health, events.Adopt}

// hooks is a supervisor's hook state.
type hooks struct {
	mu      sync.Mutex
	running *hookRun  // nil when none runs
	pending *hookCall // the next one, waiting for running to end
	closing string    // why no hook starts any more ("" while they may)

	// The run's story, from its events.
	skipExit    bool   // the next exit is tpm's doing
	skipRestart bool   // and so are the restarts until the next start
	stopping    bool   // a stop is under way
	code, sig   string // how the run ended
}

// hookCall is one hook to run.
type hookCall struct {
	kind  string
	cmd   string
	env   []string
	dir   string
	limit time.Duration
}

// hookRun is a hook that runs.
type hookRun struct {
	call    *hookCall
	pid     int
	began   time.Time
	done    chan struct{} // closed once it is reaped and said
	mu      sync.Mutex
	reaped  bool   // its PID is no longer ours: never signal it again
	killed  string // why it was killed
	timer   *time.Timer
	pipe    *os.File      // its stdout and stderr
	read    chan struct{} // closed once the output is all read
	output  bytes.Buffer
	dropped int64
}

// hookState holds each supervisor's hooks (a process has one supervisor;
// tests may make more).
var (
	hookMu    sync.Mutex
	hookState = map[*sup]*hooks{}
)

func (s *sup) hooks() *hooks {
	hookMu.Lock()
	defer hookMu.Unlock()
	h := hookState[s]
	if h == nil {
		h = &hooks{}
		hookState[s] = h
	}
	return h
}

// hook follows the events of the program and runs the on_event command for
// those that call for it. s.event calls it for every event.
func (s *sup) hook(kind string, kv []string) {
	if kind == events.Upgrade && field(kv, "error") == "" && field(kv, "pid") == "" {
		// The old image is about to execute the new one, which knows
		// nothing of a hook: none may be left running.
		s.endHooks(hookStopGrace, "the supervisor was upgraded")
		return
	}
	h := s.hooks()
	h.mu.Lock()
	kind = h.follow(kind, kv)
	if kind == "" || h.closing != "" || s.evLog == nil {
		h.mu.Unlock()
		return
	}
	c := s.hookCall(kind, kv, h)
	if c == nil {
		h.mu.Unlock()
		return
	}
	var skipped *hookCall
	if h.running == nil {
		s.startHook(h, c)
	} else {
		skipped, h.pending = h.pending, c
	}
	running := h.running
	h.mu.Unlock()
	if skipped != nil {
		s.evLog.Write(events.Line(events.Hook, "for", skipped.kind,
			"skipped", "the hook for "+running.call.kind+" was running, and "+kind+" came next"))
	}
}

// follow reads the run's story from an event, and returns the kind of
// hook the event calls for, or "" for none: tpm's own doings (a stop, a
// reload, a watched change, the schedule, and the exit and restarts that a
// memory or health verdict causes) run none. h.mu is held.
func (h *hooks) follow(kind string, kv []string) string {
	switch kind {
	case events.Start:
		if field(kv, "reload") == "1" {
			h.skipExit = true // the run it replaces ends next
		} else {
			h.skipExit, h.skipRestart, h.stopping = false, false, false
			h.code, h.sig = "", ""
		}
	case events.Stop:
		h.skipExit, h.stopping = true, true
	case events.Watch, events.Cron:
		h.skipExit, h.skipRestart = true, true
	case events.Memory, events.Health:
		h.skipExit, h.skipRestart = true, true
		h.code, h.sig = "", ""
	case events.Exit:
		h.code, h.sig = field(kv, "code"), field(kv, "signal")
		if h.skipExit {
			h.skipExit = false
			return ""
		}
	case events.Restart:
		if h.skipRestart {
			return ""
		}
	}
	if !slices.Contains(hookKinds, kind) {
		return ""
	}
	return kind
}

// hookCall is the hook for an event, or nil when the process has none.
// The command is the record's as it is now: on_event set or removed with
// tpm-meta applies from the next event on.
func (s *sup) hookCall(kind string, kv []string, h *hooks) *hookCall {
	cmd, limit := s.spec.OnEvent, hookTimeout
	if m, err := s.tree.ReadMeta(s.name); err == nil {
		cmd = m.Value(spec.KeyOnEvent)
		if v := m.Value(KeyHookTimeout); v != "" {
			if d, err := spec.ParseDuration(v, time.Second); err == nil && d > 0 {
				limit = d
			}
		}
	}
	if strings.TrimSpace(cmd) == "" {
		return nil
	}
	env := slices.Clone(s.env)
	for _, v := range [][2]string{
		{"TPM_NAME", s.name},
		{"TPM_EVENT", kind},
		{"TPM_EXIT_CODE", h.code},
		{"TPM_EXIT_SIGNAL", h.sig},
		{"TPM_RESTARTS", strconv.Itoa(s.restarts)},
		{"TPM_STATUS", s.hookStatus(kind, kv)},
		{"TPM_PID", strconv.Itoa(s.pid)},
		{"TPM_EVENT_LINE", strings.TrimSuffix(string(events.Line(kind, kv...)), "\n")},
	} {
		env = envfile.Set(env, v[0], v[1])
	}
	dir := s.spec.Cwd
	if fi, err := os.Stat(dir); dir == "" || err != nil || !fi.IsDir() {
		dir = "/" // the hook may be what says the folder is gone
	}
	return &hookCall{kind: kind, cmd: cmd, env: env, dir: dir, limit: limit}
}

// hookStatus is the status the event leaves the process in, as tpm-ls
// shows it once the supervisor has recorded it.
func (s *sup) hookStatus(kind string, kv []string) string {
	switch kind {
	case events.Errored:
		return state.Errored
	case events.Restart, events.Memory:
		return state.Restarting
	case events.Health:
		return state.Unhealthy
	case events.Adopt:
		return state.Online
	}
	// An exit of the program's own: what the restart policy makes of it
	// (lifecycle.go, afterEnd and scheduleRestart).
	o := outcome{code: -1}
	switch code, sig := field(kv, "code"), field(kv, "signal"); {
	case code == "unknown":
		o.unknown = true
	case sig != "":
		if n, err := spec.ParseSignal(sig); err == nil {
			o.sig = n
		}
	default:
		o.code, _ = strconv.Atoi(code)
	}
	o.uptime, _ = time.ParseDuration(field(kv, "uptime"))
	if !s.wantRestart(o) {
		if !o.clean() && !slices.Contains(s.spec.StopExitCodes, o.code) {
			return state.Errored
		}
		return state.Exited
	}
	if _, over := nextQuick(s.spec, s.quick, o); over {
		return state.Errored
	}
	return state.Restarting
}

// field is the value of key in an event's key-value list.
func field(kv []string, key string) string {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i] == key {
			return kv[i+1]
		}
	}
	return ""
}

// startHook starts c; h.mu is held. A hook that cannot start is said at
// once, and the one waiting (if any) gets its turn.
func (s *sup) startHook(h *hooks, c *hookCall) {
	for c != nil {
		r, err := s.spawnHook(c)
		if err == nil {
			h.running = r
			go s.waitHook(h, r)
			return
		}
		s.evLog.Write(events.Line(events.Hook, "for", c.kind, "error", err.Error()))
		c, h.pending = h.pending, nil
	}
	h.running = nil
}

// spawnHook starts `/bin/sh -c CMD` in a process group of its own, its
// output into a pipe the supervisor reads.
func (s *sup) spawnHook(c *hookCall) (*hookRun, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer pw.Close()
	pid, err := syscall.ForkExec("/bin/sh", []string{"sh", "-c", c.cmd}, &syscall.ProcAttr{
		Dir:   c.dir,
		Env:   c.env,
		Files: []uintptr{s.null.Fd(), pw.Fd(), pw.Fd()},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	})
	if err != nil {
		pr.Close()
		return nil, err
	}
	r := &hookRun{call: c, pid: pid, began: time.Now(), done: make(chan struct{}), pipe: pr, read: make(chan struct{})}
	r.timer = time.AfterFunc(c.limit, func() { r.kill("after its time limit of " + spec.FormatDuration(c.limit)) })
	go r.readOutput()
	return r, nil
}

// readOutput keeps the first hookOutput bytes of the hook's output and
// reads (and drops) the rest, so that a talkative hook never blocks on its
// pipe.
func (r *hookRun) readOutput() {
	defer close(r.read)
	defer r.pipe.Close()
	buf := make([]byte, 4096)
	for {
		n, err := r.pipe.Read(buf)
		if n > 0 {
			r.mu.Lock()
			keep := min(n, hookOutput-r.output.Len())
			r.output.Write(buf[:keep])
			r.dropped += int64(n - keep)
			r.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// kill ends the hook and what runs in its group, unless it has been
// reaped already (its PID, and so its group ID, may then be another's).
func (r *hookRun) kill(why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reaped {
		return
	}
	if r.killed == "" {
		r.killed = why
	}
	syscall.Kill(-r.pid, syscall.SIGKILL)
}

// waitHook waits for the hook's end, clears its group, reaps it, says how
// it went, and starts the hook waiting, if any.
func (s *sup) waitHook(h *hooks, r *hookRun) {
	waitExited(r.pid) // not reaped: its group ID stays ours meanwhile
	r.mu.Lock()
	syscall.Kill(-r.pid, syscall.SIGKILL) // what it left behind in its group
	r.reaped = true
	r.mu.Unlock()
	r.timer.Stop()
	var ws syscall.WaitStatus
	for {
		if _, err := syscall.Wait4(r.pid, &ws, 0, nil); !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	took := time.Since(r.began)
	// Its group is gone; something that left it may hold the pipe: its
	// output is read until the end, or for hookDrain more.
	r.pipe.SetReadDeadline(time.Now().Add(hookDrain))
	<-r.read
	r.mu.Lock()
	killed, out, dropped := r.killed, strings.TrimSpace(r.output.String()), r.dropped
	r.mu.Unlock()
	kv := []string{"for", r.call.kind}
	switch {
	case ws.Signaled():
		kv = append(kv, "signal", spec.SignalName(ws.Signal()))
	default:
		kv = append(kv, "code", strconv.Itoa(ws.ExitStatus()))
	}
	kv = append(kv, "took", took.Round(time.Millisecond).String(), "killed", killed, "output", out)
	if dropped > 0 {
		kv = append(kv, "dropped", strconv.FormatInt(dropped, 10))
	}

	h.mu.Lock()
	s.evLog.Write(events.Line(events.Hook, kv...))
	next := h.pending
	h.pending, h.running = nil, nil
	if next != nil && h.closing != "" {
		s.evLog.Write(events.Line(events.Hook, "for", next.kind, "skipped", h.closing))
		next = nil
	}
	if next != nil {
		s.startHook(h, next)
	}
	h.mu.Unlock()
	close(r.done)
}

// endHooks is for the supervisor's end (and an upgrade's exec): the hook
// that runs gets up to grace to finish (and the one waiting, if any, its
// turn within it), then is killed, saying why. Nothing is left running.
func (s *sup) endHooks(grace time.Duration, why string) {
	hookMu.Lock()
	h := hookState[s]
	hookMu.Unlock()
	if h == nil {
		return
	}
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	for {
		h.mu.Lock()
		r := h.running
		h.mu.Unlock()
		if r == nil {
			break
		}
		select {
		case <-r.done:
			continue // the one waiting may have started
		case <-deadline.C:
		}
		// No hook starts any more; the one running now goes.
		h.mu.Lock()
		h.closing = why
		r = h.running
		h.mu.Unlock()
		if r != nil {
			r.kill(why)
			<-r.done
		}
		break
	}
	h.mu.Lock()
	h.closing = ""
	h.mu.Unlock()
}

// stopHooks is endHooks with the grace of the supervisor's end: longer after
// the program's own end (its errored or exit hook is the news), short after
// a stop. The supervisor calls it as it shuts down.
func (s *sup) stopHooks() {
	hookMu.Lock()
	h := hookState[s]
	hookMu.Unlock()
	if h == nil {
		return
	}
	h.mu.Lock()
	grace := hookEndGrace
	if h.stopping {
		grace = hookStopGrace
	}
	h.mu.Unlock()
	s.endHooks(grace, "the supervisor ended")
}
