package supervise

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tetra-toolkit/tpm/lib/envfile"
	"github.com/tetra-toolkit/tpm/lib/events"
	"github.com/tetra-toolkit/tpm/lib/state"
)

// Health checks (health_http, health_cmd; tpm-start --health-http PATH or
// --health-cmd CMD, --health-every D, --health-fails N): every D, the
// supervisor asks whether its program is healthy; after N failures in a
// row the record says unhealthy and the run ends as a failure, so that the
// restart policy decides what follows (on-failure and always start it
// again; no leaves it errored), and an event health gives the last
// failure. The first check comes one period after the start: the grace a
// program has to get ready.
//
//   - HTTP: GET http://127.0.0.1:PORT/PATH, answered 2xx or 3xx. It is
//     written by hand, HTTP/1.0 over a plain socket: net/http would add
//     about 2 MiB to every supervisor's memory.
//   - A command: sh -c CMD in the program's folder and environment, plus
//     TPM_NAME, in a process group of its own; it exits 0 when healthy. Its
//     output is read (the last line is the failure's reason) and dropped.
//
// Each check has healthTimeout(D) to answer; what has not answered by then
// failed (a command is killed, with its group).

func init() { watchers = append(watchers, newHealthWatch) }

// maxHealthTimeout bounds the time a check has, whatever the period.
const maxHealthTimeout = 10 * time.Second

// healthTimeout is the time a check has: half the period, at most
// maxHealthTimeout, so that a check never runs into the next.
func healthTimeout(every time.Duration) time.Duration {
	return min(every/2, maxHealthTimeout)
}

// healthCheck is one run's checker: what it checks, taken when the run
// starts (the loop may change the supervisor's spec and environment
// meanwhile).
type healthCheck struct {
	port      int
	path, cmd string
	cwd       string
	env       []string
	every     time.Duration
	fails     int

	quit, done chan struct{}
	mu         sync.Mutex
	conn       *os.File // the HTTP check in flight, closed by stop
	stopped    bool
}

// noHealthPort says once per supervisor that an HTTP check has no PORT.
var noHealthPort sync.Once

func newHealthWatch(s *sup, pid int) watcher {
	p := s.spec
	if p.HealthHTTP == "" && p.HealthCmd == "" || pid <= 0 {
		return nil
	}
	if p.HealthHTTP != "" && p.Port <= 0 {
		noHealthPort.Do(func() {
			s.event(events.Policy, "error", "health_http: the program has no PORT to check", "kept", "no health check")
		})
		return nil
	}
	h := &healthCheck{
		port: p.Port, path: p.HealthHTTP, cmd: p.HealthCmd, cwd: p.Cwd,
		every: p.HealthEvery, fails: max(p.HealthFails, 1),
		quit: make(chan struct{}), done: make(chan struct{}),
	}
	if h.cmd != "" {
		h.env = envfile.Set(append([]string(nil), s.env...), "TPM_NAME", s.name)
	}
	go h.run(s, pid)
	return h
}

func (h *healthCheck) run(s *sup, pid int) {
	defer close(h.done)
	t := time.NewTimer(h.every)
	defer t.Stop()
	failed := 0
	var tidy tidier
	for {
		select {
		case <-h.quit:
			return
		case <-t.C:
		}
		err := h.check()
		tidy.after()
		select {
		case <-h.quit:
			return // stopped meanwhile: what the check saw no longer matters
		default:
		}
		if err == nil {
			failed = 0
		} else if failed++; failed >= h.fails {
			s.judge(verdict{kind: events.Health, failure: true, state: state.Unhealthy, pid: pid,
				kv: []string{"fails", strconv.Itoa(failed), "error", err.Error()}})
			return
		}
		t.Reset(h.every)
	}
}

func (h *healthCheck) stop() {
	h.mu.Lock()
	h.stopped = true
	if h.conn != nil {
		h.conn.SetDeadline(time.Unix(1, 0)) // the check in flight ends now
	}
	h.mu.Unlock()
	close(h.quit)
	<-h.done
}

// check runs one check: nil when healthy, else why not.
func (h *healthCheck) check() error {
	timeout := healthTimeout(h.every)
	if h.cmd != "" {
		return h.checkCmd(timeout)
	}
	return h.checkHTTP(timeout)
}

// checkHTTP asks GET PATH on 127.0.0.1:PORT.
func (h *healthCheck) checkHTTP(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	f, err := dialLocal(h.port)
	if err != nil {
		return err
	}
	defer f.Close()
	f.SetDeadline(deadline)
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return errors.New("stopped")
	}
	h.conn = f
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.conn = nil
		h.mu.Unlock()
		f.SetDeadline(time.Time{}) // its timers gone: no wake-up for a closed socket
	}()
	if err := connected(f); err != nil {
		return timedOut(err, "connect to 127.0.0.1:"+strconv.Itoa(h.port), timeout)
	}
	req := "GET " + strings.ReplaceAll(h.path, " ", "%20") + " HTTP/1.0\r\nHost: 127.0.0.1:" + strconv.Itoa(h.port) +
		"\r\nUser-Agent: tpm-health\r\nConnection: close\r\n\r\n"
	if _, err := io.WriteString(f, req); err != nil {
		return timedOut(err, "GET "+h.path, timeout)
	}
	code, err := readStatus(f)
	if err != nil {
		return timedOut(err, "GET "+h.path, timeout)
	}
	// What follows is read, for a moment and up to a bound, before closing:
	// a socket closed with unread data is reset, which some servers log as
	// an error.
	h.mu.Lock()
	if !h.stopped {
		if d := time.Now().Add(drainFor); d.Before(deadline) {
			f.SetReadDeadline(d)
		}
	}
	h.mu.Unlock()
	// (A loop of reads rather than io.Copy, which would link the splice
	// and sendfile paths into every supervisor.)
	var junk [512]byte
	for n := 0; n < 64<<10; {
		m, err := f.Read(junk[:])
		if n += m; err != nil {
			break
		}
	}
	if code < 200 || code > 399 {
		return fmt.Errorf("GET %s: HTTP %d", h.path, code)
	}
	return nil
}

// drainFor bounds the time a healthy answer's body is read for.
const drainFor = 200 * time.Millisecond

// timedOut words a deadline as the check's timeout.
func timedOut(err error, what string, timeout time.Duration) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%s: no answer within %v", what, timeout)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s: connection closed without an answer", what)
	}
	var se syscall.Errno
	if errors.As(err, &se) {
		return fmt.Errorf("%s: %v", what, se)
	}
	return fmt.Errorf("%s: %v", what, err)
}

// dialLocal starts a TCP connection to 127.0.0.1:port on a non-blocking
// socket, which the runtime's poller then waits on (os.NewFile registers
// it): the connection, and every read and write, honour the file's
// deadline.
func dialLocal(port int) (*os.File, error) {
	// Under ForkLock, as the net package does where sockets cannot be
	// created close-on-exec: a program started meanwhile must not inherit it.
	syscall.ForkLock.RLock()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("socket: %w", err)
	}
	err = syscall.Connect(fd, &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}})
	if err != nil && err != syscall.EINPROGRESS && err != syscall.EINTR {
		syscall.Close(fd)
		return nil, fmt.Errorf("connect to 127.0.0.1:%d: %w", port, err)
	}
	return os.NewFile(uintptr(fd), "health"), nil
}

// connected waits until the connection f started is made, or has failed.
func connected(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var failed error
	err = rc.Write(func(fd uintptr) bool {
		n, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_ERROR)
		switch {
		case err != nil:
			failed = err
		case n != 0:
			failed = syscall.Errno(n)
		default:
			// No error, and no peer yet: still connecting. Returning false
			// waits for the socket to be writable, and asks again.
			if _, err := syscall.Getpeername(int(fd)); err != nil {
				return false
			}
		}
		return true
	})
	if err != nil {
		return err
	}
	return failed
}

// readStatus reads an HTTP status line and returns its code.
func readStatus(r io.Reader) (int, error) {
	var buf [512]byte
	n := 0
	for {
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			return parseStatus(buf[:i])
		}
		if n == len(buf) {
			return parseStatus(buf[:n])
		}
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			if n > 0 && errors.Is(err, io.EOF) {
				return parseStatus(buf[:n])
			}
			return 0, err
		}
	}
}

// parseStatus reads "HTTP/1.x CODE REASON".
func parseStatus(line []byte) (int, error) {
	f := strings.Fields(string(line))
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/") {
		return 0, fmt.Errorf("not an HTTP answer: %q", truncate(string(bytes.TrimSpace(line)), 60))
	}
	code, err := strconv.Atoi(f[1])
	if err != nil || len(f[1]) != 3 {
		return 0, fmt.Errorf("not an HTTP status: %q", truncate(string(bytes.TrimSpace(line)), 60))
	}
	return code, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// checkCmd runs sh -c CMD, in a group of its own, for at most timeout.
func (h *healthCheck) checkCmd(timeout time.Duration) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		r.Close()
		w.Close()
		return err
	}
	pid, err := syscall.ForkExec("/bin/sh", []string{"sh", "-c", h.cmd}, &syscall.ProcAttr{
		Dir:   h.cwd,
		Env:   h.env,
		Files: []uintptr{null.Fd(), w.Fd(), w.Fd()},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	})
	null.Close()
	w.Close()
	if err != nil {
		r.Close()
		return fmt.Errorf("health command: %w", err)
	}
	out := make(chan []byte, 1)
	go func() { out <- readTail(r) }()
	exited := make(chan struct{})
	go func() { waitExited(pid); close(exited) }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	why := ""
	select {
	case <-exited:
	case <-timer.C:
		why = fmt.Sprintf("health command: no answer within %v", timeout)
	case <-h.quit:
		why = "stopped"
	}
	// The leader is not reaped yet, so the group is still its own: what the
	// command left behind goes with it.
	syscall.Kill(-pid, syscall.SIGKILL)
	<-exited
	var ws syscall.WaitStatus
	for {
		if _, err := syscall.Wait4(pid, &ws, 0, nil); err != syscall.EINTR {
			break
		}
	}
	// Its output, for the reason; a process that left its group may hold
	// the pipe: it is not waited for.
	r.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	tail := lastLine(<-out)
	r.Close()
	switch {
	case why != "":
		return errors.New(why)
	case ws.Exited() && ws.ExitStatus() == 0:
		return nil
	}
	what := "health command: exit code " + strconv.Itoa(ws.ExitStatus())
	if ws.Signaled() {
		what = "health command: killed by " + ws.Signal().String()
	}
	if tail != "" {
		what += ": " + tail
	}
	return errors.New(what)
}

// readTail reads r to its end (or its deadline), keeping the last 1 KiB.
func readTail(r io.Reader) []byte {
	var keep []byte
	buf := make([]byte, 1024)
	for {
		n, err := r.Read(buf)
		keep = append(keep, buf[:n]...)
		if len(keep) > 1024 {
			keep = append(keep[:0], keep[len(keep)-1024:]...)
		}
		if err != nil {
			return keep
		}
	}
}

// lastLine is the last line of b that is not blank, shortened.
func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return truncate(strings.TrimSpace(lines[len(lines)-1]), 200)
}
