package supervise

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tetra-toolkit/tpm/lib/envfile"
	"github.com/tetra-toolkit/tpm/lib/events"
	"github.com/tetra-toolkit/tpm/lib/logfile"
	"github.com/tetra-toolkit/tpm/lib/meta"
	"github.com/tetra-toolkit/tpm/lib/proc"
	"github.com/tetra-toolkit/tpm/lib/spec"
	"github.com/tetra-toolkit/tpm/lib/state"
)

// Upgrade in place (tpm-upgrade): on the request "upgrade PATH REPLY" a
// supervisor executes the binary at PATH over itself. execve keeps its PID,
// its child (the program stays its child, untouched) and its descriptors;
// what the new image needs besides (the run's facts, its counters, which
// descriptor is which, where each log's last line stands) goes across in
// the environment variable resumeEnv. No output byte is lost or written
// twice: the pumps stop between two reads (a read deadline), every byte read
// has been written, and what the program writes meanwhile waits in the pipe
// for the new image's pumps.
//
// The new binary is first run with --version: one that does not run, or
// an exec that fails, leaves the supervisor going on with the old one, and
// saying so (an upgrade event and the answer on REPLY). REPLY is a FIFO the
// requester made and reads: "ok VERSION" from the new image, or "failed
// MESSAGE" from the old one.

// resumeEnv carries an upgrading supervisor's state to its new image.
const resumeEnv = "TPM_SUPERVISE_RESUME"

// resume is what crosses the exec.
type resume struct {
	Tree, Name string
	From       string // the version upgraded from
	Reply      string
	First      string // the meta line the first start wrote

	Lock, Null, Ctl, OutR, ErrR, OutW, ErrW int
	Listener                                int    // -1: none
	CtlLeft                                 []byte // a request read but not yet parsed

	PID      int
	Token    string
	Started  int64 // Unix nanoseconds
	Adopted  bool
	Session  int
	Quick    int
	Restarts int
	Launched bool // not yet online

	OutRun, ErrRun, EvRun int64 // bytes of an unfinished last line, -1: none
}

// upgradeCheck bounds the run of the new binary's --version.
const upgradeCheck = 10 * time.Second

// upgrade executes r.path over the supervisor. It returns only when the
// upgrade did not happen, after saying why.
func (s *sup) upgrade(r request) {
	fail := func(err error) {
		s.event(events.Upgrade, "error", err.Error(), "to", r.path)
		answer(r.reply, "failed "+err.Error())
	}
	if s.ended || len(s.ctlCh) > 0 || len(s.sigCh) > 0 || s.pidBehind || len(s.behind) > 0 {
		fail(errors.New("busy (between two runs, or with requests or records waiting); try again"))
		return
	}
	to, err := binaryVersion(r.path)
	if err != nil {
		fail(err)
		return
	}
	// Quiesce: the pumps and the control reader stop between two reads.
	now := time.Now()
	s.outR.SetReadDeadline(now)
	s.errR.SetReadDeadline(now)
	for range 2 {
		if <-s.pumps {
			// A pipe at its end: nothing runs that writes to it.
			s.pumps <- true
			s.outR.SetReadDeadline(time.Time{})
			s.errR.SetReadDeadline(time.Time{})
			fail(errors.New("its output pipes are closed"))
			return
		}
	}
	s.ctl.SetReadDeadline(now)
	left := <-s.ctlLeft

	st := resume{
		Tree: s.tree.Root, Name: s.name, From: Version(), Reply: r.reply, First: strings.TrimSpace(string(s.first.Format())),
		Lock: int(s.lock.Fd()), Null: int(s.null.Fd()), Ctl: int(rawFd(s.ctl)),
		OutR: int(rawFd(s.outR)), ErrR: int(rawFd(s.errR)), OutW: int(s.outW.Fd()), ErrW: int(s.errW.Fd()),
		CtlLeft: left, Listener: -1,
		PID: s.pid, Token: s.token, Started: s.started.UnixNano(), Adopted: s.adopted, Session: s.session,
		Quick: s.quick, Restarts: s.restarts, Launched: s.launching,
		OutRun: lineRun(s.outLog), ErrRun: lineRun(s.errLog), EvRun: lineRun(s.evLog),
	}
	// tpm-start, if it still listens, hears no more from this run.
	s.closeStatus()
	fds := []int{st.Lock, st.Null, st.Ctl, st.OutR, st.ErrR, st.OutW, st.ErrW}
	if s.listener != nil {
		st.Listener = int(rawFd(s.listener))
		fds = append(fds, st.Listener)
	}
	data := st.encode()
	for _, fd := range fds {
		unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0)
	}
	env := append(os.Environ(), resumeEnv+"="+string(data))
	s.event(events.Upgrade, "from", Version(), "to", to)
	s.outLog.Close()
	s.errLog.Close()
	s.evLog.Close()
	err = syscall.Exec(r.path, []string{"tpm-supervise", TitleArg}, env)

	// Still here: the old image goes on.
	for _, fd := range fds {
		syscall.CloseOnExec(fd)
	}
	if oerr := s.openLogs(); oerr != nil {
		s.note(oerr)
	}
	s.continueLines(st)
	s.readControl(left)
	fail(fmt.Errorf("exec %s: %w", r.path, err))
}

// lineRun is how much of an unfinished last line a log holds, or -1.
func lineRun(w *logfile.Writer) int64 {
	if w == nil {
		return -1
	}
	if mid, run := w.Midline(); mid {
		return run
	}
	return -1
}

func (s *sup) continueLines(st resume) {
	for _, c := range []struct {
		w   *logfile.Writer
		run int64
	}{{s.outLog, st.OutRun}, {s.errLog, st.ErrRun}, {s.evLog, st.EvRun}} {
		if c.w != nil && c.run >= 0 {
			c.w.Continue(c.run)
		}
	}
}

// binaryVersion runs path --version, for at most upgradeCheck.
func binaryVersion(path string) (string, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return "", err
	}
	defer r.Close()
	pid, err := syscall.ForkExec(path, []string{path, "--version"}, &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: []uintptr{s0(), w.Fd(), s0()},
	})
	w.Close()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", path, err)
	}
	done := make(chan syscall.WaitStatus, 1)
	go func() {
		var ws syscall.WaitStatus
		for {
			if _, err := syscall.Wait4(pid, &ws, 0, nil); err != syscall.EINTR {
				break
			}
		}
		done <- ws
	}()
	r.SetReadDeadline(time.Now().Add(upgradeCheck))
	out, _ := io.ReadAll(io.LimitReader(r, 256))
	var ws syscall.WaitStatus
	select {
	case ws = <-done:
	case <-time.After(upgradeCheck):
		syscall.Kill(pid, syscall.SIGKILL) // our own child, unreaped
		ws = <-done
	}
	v := strings.TrimSpace(string(out))
	if !ws.Exited() || ws.ExitStatus() != 0 {
		return "", fmt.Errorf("%s --version: failed (%v)", path, ws)
	}
	if v == "" || strings.ContainsAny(v, " \n") {
		return "", fmt.Errorf("%s --version: unexpected output %q", path, v)
	}
	return v, nil
}

// s0 is /dev/null for a child's stdin and stderr: the supervisor's own
// fds 0 and 2.
func s0() uintptr { return 0 }

// encode writes the resume state as a meta line: the supervisor already
// links its parser, and the encoding/json package would cost more memory
// than the whole state.
func (st *resume) encode() string {
	m := &meta.Meta{}
	for _, f := range []struct {
		k string
		v string
	}{
		{"tree", st.Tree}, {"name", st.Name}, {"from", st.From}, {"reply", st.Reply}, {"first", st.First},
		{"ctl_left", hex.EncodeToString(st.CtlLeft)}, {"token", st.Token},
	} {
		m.Set(f.k, f.v)
	}
	for _, f := range []struct {
		k string
		v int64
	}{
		{"lock", int64(st.Lock)}, {"null", int64(st.Null)}, {"ctl", int64(st.Ctl)}, {"out_r", int64(st.OutR)},
		{"err_r", int64(st.ErrR)}, {"out_w", int64(st.OutW)}, {"err_w", int64(st.ErrW)}, {"listener", int64(st.Listener)},
		{"pid", int64(st.PID)}, {"started", st.Started}, {"session", int64(st.Session)}, {"quick", int64(st.Quick)},
		{"restarts", int64(st.Restarts)}, {"out_run", st.OutRun}, {"err_run", st.ErrRun}, {"ev_run", st.EvRun},
		{"adopted", b2i(st.Adopted)}, {"launched", b2i(st.Launched)},
	} {
		m.SetInt(f.k, f.v)
	}
	return m.String()
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (st *resume) decode(data string) error {
	m, err := meta.Parse([]byte(data))
	if err != nil {
		return err
	}
	st.Tree, st.Name, st.From, st.Reply, st.First = m.Value("tree"), m.Value("name"), m.Value("from"), m.Value("reply"), m.Value("first")
	st.Token = m.Value("token")
	if st.CtlLeft, err = hex.DecodeString(m.Value("ctl_left")); err != nil {
		return err
	}
	num := func(k string) int { return int(m.Int(k)) }
	st.Lock, st.Null, st.Ctl, st.OutR, st.ErrR, st.OutW, st.ErrW = num("lock"), num("null"), num("ctl"), num("out_r"), num("err_r"), num("out_w"), num("err_w")
	st.Listener, st.PID, st.Session, st.Quick, st.Restarts = num("listener"), num("pid"), num("session"), num("quick"), num("restarts")
	st.Started, st.OutRun, st.ErrRun, st.EvRun = m.Int("started"), m.Int("out_run"), m.Int("err_run"), m.Int("ev_run")
	st.Adopted, st.Launched = m.Int("adopted") == 1, m.Int("launched") == 1
	if st.Tree == "" || st.Name == "" || st.PID <= 1 {
		return errors.New("incomplete resume state")
	}
	return nil
}

// answer writes a line to a requester's reply FIFO, if it still listens.
func answer(path, line string) {
	if path == "" || path == "-" {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeNamedPipe != 0 {
		f.WriteString(line + "\n")
	}
}

// resumed rebuilds the supervisor from what an older image passed across
// its exec, and goes on supervising. It returns the supervisor's exit
// status.
func resumed(data string) int {
	var st resume
	if err := st.decode(data); err != nil {
		return 70 // nothing can be done: no descriptor is known
	}
	file := func(fd int, name string, pollable bool) *os.File {
		syscall.CloseOnExec(fd)
		if pollable {
			unix.SetNonblock(fd, true) // os.NewFile then registers it with the poller
		}
		return os.NewFile(uintptr(fd), name)
	}
	s := &sup{
		tree: &state.Tree{Root: st.Tree}, name: st.Name, hold: onlineAfter,
		ctlCh: make(chan request, 4), sigCh: make(chan os.Signal, 4), ctlLeft: make(chan []byte, 1), verdicts: make(chan verdict, 1),
		lock: file(st.Lock, "lock", false), null: file(st.Null, os.DevNull, false), ctl: file(st.Ctl, "ctl", true),
		outR: file(st.OutR, "out", true), errR: file(st.ErrR, "err", true),
		outW: file(st.OutW, "out", false), errW: file(st.ErrW, "err", false),
		pid: st.PID, token: st.Token, started: time.Unix(0, st.Started), adopted: st.Adopted, session: st.Session,
		quick: st.Quick, restarts: st.Restarts,
	}
	if st.Listener >= 0 {
		s.listener = file(st.Listener, "listener", false)
	}
	signal.Notify(s.sigCh, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	s.self, _ = proc.Self()
	setTitle(st.Tree + " " + st.Name)
	var err error
	if s.first, err = state.ParseMetaFile("meta line of the previous image", []byte(st.First)); err != nil {
		s.first = &meta.Meta{}
	}
	m, merr := s.tree.ReadMeta(s.name)
	if merr != nil {
		m = s.first
	}
	if s.spec, err = spec.FromMeta(s.name, m); err != nil {
		s.spec, _ = spec.FromMeta(s.name, s.first)
	}
	if s.spec == nil {
		s.spec = spec.New()
	}
	s.env, _ = envfile.Read(s.tree.Env(s.name))
	if err := s.openLogs(); err != nil {
		answer(st.Reply, "failed "+err.Error())
	}
	s.continueLines(st)
	s.readControl(st.CtlLeft)
	// The program's end: ours to wait for (it is still our child), or an
	// adopted one's to watch.
	s.exitCh = make(chan error, 1)
	if s.adopted {
		go func(pid int, token string, ch chan<- error) {
			for !proc.WaitGone(pid, token, 0, time.Hour) {
			}
			ch <- nil
		}(s.pid, s.token, s.exitCh)
	} else {
		go func(pid int, ch chan<- error) { ch <- waitExited(pid) }(s.pid, s.exitCh)
	}
	s.editMeta(func(m *meta.Meta) { m.Set(state.KeySupVersion, Version()) })
	s.event(events.Upgrade, "from", st.From, "to", Version(), "pid", fmt.Sprint(s.pid))
	answer(st.Reply, "ok "+Version())
	s.startWatchers()
	var online <-chan time.Time
	if st.Launched {
		online = time.After(onlineAfter)
	}
	return s.loop(online)
}
