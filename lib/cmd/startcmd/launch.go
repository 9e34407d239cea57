package startcmd

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/envfile"
	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/listen"
	"github.com/tetra-toolkit/tpm/lib/logfile"
	"github.com/tetra-toolkit/tpm/lib/meta"
	"github.com/tetra-toolkit/tpm/lib/proc"
	"github.com/tetra-toolkit/tpm/lib/spare"
	"github.com/tetra-toolkit/tpm/lib/spec"
	"github.com/tetra-toolkit/tpm/lib/state"
)

// job is one process to start.
type job struct {
	spec *spec.Spec
	// env is the environment without PORT and NODE_APP_INSTANCE, which the
	// job sets; nil means the saved NAME.env of a restart from records.
	env []string
	// record is the existing meta line of a restart from records, whose
	// annotations are kept.
	record *meta.Meta
	lock   *os.File
	fresh  bool   // no record existed: a failed start leaves no files behind
	more   bool   // another job follows
	adopt  bool   // its program runs without a supervisor: adopt it
	verb   string // what the line printed says: "" for a start, "restarted"
}

// lockTimeout bounds the wait for a run lock held by another tpm command
// (tpm-clean proving a process dead, a concurrent tpm-start).
const lockTimeout = 2 * time.Second

// lock takes the job's run lock. It fails with exit 1 when the process is
// already running, and 75 when another command keeps the lock.
func (j *job) lockRun(t *state.Tree) error {
	name := j.spec.Name
	deadline := time.Now().Add(lockTimeout)
	wait := time.Millisecond
	for {
		f, err := t.TryLock(name)
		if err == nil {
			// The lock is ours, but a process started by the bash TPM holds
			// none, and a lock file removed by hand proves nothing: ask the
			// record too.
			r, lerr := t.Load(name)
			if lerr == nil && r.Status == state.Unsupervised && j.record != nil {
				// Its supervisor died and left it running: started by
				// name, it gets a new one.
				j.adopt, j.lock = true, f
				return nil
			}
			if lerr == nil && r.Alive() {
				f.Close()
				return running(name, r)
			}
			j.fresh = errors.Is(lerr, state.ErrNoProcess)
			j.lock = f
			return nil
		}
		if !errors.Is(err, state.ErrLocked) {
			return err
		}
		if r, err := t.Load(name); err == nil && r.Alive() {
			return running(name, r)
		}
		if time.Now().After(deadline) {
			return exit.Errorf(exit.TempFail, "%s: another tpm command holds its lock; try again", name)
		}
		time.Sleep(wait)
		wait = min(wait*2, 50*time.Millisecond)
	}
}

func running(name string, r *state.Record) error {
	if r.Status == state.Unsupervised {
		return cli.WithHint(exit.Errorf(exit.Failure, "%s is already running (pid %d), without a supervisor", name, r.Prog.PID),
			"tpm-start %s gives it a new one", name)
	}
	if r.ProgAlive {
		return exit.Errorf(exit.Failure, "%s is already running (pid %d)", name, r.Prog.PID)
	}
	return exit.Errorf(exit.Failure, "%s is already running (%s)", name, r.Status)
}

// launchAll starts jobs: it takes every lock and checks every port before
// the first start, so that a taken port starts nothing. A job already running
// is reported and skipped; the others start.
func launchAll(e *cli.Env, g *grammar, t *state.Tree, jobs []*job) error {
	seen := map[string]bool{}
	for _, j := range jobs {
		if seen[j.spec.Name] {
			return exit.Errorf(exit.DataErr, "two processes would be named %s; give them names of their own", j.spec.Name)
		}
		seen[j.spec.Name] = true
	}
	if err := t.Ensure(); err != nil {
		return err
	}
	var failed error
	var todo []*job
	for _, j := range jobs {
		if err := j.lockRun(t); err != nil {
			if exit.Code(err) != exit.Failure {
				releaseAll(todo)
				return err
			}
			e.Report(err)
			failed = cli.Silent(exit.Failure)
			continue
		}
		todo = append(todo, j)
	}
	if err := checkPorts(t, todo); err != nil {
		releaseAll(todo)
		return err
	}
	for i, j := range todo {
		j.more = i+1 < len(todo)
		line, err := j.launch(e, g, t)
		if err != nil {
			releaseAll(todo[i+1:])
			return err
		}
		g.started = append(g.started, j.spec.Name)
		fmt.Fprintln(e.Stdout, line)
	}
	return failed
}

func releaseAll(jobs []*job) {
	for _, j := range jobs {
		if j.lock != nil {
			j.lock.Close()
			j.lock = nil
		}
	}
}

// checkPorts refuses ports that a socket already listens on (exit 69),
// naming the tpm process, or else the program, that holds it.
func checkPorts(t *state.Tree, jobs []*job) error {
	seen := map[int]bool{}
	for _, j := range jobs {
		p := j.spec.Port
		if p == 0 || seen[p] {
			continue
		}
		seen[p] = true
		if !listen.Taken(p) || siblingServes(t, j.spec) {
			continue
		}
		if holder := tpmHolder(t, p); holder != "" {
			return exit.Errorf(exit.Unavailable, "port %d is taken by tpm process %s", p, holder)
		}
		if pid, comm := listen.Holder(p); pid > 0 {
			return exit.Errorf(exit.Unavailable, "port %d is taken by pid %d (%s)", p, pid, comm)
		}
		return exit.Errorf(exit.Unavailable, "port %d is taken", p)
	}
	return nil
}

// siblingServes reports whether another instance of the same process
// runs: instances of one name share their PORT by design (SO_REUSEPORT),
// so a sibling holding it is no conflict.
func siblingServes(t *state.Tree, s *spec.Spec) bool {
	if s.Instance < 0 {
		return false
	}
	base := strings.TrimSuffix(s.Name, "-"+strconv.Itoa(s.Instance))
	recs, _ := t.LoadAll()
	for _, r := range recs {
		if r.Meta == nil || r.Name == s.Name || !r.ProgAlive || int(r.Meta.Int("port")) != s.Port {
			continue
		}
		if i := r.Meta.Value(spec.KeyInstance); i != "" && strings.TrimSuffix(r.Name, "-"+i) == base {
			return true
		}
	}
	return false
}

func tpmHolder(t *state.Tree, p int) string {
	recs, _ := t.LoadAll()
	for _, r := range recs {
		if r.Meta != nil && int(r.Meta.Int("port")) == p && r.ProgAlive {
			return fmt.Sprintf("%s (pid %d)", r.Name, r.Prog.PID)
		}
	}
	return ""
}

// environ returns the environment the job's program runs with.
func (j *job) environ(t *state.Tree) ([]string, error) {
	env := j.env
	if env == nil {
		saved, err := envfile.Read(t.Env(j.spec.Name))
		if err == nil {
			return saved, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, exit.With(exit.DataErr, err)
		}
		env = os.Environ() // a record of the bash TPM has no saved environment
	}
	if j.spec.Port > 0 {
		env = envfile.Set(env, "PORT", strconv.Itoa(j.spec.Port))
	} else {
		env = envfile.Unset(env, "PORT")
	}
	if j.spec.Instance >= 0 {
		env = envfile.Set(env, "NODE_APP_INSTANCE", strconv.Itoa(j.spec.Instance))
	}
	return env, nil
}

// launch starts the job's supervisor and waits for the program to run.
func (j *job) launch(e *cli.Env, g *grammar, t *state.Tree) (string, error) {
	name := j.spec.Name
	if j.adopt {
		// The program runs with its environment and record: only its
		// supervisor is new.
		pid, status, err := j.spawn(t, j.record, 0)
		if err != nil {
			return "", err
		}
		status.Close()
		return fmt.Sprintf("%s adopted pid=%d port=%d", name, pid, j.spec.Port), nil
	}
	env, err := j.environ(t)
	if err != nil {
		j.lock.Close()
		return "", err
	}
	if err := state.WriteFile(t.Env(name), envfile.Format(env)); err != nil {
		j.lock.Close()
		return "", err
	}
	line := j.spec.Meta()
	if j.record != nil {
		line = j.record.Clone()
		j.spec.Apply(line)
	}
	var hold time.Duration
	if g.Wait.On {
		hold = g.Wait.Timeout + time.Second
	}
	pid, status, err := j.spawn(t, line, hold)
	if err != nil {
		if j.fresh {
			forget(t, name)
		}
		return "", err
	}
	defer status.Close()
	if g.Wait.On {
		if err := waitReady(e, t, j.spec, pid, status, g.Wait.Timeout); err != nil {
			return "", err
		}
	}
	switch j.verb {
	case "":
	case "started":
		return fmt.Sprintf("%s started pid=%d port=%d", name, pid, j.spec.Port), nil
	default:
		return fmt.Sprintf("%s %s pid=%d", name, j.verb, pid), nil
	}
	return fmt.Sprintf("%s pid=%d port=%d", name, pid, j.spec.Port), nil
}

// forget removes what a failed first start of name left: its saved
// environment (secrets included), empty logs, and its lock.
func forget(t *state.Tree, name string) {
	t.WaitUnlocked(name, time.Second) // the supervisor that failed may be on its way out
	f, err := t.TryLock(name)
	if err != nil {
		return // something of name runs after all: leave it
	}
	defer f.Close()
	os.Remove(t.Env(name))
	for _, p := range []string{t.Out(name), t.Err(name)} {
		if fi, err := os.Lstat(p); err == nil && fi.Mode().IsRegular() && fi.Size() == 0 {
			os.Remove(p)
		}
	}
	os.Remove(t.Lock(name))
}

// forgetAll removes every file of name, whose program is stopped, under
// its run lock (the lock file last, as tpm-clean does).
func forgetAll(t *state.Tree, name string) error {
	f, err := t.TryLock(name)
	if err != nil {
		return exit.Errorf(exit.TempFail, "%s: another tpm command holds its lock; try again", name)
	}
	defer f.Close()
	for _, p := range t.Files(name) {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	os.Remove(t.Lock(name))
	return nil
}

// spawn hands the job to a spare supervisor and reads its answer.
func (j *job) spawn(t *state.Tree, line *meta.Meta, hold time.Duration) (int, *spare.Status, error) {
	defer func() { j.lock.Close(); j.lock = nil }()
	sup, err := takeSpare()
	if err != nil {
		return 0, nil, err
	}
	if err := sup.Send(t.Root, j.spec.Name, j.lock, line, hold, j.adopt); err != nil {
		return 0, nil, err
	}
	if j.more {
		primeSpare() // the next job's supervisor comes up while this one starts its program
	}
	return sup.Answer(j.spec.Name)
}

// waitReady waits until the program accepts TCP connections on its port, or
// has stayed up a second when it has none, or, with wait_log, until its
// supervisor saw the line and says "online". If the program ends first, or
// the timeout passes, it prints the last lines of the program's stderr.
func waitReady(e *cli.Env, t *state.Tree, s *spec.Spec, pid int, status *spare.Status, timeout time.Duration) error {
	ended := make(chan string, 1)
	online := make(chan struct{}, 1)
	go func() {
		for {
			line, err := status.ReadString('\n')
			if err != nil {
				ended <- "its supervisor ended"
				return
			}
			line = strings.TrimSpace(line)
			if line == "online" {
				online <- struct{}{}
			}
			if how, ok := strings.CutPrefix(line, "ended "); ok {
				ended <- "it ended (" + how + ")"
				return
			}
		}
	}()
	// ready tells the supervisor, and returns once it has recorded it, so
	// that whoever runs tpm-ls next sees the program online.
	ready := func() error {
		if _, err := t.Request(s.Name, "ready"); err != nil {
			return nil
		}
		select {
		case <-online:
		case <-ended:
		case <-time.After(readyAck):
		}
		return nil
	}
	// With --listen the supervisor's socket accepts connections into its
	// queue from the start: only the program's staying up tells.
	byLine := s.WaitLog != ""
	byPort := s.Port > 0 && !s.Listen && !byLine
	var lineSeen <-chan struct{}
	if byLine {
		lineSeen = online
	}
	if !byPort && !byLine {
		// Staying up a second is the test: a shorter timeout could only fail.
		timeout = max(timeout, time.Second+time.Second/2)
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	var tick <-chan time.Time
	var up <-chan time.Time
	if byPort {
		ticker := time.NewTicker(20 * time.Millisecond)
		defer ticker.Stop()
		tick = ticker.C
	} else if !byLine {
		up = time.After(time.Second)
	}
	for {
		if byPort && listening(pid, s.Port) {
			return ready()
		}
		select {
		case how := <-ended:
			what := "before it accepted connections on port " + strconv.Itoa(s.Port)
			if byLine {
				what = fmt.Sprintf("before it wrote a line matching %q", s.WaitLog)
			} else if !byPort {
				what = "within its first second"
			}
			return failWait(e, t, s.Name, fmt.Sprintf("%s: %s %s", s.Name, how, what))
		case <-lineSeen:
			return nil
		case <-deadline.C:
			if byLine {
				// The record stays launching: the line may come yet.
				return failWait(e, t, s.Name, fmt.Sprintf("%s: no line matching %q after %v", s.Name, s.WaitLog, timeout))
			}
			t.Request(s.Name, "ready")
			if !byPort {
				return failWait(e, t, s.Name, fmt.Sprintf("%s: not ready after %v", s.Name, timeout))
			}
			return failWait(e, t, s.Name, fmt.Sprintf("%s: not accepting connections on port %d after %v", s.Name, s.Port, timeout))
		case <-up:
			return ready()
		case <-tick:
		}
	}
}

// listening reports whether the program (its process group, led by pid)
// listens on port p. Another process on the port (a sibling instance
// sharing it with SO_REUSEPORT, the run being reloaded) does not count:
// where the system cannot tell them apart (macOS), a connection that is
// accepted does.
func listening(pid, p int) bool {
	if runtime.GOOS == "linux" {
		return proc.Listening(group(pid), p)
	}
	return accepts(p)
}

// group lists the live processes of process group pgid.
func group(pgid int) []int {
	all, _ := proc.All()
	var out []int
	for _, in := range all {
		if in.PGID == pgid && !in.Zombie {
			out = append(out, in.PID)
		}
	}
	return out
}

func accepts(p int) bool {
	for _, host := range []string{"127.0.0.1", "::1"} {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(host, strconv.Itoa(p)), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return true
		}
	}
	return false
}

// readyAck bounds the wait for the supervisor to record that its program is
// ready.
const readyAck = 2 * time.Second

// stderrLines is how much of the program's stderr a failed --wait shows.
const stderrLines = 10

func failWait(e *cli.Env, t *state.Tree, name, msg string) error {
	e.Warnf("%s", msg)
	if tail, err := logfile.Tail(t.Err(name), stderrLines); err == nil && len(tail) > 0 {
		e.Warnf("last lines of %s:", t.Err(name))
		e.Stderr.Write(tail)
		if tail[len(tail)-1] != '\n' {
			e.Stderr.Write([]byte("\n"))
		}
	}
	return cli.Silent(exit.Failure)
}
