// Package supervise is tpm-supervise: the one small supervisor each program
// has (SPEC §6), in the spirit of runit's runsv and s6's s6-supervise.
//
// tpm-start runs it in a new session, with /dev/null for stdout and stderr
// and a socket for stdin, before it knows what to run (see handoff.go); it
// then receives NAME's run lock, already held (the program inherits it), and
// the process's meta line.
//
// The rules it keeps:
//   - it is the program's parent, so the program's PID cannot be reused under
//     it; it observes the program's end without reaping it until the whole
//     process group is gone, so the group ID cannot be reused either: every
//     signal it sends goes to processes that are provably its own;
//   - it writes the pid file and the meta line only once the program runs,
//     then tells tpm-start "started PID TOKEN", or "failed CODE MESSAGE";
//   - it holds the program's stdout and stderr pipes for its whole life, so
//     a restart loses no output, and it writes them to the logs itself;
//   - it sleeps in blocking reads and waits: no polling while the program is
//     quiet;
//   - it takes requests on its own control FIFO, run/NAME.PID.ctl: "stop
//     [SIGNAL|- [TIMEOUT_MS|-]]" and "ready";
//   - it holds NAME's run lock for its whole life; its program does not
//     inherit it, nor any signal disposition or mask of the supervisor's
//     (sigstate.go);
//   - TERM or INT to the supervisor itself (a shutdown, a logout) take the
//     program down but keep the pid file, so the process shows as stale and
//     `tpm-start --stale` brings it back; HUP reopens the log files.
package supervise

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tetra-toolkit/tpm/lib/envfile"
	"github.com/tetra-toolkit/tpm/lib/events"
	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/logfile"
	"github.com/tetra-toolkit/tpm/lib/meta"
	"github.com/tetra-toolkit/tpm/lib/proc"
	"github.com/tetra-toolkit/tpm/lib/spec"
	"github.com/tetra-toolkit/tpm/lib/state"
)

// settle gives back to the system the memory that starts and ends of the
// program left behind, once the supervisor waits: for a back-off, or with
// the program online. Each start and end makes garbage (the environment
// copied for exec, records read and written), and the runtime collects
// only once its heap has grown to 4 MiB, then keeps the pages: a supervisor
// of a program that crashed 300 times held 7 MiB instead of 3. A collection
// costs about a millisecond, so it runs only when the heap holds more than
// settleAbove.
func settle() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.HeapSys-ms.HeapReleased > settleAbove {
		debug.FreeOSMemory()
	}
}

const settleAbove = 1 << 20

// onlineAfter is how long a program must run to count as online.
const onlineAfter = time.Second

// keyError holds why the program could not be started.
const keyError = "error"

type sup struct {
	tree   *state.Tree
	name   string
	spec   *spec.Spec
	first  *meta.Meta // the line tpm-start gave, written at the first start
	env    []string
	hold   time.Duration // how long the first run may stay launching
	self   proc.Info
	lock   *os.File
	status *os.File

	outLog, errLog *logfile.Writer
	evLog          *logfile.Writer // logs/NAME.events
	outW, errW     *os.File        // the program's stdout and stderr
	outR, errR     *os.File        // their other ends, read by the pumps, and held by each program (HoldOut, HoldErr)
	pumps          chan bool       // a pump ended: true at EOF, false paused (for an upgrade)
	pumped         atomic.Int64    // bytes read from the pipes, to tell a working pump from an idle one
	writing        atomic.Int32    // pumps inside a log write (which a slow disk can make long)

	listener *os.File // --listen: the socket on PORT, for every run

	ctl     *os.File
	ctlCh   chan request
	ctlLeft chan []byte // what the control reader held when it stopped
	sigCh   chan os.Signal

	null *os.File // /dev/null, the program's stdin

	// The current run.
	pid     int
	token   string
	started time.Time
	exitCh  chan error
	ended   bool // the program has ended (and may be a zombie)
	reaped  bool // and has been reaped: its PID is no longer ours
	adopted bool // the run is one this supervisor adopted, not its child
	adopt   bool // the handoff asks for adoption, not a start
	session int  // the session the run's group is in

	quick     int // failures in a row, each within MinUptime of its start
	restarts  int
	launching bool         // the run is not yet recorded online
	verdicts  chan verdict // from the policies' watchers (policy.go)
	running   []watcher
	badPolicy string // why the record's policy was last refused

	// Records that could not be written (a full disk), for catchUp.
	behind    []func(*meta.Meta)
	pidBehind bool

	lines readyLines // wait_log: the pumps look for the ready line (waitlog.go)
}

type request struct {
	kind    string
	sig     string
	timeout time.Duration // the grace before KILL; negative: the program's own
	path    string        // upgrade: the new binary
	reply   string        // upgrade: the FIFO to answer on
}

// Main runs the supervisor and returns its exit status.
func Main() int {
	if len(os.Args) == 2 && os.Args[1] == "--version" {
		fmt.Println(Version())
		return 0
	}
	if st := os.Getenv(resumeEnv); st != "" {
		// An older image of this supervisor executed us: go on where it was.
		os.Unsetenv(resumeEnv)
		proc.CloseOnExecFrom(3)
		resetSignals()
		return resumed(st)
	}
	unblockSignals()
	// Descriptors inherited by accident must not reach the program.
	proc.CloseOnExecFrom(3)
	resetSignals()
	// What does not depend on the program is made ready before the
	// handoff, while tpm-start is still at its own work.
	s, err := prepare()
	h, rerr := receive(0)
	if err == nil {
		err = rerr
	}
	if h == nil && err == nil {
		return 0 // not needed after all
	}
	if h == nil {
		report(os.NewFile(0, "status"), err)
		return exit.Code(err)
	}
	setTitle(h.tree + " " + h.name)
	if rerr := s.receive(h); err == nil {
		err = rerr
	}
	if err == nil {
		err = s.setup()
	}
	if err != nil {
		// Nothing runs: let go of the run lock before saying so, so that
		// tpm-start can tidy what it wrote.
		h.lock.Close()
		report(s.status, err)
		return exit.Code(err)
	}
	return s.run()
}

// report tells tpm-start that the start failed.
func report(status *os.File, err error) {
	if status != nil {
		fmt.Fprintf(status, "failed %d %s\n", exit.Code(err), strings.ReplaceAll(err.Error(), "\n", " "))
	}
}

// prepare makes what any supervisor needs: signal handling, /dev/null, its
// own identity, the pipes for the program's output.
func prepare() (*sup, error) {
	s := &sup{
		hold:     onlineAfter,
		ctlCh:    make(chan request, 4),
		sigCh:    make(chan os.Signal, 4),
		ctlLeft:  make(chan []byte, 1),
		verdicts: make(chan verdict, 1),
	}
	signal.Notify(s.sigCh, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	var err error
	if s.self, err = proc.Self(); err != nil {
		return s, err
	}
	if s.null, err = os.Open(os.DevNull); err != nil {
		return s, err
	}
	// One pair of pipes for the supervisor's whole life: every run writes to
	// the same pipes, so nothing is lost across restarts.
	for _, p := range []struct{ r, w **os.File }{{&s.outR, &s.outW}, {&s.errR, &s.errW}} {
		if *p.r, *p.w, err = os.Pipe(); err != nil {
			return s, err
		}
		bigPipe((*p.w).Fd())
	}
	return s, nil
}

// receive takes in the handoff: the socket becomes the status line to
// tpm-start, and stdin /dev/null.
func (s *sup) receive(h *handoff) error {
	s.tree, s.name, s.lock = &state.Tree{Root: h.tree}, h.name, h.lock
	s.adopt = h.mode == modeAdopt
	if h.hold > 0 {
		s.hold = h.hold
	}
	// The answers go on the socket; the program's stdin is /dev/null.
	st, err := syscall.Dup(0)
	if err != nil {
		s.status = os.NewFile(0, "status")
		return err
	}
	syscall.CloseOnExec(st)
	s.status = os.NewFile(uintptr(st), "status")
	if s.null == nil {
		return errors.New("no /dev/null")
	}
	syscall.Dup2(int(s.null.Fd()), 0)
	s.first, err = state.ParseMetaFile("meta line from tpm-start", h.line)
	return err
}

// setup reads the program's settings and environment and opens its logs and
// control FIFO.
func (s *sup) setup() error {
	var err error
	if s.spec, err = spec.FromMeta(s.name, s.first); err != nil {
		return exit.Errorf(exit.DataErr, "%s: %v", s.name, err)
	}
	if s.env, err = envfile.Read(s.tree.Env(s.name)); err != nil {
		return exit.With(exit.NoInput, fmt.Errorf("read environment: %w", err))
	}
	if s.adopt {
		if err := s.adoptPipes(); err != nil {
			return err
		}
	}
	if s.spec.Listen && s.spec.Port > 0 && !s.adopt {
		if err := s.openListener(); err != nil {
			return err
		}
	}
	if err := s.openLogs(); err != nil {
		if errors.Is(err, logfile.ErrNotRegular) {
			// A link or a FIFO where a log belongs: never written through.
			return exit.With(exit.NoPerm, err)
		}
		return exit.With(exit.CantCreate, err)
	}
	if err := s.openControl(); err != nil {
		return exit.With(exit.CantCreate, err)
	}
	return nil
}

func (s *sup) openLogs() error {
	opt := logfile.Options{MaxSize: s.spec.LogMaxSize, Keep: s.spec.LogKeep, Stamps: s.spec.Timestamps}
	lost := func(stream string) func(int64, string) {
		return func(n int64, reason string) {
			s.event(events.Lost, "stream", stream, "bytes", strconv.FormatInt(n, 10), "reason", reason)
		}
	}
	var err error
	out, errOpt := opt, opt
	out.Lost, errOpt.Lost = lost("out"), lost("err")
	if s.outLog, err = logfile.Open(s.tree.Out(s.name), out); err != nil {
		return err
	}
	if s.errLog, err = logfile.Open(s.tree.Err(s.name), errOpt); err != nil {
		return err
	}
	if s.evLog, err = logfile.Open(s.tree.Events(s.name), opt); err != nil {
		return err
	}
	// One goroutine per stream is the only writer of its log.
	s.pumps = make(chan bool, 2)
	go s.pump(s.outR, s.outLog)
	go s.pump(s.errR, s.errLog)
	return nil
}

// pumpBuf is the read size; a full pipe gives this much per read.
const pumpBuf = 256 << 10

func (s *sup) pump(r *os.File, l *logfile.Writer) {
	buf := make([]byte, pumpBuf)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			s.pumped.Add(int64(n))
			s.scanReady(r, buf[:n])
			s.writing.Add(1)
			l.Write(buf[:n])
			s.writing.Add(-1)
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				s.pumps <- false // paused: the pipe stays open for the next image
				return
			}
			r.Close()
			s.pumps <- true
			return
		}
	}
}

// openControl creates run/NAME.PID.ctl and reads requests from it.
func (s *sup) openControl() error {
	path := s.tree.Ctl(s.name, s.self.PID)
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeNamedPipe == 0 {
		os.Remove(path)
	}
	if err := syscall.Mkfifo(path, 0o600); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("control fifo: %w", err)
	}
	// Read and write: the FIFO then never reads EOF between two writers, and
	// a writer's non-blocking open succeeds exactly while we are alive.
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return fmt.Errorf("control fifo: %w", err)
	}
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		f.Close()
		return fmt.Errorf("control fifo: %s is not a FIFO", path)
	}
	s.ctl = f
	s.readControl(nil)
	return nil
}

// readControl reads requests from the control FIFO, left (what an older
// image had read of a request but not parsed) first. A line longer than
// state.MaxRequest is dropped whole, so that no writer can stop the
// supervisor from reading the next request. Once reading fails (a read
// deadline set for an upgrade, or the FIFO closed), what it holds of an
// unfinished request goes to ctlLeft.
func (s *sup) readControl(left []byte) {
	go func(f *os.File) {
		r := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(left), f), state.MaxRequest)
		skip := false
		for {
			line, err := r.ReadSlice('\n')
			switch {
			case err == nil:
				if !skip {
					if req, ok := parseRequest(string(bytes.TrimSuffix(line, []byte("\n")))); ok {
						s.ctlCh <- req
					}
				}
				skip = false
			case errors.Is(err, bufio.ErrBufferFull):
				skip = true
			default:
				if skip {
					line = nil
				}
				s.ctlLeft <- append([]byte(nil), line...)
				return
			}
		}
	}(s.ctl)
}

func parseRequest(line string) (request, bool) {
	f, err := meta.SplitWords(line) // words quoted as in meta lines: paths may hold spaces
	if err != nil || len(f) == 0 {
		return request{}, false
	}
	r := request{kind: f[0], timeout: -1}
	switch r.kind {
	case "ready":
	case "upgrade":
		if len(f) != 3 {
			return request{}, false
		}
		r.path, r.reply = f[1], f[2]
	case "reload":
		if len(f) != 3 {
			return request{}, false
		}
		if ms, err := strconv.ParseInt(f[1], 10, 64); err == nil && ms >= 0 {
			r.timeout = time.Duration(ms) * time.Millisecond
		}
		r.reply = f[2]
	case "stop":
		if len(f) > 1 && f[1] != "-" {
			r.sig = f[1]
		}
		if len(f) > 2 {
			if ms, err := strconv.ParseInt(f[2], 10, 64); err == nil && ms >= 0 {
				r.timeout = time.Duration(ms) * time.Millisecond
			}
		}
	default:
		return request{}, false
	}
	return r, true
}

// run is the supervisor's life: start, then react to the program's end,
// requests, signals and timers until the program is down for good.
func (s *sup) run() int {
	first, said := s.start, "started"
	if s.adopt {
		first, said = func(bool) error { return s.takeOver() }, "adopted"
	}
	if err := first(true); err != nil {
		s.lock.Close() // nothing runs: see Main
		report(s.status, err)
		s.closeStatus()
		s.shutdown()
		return exit.Code(err)
	}
	fmt.Fprintf(s.status, "%s %d %s\n", said, s.pid, s.token)
	return s.loop(s.onlineTimer(s.hold))
}

// loop reacts to the program's end, requests, signals and timers until the
// program is down for good. online fires when a run has lasted long enough
// to count as online.
func (s *sup) loop(online <-chan time.Time) int {
	var backoff, retry <-chan time.Time
	cron := s.cronNext()
	startNow := make(chan time.Time, 1)
	now := func() <-chan time.Time {
		select {
		case startNow <- time.Now():
		default:
		}
		return startNow
	}
	for {
		if retry == nil && (s.pidBehind || len(s.behind) > 0) {
			retry = time.After(catchUpEvery)
		}
		select {
		case <-retry:
			retry = nil
			s.catchUp()
		case err := <-s.exitCh:
			online = nil
			s.reloadPolicy()
			delay, again := s.ended_(err)
			if !again {
				if s.waiting() {
					continue // the schedule starts it again
				}
				s.shutdown()
				return 0
			}
			backoff = time.After(delay)
			settle()
		case v := <-s.verdicts:
			if s.ended || v.pid != s.pid {
				continue // about a run that has ended meanwhile
			}
			online = nil
			delay, again := s.replace(v)
			switch {
			case !again && s.waiting():
			case !again:
				s.shutdown()
				return 0
			case delay == 0:
				backoff = now()
			default:
				backoff = time.After(delay)
			}
		case <-cron:
			cron = s.cronNext()
			switch {
			case !s.ended:
				online = nil
				if delay, again := s.replace(verdict{kind: events.Cron, kv: []string{"schedule", s.spec.CronRestart}, pid: s.pid}); again && delay == 0 {
					backoff = now()
				}
			case backoff == nil:
				// Ended (the nightly job): start it again.
				s.event(events.Cron, "schedule", s.spec.CronRestart)
				s.quick = 0
				backoff = now()
			}
		case <-backoff:
			backoff = nil
			if err := s.start(false); err != nil {
				s.note(err)
				delay, again := s.failedStart(err)
				if !again {
					if s.waiting() {
						continue
					}
					s.shutdown()
					return 0
				}
				backoff = time.After(delay)
				continue
			}
			online = s.onlineTimer(onlineAfter)
		case <-s.lines.ch:
			online = s.lineReady(online)
		case <-online:
			online = nil
			if s.setState(state.Online) != nil {
				online = time.After(time.Second) // try again
			} else {
				settle()
			}
		case r := <-s.ctlCh:
			switch r.kind {
			case "ready":
				online = nil
				if !s.ended && s.setState(state.Online) != nil {
					online = time.After(time.Second)
				}
				// tpm-start --wait returns once the record says so.
				s.tell("online")
			case "stop":
				s.stop(r, true)
				s.shutdown()
				return 0
			case "upgrade":
				s.upgrade(r) // returns only when the upgrade failed
			case "reload":
				s.reload(r)
				online = nil
			}
		case sig := <-s.sigCh:
			if sig == syscall.SIGHUP {
				s.outLog.Reopen()
				s.errLog.Reopen()
				s.evLog.Reopen()
				s.reloadPolicy()
				if !s.ended {
					s.startWatchers() // the run goes on under the policies as they are now
				}
				continue
			}
			// Taken down with the machine or the session: stop the program
			// but keep the pid file, so that it shows as stale and
			// `tpm-start --stale` brings it back.
			s.stop(request{kind: "stop", timeout: -1}, false)
			s.shutdown()
			return 0
		}
	}
}

// start starts the program once and writes its pid file and meta line.
func (s *sup) start(first bool) error {
	pid, err := s.fork()
	if err != nil {
		return err
	}
	s.pid, s.ended, s.reaped, s.adopted, s.session = pid, false, false, false, s.self.SID
	s.launching = true
	// Before the records: the program's first lines must not come before
	// its start in the logs.
	s.event(events.Start, "pid", strconv.Itoa(s.pid))
	in, err := proc.Stat(s.pid) // the child is ours and unreaped: this cannot fail but for /proc itself
	if err != nil {
		s.killNow()
		return fmt.Errorf("read the program's start time: %w", err)
	}
	s.token, s.started = in.Token, time.Now()
	err = s.writePid(true)
	switch {
	case first && err == nil:
		err = s.writeFirst(s.runFields)
	case !first:
		// A restart: the program runs whatever the disk says. What cannot
		// be written now (editMeta keeps it) is written by catchUp.
		if merr := s.editMeta(s.runFields); err == nil {
			err = merr
		}
	}
	if err != nil {
		if first {
			// Without a record nobody could find or stop the program: take
			// it back down and say why.
			s.killNow()
			s.tree.RemovePid(s.name)
			return exit.With(exit.CantCreate, err)
		}
		s.note(fmt.Errorf("cannot record the restart yet: %w", err))
	}
	// Watch for the program's end only now: until here a failure reaps it
	// with killNow, and the watcher must never report a reaped PID.
	s.exitCh = make(chan error, 1)
	go func(pid int, ch chan<- error) { ch <- waitExited(pid) }(s.pid, s.exitCh)
	s.startWatchers()
	return nil
}

// fork starts one run of the program, in a process group of its own, and
// returns its PID.
func (s *sup) fork() (int, error) {
	s.armReady()
	pathEnv, _ := envfile.Get(s.env, "PATH")
	path, argv, err := s.spec.Argv(pathEnv)
	if err != nil {
		return 0, exit.With(exit.NoInput, err)
	}
	env := s.env
	if s.spec.Listen && s.spec.Port > 0 && s.listener == nil {
		// An adopted program's socket could not be taken over: bind anew,
		// now that it has ended.
		if err := s.openListener(); err != nil {
			return 0, err
		}
	}
	if s.listener != nil {
		path, argv, env = s.activation(path, argv)
	}
	// syscall.ForkExec rather than os/exec: the latter forks a throwaway
	// child on first use to test pidfd support, a millisecond on every start.
	attr := &syscall.ProcAttr{
		Dir:   s.spec.Cwd,
		Env:   env,
		Files: s.files(),
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	}
	pid, err := syscall.ForkExec(path, argv, attr)
	if errors.Is(err, syscall.ENOEXEC) {
		// An executable text file without #!: run it with sh, as execvp does.
		pid, err = syscall.ForkExec("/bin/sh", append([]string{"sh"}, argv...), attr)
	}
	if err != nil {
		return 0, startError(path, s.spec.Cwd, err)
	}
	return pid, nil
}

// files are the program's descriptors: stdin /dev/null, its output pipes,
// and the read ends of those it holds (see adopt.go); every other one
// closed.
func (s *sup) files() []uintptr {
	fds := make([]uintptr, HoldErr+1)
	for i := range fds {
		fds[i] = ^uintptr(0)
	}
	fds[0], fds[1], fds[2] = s.null.Fd(), s.outW.Fd(), s.errW.Fd()
	fds[HoldOut], fds[HoldErr] = rawFd(s.outR), rawFd(s.errR)
	if s.listener != nil {
		fds[listenFD] = rawFd(s.listener)
	}
	return fds
}

// event appends a line to the events file.
func (s *sup) event(kind string, kv ...string) {
	if s.evLog != nil {
		s.evLog.Write(events.Line(kind, kv...))
	}
	s.hook(kind, kv)
}

// runFields writes the facts of the current run into a meta line.
func (s *sup) runFields(m *meta.Meta) {
	m.SetInt("pid", int64(s.pid))
	m.SetInt("start_time", s.started.Unix())
	m.Set(state.KeyToken, s.token)
	m.SetInt(state.KeySupPid, int64(s.self.PID))
	m.Set(state.KeySupToken, s.self.Token)
	m.Set(state.KeySupVersion, Version())
	m.Set(state.KeyState, state.Launching)
	m.SetInt(state.KeyRestarts, int64(s.restarts))
	for _, k := range []string{state.KeyExitCode, state.KeyExitSig, state.KeyExitTime, keyError} {
		m.Del(k)
	}
}

// wait reaps the program and returns its wait status.
func (s *sup) wait() syscall.WaitStatus {
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(s.pid, &ws, 0, nil)
		if err != syscall.EINTR {
			return ws
		}
	}
}

// startError says why exec failed. ENOENT may be the working folder's
// (removed since the start) or, for a file that exists, its #! interpreter:
// say which rather than "no such file".
func startError(path, cwd string, err error) error {
	code := exit.Failure
	switch {
	case errors.Is(err, os.ErrNotExist):
		code = exit.NoInput
		if cwd != "" {
			if fi, serr := os.Stat(cwd); serr != nil || !fi.IsDir() {
				return exit.Errorf(code, "cannot start %s: its working folder %s is gone", path, cwd)
			}
		}
		if interp := shebang(path); interp != "" {
			if _, serr := os.Stat(path); serr == nil {
				return exit.Errorf(code, "cannot start %s: its interpreter %s was not found", path, interp)
			}
		}
	case errors.Is(err, os.ErrPermission):
		code = exit.NoPerm
	}
	return exit.With(code, fmt.Errorf("cannot start %s: %w", path, err))
}

// shebang returns the interpreter named on a script's #! line, or "".
func shebang(path string) string {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return ""
	}
	defer f.Close()
	var b [256]byte
	n, _ := f.Read(b[:])
	line, ok := strings.CutPrefix(string(b[:n]), "#!")
	if !ok {
		return ""
	}
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	if f := strings.Fields(line); len(f) > 0 {
		return f[0]
	}
	return ""
}

// writeFirst writes the meta line of the first run: the line tpm-start gave,
// keeping the fields other tools added to an older record of the same name.
func (s *sup) writeFirst(set func(*meta.Meta)) error {
	unlock, err := s.tree.EditLock()
	if err != nil {
		return err
	}
	defer unlock()
	m := s.first.Clone()
	if old, err := s.tree.ReadMeta(s.name); err == nil {
		for _, f := range old.Fields {
			if _, ok := m.Get(f.Key); !ok && spec.OwnerOf(f.Key) == "" {
				m.Set(f.Key, f.Value)
			}
		}
	}
	set(m)
	return s.tree.WriteMeta(s.name, m)
}

// killNow kills a program the supervisor cannot record, and reaps it.
func (s *sup) killNow() {
	s.claim().SignalGroup(syscall.SIGKILL)
	s.wait()
	s.ended, s.reaped = true, true
}

func (s *sup) setState(st string) error {
	err := s.editMeta(func(m *meta.Meta) { m.Set(state.KeyState, st) })
	if err == nil && st == state.Online {
		s.launching = false
	}
	return err
}

// editMeta changes the meta line under the edit lock. A meta file removed
// by hand while the program runs is written again from what the supervisor
// knows, so that the process stays visible and stoppable.
//
// An edit that cannot be written (a full disk) is kept, and applied with
// the next one that can, or by catchUp: the record is never left behind
// once writing works again.
func (s *sup) editMeta(fn func(*meta.Meta)) error {
	edits := append(s.behind, fn)
	apply := func(m *meta.Meta) {
		for _, f := range edits {
			f(m)
		}
	}
	err := s.tree.EditMeta(s.name, func(m *meta.Meta) error { apply(m); return nil })
	if errors.Is(err, state.ErrNoProcess) {
		err = s.writeFirst(func(m *meta.Meta) {
			s.runFields(m)
			apply(m)
		})
	}
	if err != nil {
		if len(s.behind) == 0 {
			s.note(err) // once per outage
		}
		s.behind = edits
		return err
	}
	s.behind = nil
	if s.pidBehind {
		s.writePid(!s.ended) // writing works again
	}
	return nil
}

// writePid writes or removes the pid file as the current run wants it,
// remembering a failure for catchUp.
func (s *sup) writePid(running bool) error {
	var err error
	if running {
		err = s.tree.WritePid(s.name, s.pid)
	} else {
		err = s.tree.RemovePid(s.name)
	}
	s.pidBehind = err != nil
	return err
}

// catchUp writes what earlier writes could not. It reports whether the
// records are up to date.
func (s *sup) catchUp() bool {
	if s.pidBehind {
		s.writePid(!s.ended)
	}
	if len(s.behind) > 0 {
		s.editMeta(func(*meta.Meta) {})
	}
	return !s.pidBehind && len(s.behind) == 0
}

// catchUpEvery is how often a supervisor whose records fell behind tries to
// write them again.
const catchUpEvery = 2 * time.Second

// note records a problem of the supervisor's own in the error log.
func (s *sup) note(err error) {
	s.errLog.Note(err.Error())
}

// tell writes a line to tpm-start, while it listens.
func (s *sup) tell(line string) {
	if s.status == nil {
		return
	}
	if _, err := s.status.WriteString(line + "\n"); err != nil {
		s.closeStatus()
	}
}

func (s *sup) closeStatus() {
	if s.status != nil {
		s.status.Close()
		s.status = nil
	}
}
