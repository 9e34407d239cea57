package startcmd

// Start order (depends_on): the processes of one start come up in the
// order of their dependencies, each once what it depends on is ready.
//
// Ready is what tpm-start --wait waits for: the program listens on its
// PORT (its own process group holds the socket), or, with wait_log, has
// written a line that matches; with neither (or with --listen, where the
// supervisor's socket accepts from the start), it has run a second (the
// supervisor then records it online). A job that does not restart
// (restart no, autorestart: false) is ready once it has exited
// successfully (status exited: any process that has is done); listening
// on its PORT, or its wait_log line, count too. A dependency that ends otherwise (errored, stopped), or
// is not ready within the timeout (--wait's, 30 s by default) for each
// dependency, keeps its dependents from starting: they are named, with
// why, and tpm-start exits 1 once the rest has started. A dependency on
// NAME is on all its instances (NAME-0, NAME-1...).
//
// A dependency that this start does not start (one that already runs, an
// app --only leaves out, or at --stale a process that is not stale) is
// taken as it stands: running, it is waited for until it is online (and
// listens on its PORT); a job whose record says exited is ready; anything
// else (stopped, errored, unknown) keeps its dependents down.
//
// The order: the jobs with no dependency in this start first, in their
// own order, then each level of dependents. The waits cost nothing to a
// supervisor: tpm-start polls the records, as --wait does. An ecosystem
// file and tpm-start --stale follow it; tpm-start NAME... and tpm-restart
// start what they are given in the order given.

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/logfile"
	"github.com/tetra-toolkit/tpm/lib/spec"
	"github.com/tetra-toolkit/tpm/lib/state"
)

// depPoll is how often a wait for a dependency looks again.
const depPoll = 20 * time.Millisecond

// ordered reports whether any job depends on another process.
func ordered(jobs []*job) bool {
	return slices.ContainsFunc(jobs, func(j *job) bool { return len(j.spec.DependsOn) > 0 })
}

// appName is the name a dependency names a job by: its app's, without the
// instance number.
func appName(s *spec.Spec) string {
	if s.Instance >= 0 {
		return strings.TrimSuffix(s.Name, "-"+strconv.Itoa(s.Instance))
	}
	return s.Name
}

// levels orders jobs: each after those of this start it depends on, the
// jobs of one level in their own order. Jobs on a cycle (records edited by
// hand: an ecosystem file with one is refused before) are returned apart,
// with the cycle.
func levels(jobs []*job) (order []*job, cyclic map[*job]string) {
	byApp := map[string][]int{}
	for i, j := range jobs {
		byApp[appName(j.spec)] = append(byApp[appName(j.spec)], i)
	}
	deps := make([][]int, len(jobs))
	for i, j := range jobs {
		for _, d := range j.spec.DependsOn {
			deps[i] = append(deps[i], byApp[d]...)
		}
	}
	const unseen, open = -1, -2
	level := make([]int, len(jobs))
	for i := range level {
		level[i] = unseen
	}
	cyclic = map[*job]string{}
	var path []int
	var visit func(i int) int
	visit = func(i int) int {
		switch level[i] {
		case open:
			k := slices.Index(path, i)
			var names []string
			for _, n := range append(slices.Clone(path[k:]), i) {
				names = append(names, jobs[n].spec.Name)
			}
			why := "depends_on makes a cycle: " + strings.Join(names, " -> ")
			for _, n := range path[k:] {
				cyclic[jobs[n]] = why
			}
			return 0
		case unseen:
		default:
			return level[i]
		}
		level[i] = open
		path = append(path, i)
		l := 0
		for _, d := range deps[i] {
			l = max(l, visit(d)+1)
		}
		path = path[:len(path)-1]
		level[i] = l
		return l
	}
	for i := range jobs {
		visit(i)
	}
	idx := make([]int, 0, len(jobs))
	for i, j := range jobs {
		if _, bad := cyclic[j]; !bad {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int { return level[a] - level[b] })
	for _, i := range idx {
		order = append(order, jobs[i])
	}
	return order, cyclic
}

// launchOrdered is launchAll for jobs with dependencies: every lock taken
// first (a process already running is said, as launchAll says it, and is
// waited for as it stands), then the jobs started in order, each once what
// it depends on is ready. alone is --stale's way: each port is checked as
// its job starts and a job that fails to start keeps only its dependents
// down; otherwise every port is checked before the first start, and a
// failed start ends the whole start, as launchAll's.
func launchOrdered(e *cli.Env, g *grammar, t *state.Tree, jobs []*job, alone bool) error {
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
	code := exit.OK
	fail := func(err error) {
		e.Report(err)
		code = max(code, exit.Code(err))
	}
	order, cyclic := levels(jobs)
	for _, j := range jobs {
		if why, bad := cyclic[j]; bad {
			fail(exit.Errorf(exit.DataErr, "%s: not started: %s", j.spec.Name, why))
		}
	}
	w := newWaiter(e, g, t)
	for j, why := range cyclic {
		w.failed[j.spec.Name] = why
	}
	var todo []*job
	for _, j := range order {
		if err := j.lockRun(t); err != nil {
			if exit.Code(err) != exit.Failure {
				releaseAll(todo)
				return err
			}
			fail(err) // already running: its dependents wait for it as it is
			continue
		}
		todo = append(todo, j)
	}
	if !alone {
		if err := checkPorts(t, todo); err != nil {
			releaseAll(todo)
			return err
		}
	}
	for i, j := range todo {
		if why := w.ready(j); why != "" {
			fail(exit.Errorf(exit.Failure, "%s: not started: %s", j.spec.Name, why))
			w.showTail()
			w.failed[j.spec.Name] = j.spec.Name + " was not started"
			j.lock.Close()
			j.lock = nil
			if j.fresh {
				forget(t, j.spec.Name)
			}
			continue
		}
		if alone {
			if err := checkPorts(t, []*job{j}); err != nil {
				releaseAll([]*job{j})
				fail(fmt.Errorf("%s: %w", j.spec.Name, err))
				w.failed[j.spec.Name] = j.spec.Name + " was not started"
				continue
			}
		}
		j.more = i+1 < len(todo)
		w.mark(j)
		line, err := j.launch(e, g, t)
		if err != nil {
			w.failed[j.spec.Name] = j.spec.Name + " did not start"
			if !alone {
				releaseAll(todo[i+1:])
				if code == exit.OK {
					return err
				}
				fail(err)
				return cli.Silent(code)
			}
			fail(fmt.Errorf("%s: %w", j.spec.Name, err))
			continue
		}
		g.started = append(g.started, j.spec.Name)
		fmt.Fprintln(e.Stdout, line)
	}
	if code != exit.OK {
		return cli.Silent(code)
	}
	return nil
}

// waiter waits for the dependencies of the jobs of one start.
type waiter struct {
	e       *cli.Env
	t       *state.Tree
	timeout time.Duration
	started map[string]*logMark // the processes this start started, with where their logs stood
	failed  map[string]string   // processes that will not be ready, and why
	isReady map[string]bool
	names   func() []string // the names of the tree, read once
	tail    string          // a process that has just failed: the end of its stderr is to be shown
}

func newWaiter(e *cli.Env, g *grammar, t *state.Tree) *waiter {
	timeout := DefaultWait
	if g.Wait.On {
		timeout = g.Wait.Timeout
	}
	w := &waiter{e: e, t: t, timeout: timeout, started: map[string]*logMark{}, failed: map[string]string{}, isReady: map[string]bool{}}
	var ns []string
	read := false
	w.names = func() []string {
		if !read {
			ns, _ = t.Names()
			read = true
		}
		return ns
	}
	return w
}

// mark notes that j is about to start here, and where its logs stand: a
// wait_log line counts from there.
func (w *waiter) mark(j *job) {
	m := &logMark{}
	if j.spec.WaitLog != "" {
		m.re, _ = regexp.Compile(j.spec.WaitLog)
		m.stamps = j.spec.Timestamps
		for _, p := range []string{w.t.Out(j.spec.Name), w.t.Err(j.spec.Name)} {
			m.files = append(m.files, newLogScan(p))
		}
	}
	w.started[j.spec.Name] = m
}

// ready waits until every dependency of j is ready, and returns "" or why
// one will not be.
func (w *waiter) ready(j *job) string {
	for _, d := range j.spec.DependsOn {
		targets := w.resolve(d)
		if len(targets) == 0 {
			return fmt.Sprintf("it depends on %s, and no process is named so", d)
		}
		for _, n := range targets {
			if why := w.one(n); why != "" {
				return why
			}
		}
	}
	return ""
}

// resolve finds the processes a dependency names: the process of that
// name, or the instances of that app.
func (w *waiter) resolve(d string) []string {
	if _, ok := w.started[d]; ok {
		return []string{d}
	}
	if _, ok := w.failed[d]; ok {
		return []string{d}
	}
	var out []string
	for n := range w.started {
		if isInstance(n, d) {
			out = append(out, n)
		}
	}
	for n := range w.failed {
		if isInstance(n, d) && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	if len(out) > 0 {
		slices.Sort(out)
		return out
	}
	ns := w.names()
	if slices.Contains(ns, d) {
		return []string{d}
	}
	for _, n := range ns {
		if isInstance(n, d) {
			if m, err := w.t.ReadMeta(n); err == nil && n == d+"-"+m.Value(spec.KeyInstance) {
				out = append(out, n)
			}
		}
	}
	return out
}

// isInstance reports whether n is named as an instance of app: app-N.
func isInstance(n, app string) bool {
	rest, ok := strings.CutPrefix(n, app+"-")
	if !ok || rest == "" {
		return false
	}
	_, err := strconv.Atoi(rest)
	return err == nil
}

// one waits for the process n, once: "" when it is ready, or why it will
// not be (said once, with the last lines of its stderr).
func (w *waiter) one(n string) string {
	if w.isReady[n] {
		return ""
	}
	if why, ok := w.failed[n]; ok {
		return why
	}
	mark, here := w.started[n]
	deadline := time.Now().Add(w.timeout)
	var last string
	for {
		ok, why, final := w.check(n, mark, here)
		switch {
		case ok:
			w.isReady[n] = true
			return ""
		case final:
			w.fail(n, why)
			return w.failed[n]
		}
		last = why
		if time.Now().After(deadline) {
			msg := fmt.Sprintf("%s is not ready after %v", n, w.timeout)
			if last != "" {
				msg += " (" + last + ")"
			}
			w.fail(n, msg)
			return w.failed[n]
		}
		time.Sleep(depPoll)
	}
}

// fail records why n will not be ready; the end of its stderr is shown
// once, after the first dependent it keeps down is named.
func (w *waiter) fail(n, why string) {
	w.failed[n] = why
	w.tail = n
}

// showTail shows the last lines of the stderr of the process that has just
// failed, as --wait does.
func (w *waiter) showTail() {
	n := w.tail
	w.tail = ""
	if n == "" {
		return
	}
	if tail, err := logfile.Tail(w.t.Err(n), stderrLines); err == nil && len(tail) > 0 {
		w.e.Warnf("last lines of %s:", w.t.Err(n))
		w.e.Stderr.Write(tail)
		if tail[len(tail)-1] != '\n' {
			w.e.Stderr.Write([]byte("\n"))
		}
	}
}

// check looks once at process n: ready; or not yet, and why; or never
// (final), and why. here is set for a process this start started (mark
// says where its logs stood).
func (w *waiter) check(n string, mark *logMark, here bool) (ok bool, why string, final bool) {
	r, err := w.t.Load(n)
	switch {
	case err != nil && here:
		return false, "no record yet", false
	case err != nil:
		return false, fmt.Sprintf("no process is named %s", n), true
	case r.Meta == nil:
		return false, fmt.Sprintf("%s: %v", n, r.Err), true
	}
	s, err := spec.FromMeta(n, r.Meta)
	if err != nil {
		s = spec.New()
	}
	job := s.Restart == spec.RestartNo
	ended := ""
	if c := r.Meta.Value(state.KeyExitCode); c != "" {
		ended = " (exit code " + c + ")"
	} else if sig := r.Meta.Value(state.KeyExitSig); sig != "" {
		ended = " (signal " + sig + ")"
	}
	switch r.Status {
	case state.Exited:
		// Ended by itself, successfully, for good: done (a job's way;
		// a restart policy that would start it again never says exited).
		return true, "", true
	case state.Errored:
		return false, n + " errored" + ended, true
	case state.Stopped:
		return false, n + " is stopped", true
	case state.Stale:
		return false, n + " is not running (stale)", true
	case state.Invalid:
		return false, fmt.Sprintf("%s: %v", n, r.Err), true
	}
	if !r.ProgAlive {
		return false, n + " is " + r.Status, false
	}
	switch {
	case here && mark.re != nil:
		if mark.seen() {
			return true, "", true
		}
		return false, "no line matching its wait_log yet", false
	case !here && !job && r.Status == state.Online && (s.Port == 0 || s.Listen || listening(r.Prog.PID, s.Port)):
		return true, "", true
	case s.Port > 0 && !s.Listen:
		if listening(r.Prog.PID, s.Port) {
			return true, "", true
		}
		return false, "not listening on port " + strconv.Itoa(s.Port), false
	case job:
		return false, "it has not ended yet", false
	case r.Status == state.Online:
		return true, "", true
	}
	return false, n + " is " + r.Status, false
}

// logMark is where the logs of a process started here stood, for its
// wait_log.
type logMark struct {
	re     *regexp.Regexp
	stamps bool
	files  []*logScan
}

// seen reports whether a line matching the expression has been written
// since the mark.
func (m *logMark) seen() bool {
	for _, f := range m.files {
		for _, l := range f.lines() {
			if m.stamps && len(l) >= logfile.StampLen {
				l = l[logfile.StampLen:]
			}
			if m.re.Match(l) {
				return true
			}
		}
	}
	return false
}

// logScan reads the lines added to a log file since it was made.
type logScan struct {
	path string
	off  int64
	rest []byte
}

func newLogScan(path string) *logScan {
	s := &logScan{path: path}
	if fi, err := os.Stat(path); err == nil {
		s.off = fi.Size()
	}
	return s
}

// lines returns the whole lines written since the last call. A file that
// shrank was rotated: it is read from its start.
func (s *logScan) lines() [][]byte {
	f, err := logfile.OpenRead(s.path)
	if err != nil {
		return nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil
	}
	if fi.Size() < s.off {
		s.off, s.rest = 0, nil
	}
	if fi.Size() == s.off {
		return nil
	}
	buf, err := io.ReadAll(io.NewSectionReader(f, s.off, min(fi.Size()-s.off, 1<<20)))
	if err != nil {
		return nil
	}
	s.off += int64(len(buf))
	data := append(s.rest, buf...)
	i := bytes.LastIndexByte(data, '\n')
	if i < 0 {
		s.rest = data
		return nil
	}
	s.rest = slices.Clone(data[i+1:])
	return bytes.Split(data[:i], []byte("\n"))
}
