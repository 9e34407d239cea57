// Package logcmd is tpm-log: it prints and follows the logs of processes.
//
// One process: its lines as they stand in the files, stdout, stderr and the
// lifecycle events (logs/NAME.events, lib/events) merged in time order (the
// stamps are fixed-width local times, so they sort as text). Several: each
// line prefixed "NAME | ". With -f it goes on following the files across
// rotations, truncations and restarts, and with --all or a pattern also
// picks up processes that appear; SIGINT or a closed pipe end it quietly.
//
// Stamps are whole seconds, so the true order of an event and the program's
// lines of the same second is unknown. tpm-log places the events of a second
// that come before its first exit, restart or errored event (a start, a
// stop, an adoption: what precedes output) before the program's lines of
// that second, and the others (an exit follows the run's last lines) after
// them. Events keep their own order, and so do the lines of one stream.
// Following, the rule applies to what one look at the files finds: what an
// earlier look printed stays before.
package logcmd

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/events"
	"github.com/tetra-toolkit/tpm/lib/logfile"
	"github.com/tetra-toolkit/tpm/lib/names"
	"github.com/tetra-toolkit/tpm/lib/spec"
	"github.com/tetra-toolkit/tpm/lib/state"
)

type grammar struct {
	Lines    string   `short:"n" placeholder:"N" help:"Lines to show per process, events included (default 50, or all with --since; all: every line)."`
	Follow   bool     `short:"f" help:"Keep printing new lines, across rotations and restarts, until interrupted."`
	Out      bool     `help:"Standard output (only it, unless --err or --events is given too)."`
	Err      bool     `help:"Standard error (only it, unless --out or --events is given too)."`
	Events   bool     `help:"Lifecycle events (only them, unless --out or --err is given too)."`
	NoEvents bool     `help:"No lifecycle events: only the program's output."`
	JSON     bool     `help:"One JSON object per line: time (RFC 3339), name, stream (out, err, event), line, and an event's fields."`
	UTC      bool     `help:"Print time stamps in UTC (and read --since times as UTC)."`
	Since    string   `placeholder:"D|TIME" help:"Only lines since a duration ago (10m, 2h, 1d) or a time (15:04, 2006-01-02 15:04:05)."`
	All      bool     `help:"Every process (with -f, also those that appear)."`
	NoPrefix bool     `help:"No NAME | prefix when showing several processes."`
	Prefix   bool     `help:"The NAME | prefix even for one process (tpm-start --foreground uses it)."`
	Until    bool     `name:"until-stopped" help:"With -f: end once none of the processes runs any more (and every line of theirs is shown)."`
	Targets  []string `arg:"" optional:"" name:"NAME|PATTERN" help:"Processes: names or shell globs ('api-*')."`

	cli.HostFlag `embed:""` // --host: logcmd/host.go
}

const description = `Print the logs of processes: the last lines of stdout and stderr, and the
lifecycle events (start, exit, restart, stop...), merged in time order. With
several processes each line is prefixed "NAME | ". Piped, an event is the line
of the events file ("STAMP event=exit code=1 ..."); on a terminal it is marked
"-- exit code=1 ..." and highlighted.

Exit codes: 0 ok (also when ended by SIGINT or a closed pipe), 64 usage, 66 no such process.`

// Main runs tpm-log and returns its exit status.
func Main(e *cli.Env) int {
	// A reader that goes away (tpm-log x | head) makes writes fail with
	// EPIPE, which ends tpm-log quietly, instead of killing it.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	var g grammar
	return e.Run(&g, description, func() error {
		if err := run(e, &g); !errors.Is(err, errClosed) {
			return err
		}
		return nil
	})
}

// errClosed ends tpm-log quietly: its reader went away, or SIGINT came.
var errClosed = errors.New("closed")

func run(e *cli.Env, g *grammar) error {
	if done, err := onHosts(e, g); done {
		return err
	}
	if g.All == (len(g.Targets) > 0) {
		return cli.WithHint(cli.Usagef("give NAMEs or --all"), "tpm-log NAME..., tpm-log 'api-*' or tpm-log --all")
	}
	lines := -1 // every line
	if g.Lines == "" {
		g.Lines = "50"
		if g.Since != "" {
			g.Lines = "all" // --since says how far back
		}
	}
	if g.Lines != "all" {
		n, err := strconv.Atoi(g.Lines)
		if err != nil || n < 0 {
			return cli.Usagef("--lines %q: want a count or all", g.Lines)
		}
		lines = n
	}
	var cutoff string
	if g.Since != "" {
		loc := time.Local
		if g.UTC {
			loc = time.UTC // the times the user reads
		}
		t, err := parseSince(g.Since, time.Now().In(loc), loc)
		if err != nil {
			return cli.Usagef("--since: %v", err)
		}
		cutoff = t.In(time.Local).Format("2006-01-02 15:04:05")
	}
	kinds, err := streams(g)
	if err != nil {
		return err
	}
	t, err := state.Open()
	if err != nil {
		return err
	}
	var ns []string
	if g.All {
		ns, err = t.Names()
	} else {
		ns, err = cli.Resolve(t, g.Targets)
	}
	if err != nil {
		return err
	}
	// Several processes get a prefix; so does a pattern or --all, which may
	// come to match several.
	prefixed := g.Prefix || !g.NoPrefix && (len(ns) > 1 || g.All || hasPattern(g.Targets))
	w := &writer{out: bufio.NewWriterSize(e.Stdout, 64<<10), prefixed: prefixed, colour: cli.Colour(e.Stdout),
		terminal: cli.Terminal(e.Stdout), json: g.JSON, utc: g.UTC}
	w.width(ns)

	l := &logs{tree: t, kinds: kinds, followers: map[string]*follower{}, stdout: e.Stdout, warn: e.Warnf}
	var entries []entry
	for _, n := range ns {
		es, err := l.open(n, lines, cutoff, g.Follow)
		if err != nil {
			return err
		}
		entries = append(entries, es...)
	}
	slices.SortStableFunc(entries, byTime)
	for _, en := range entries {
		if err := w.line(en); err != nil {
			return err
		}
	}
	if err := w.flush(); err != nil {
		return err
	}
	if !g.Follow {
		return nil
	}
	return l.follow(w, g, ns)
}

// The streams of a process, by the suffix of their file.
const (
	kindOut    = "out"
	kindErr    = "err"
	kindEvents = "events"
)

// streams are the streams asked for: --out, --err and --events each add
// theirs; none of them, every stream; --no-events takes the events away.
func streams(g *grammar) ([]string, error) {
	if g.Events && g.NoEvents {
		return nil, cli.Usagef("--events and --no-events together show nothing")
	}
	var kinds []string
	for _, k := range []struct {
		on   bool
		kind string
	}{{g.Out, kindOut}, {g.Err, kindErr}, {g.Events, kindEvents}} {
		if k.on {
			kinds = append(kinds, k.kind)
		}
	}
	if len(kinds) == 0 {
		kinds = []string{kindOut, kindErr}
		if !g.NoEvents {
			kinds = append(kinds, kindEvents)
		}
	}
	return kinds, nil
}

func hasPattern(args []string) bool {
	return slices.ContainsFunc(args, names.IsPattern)
}

// entry is one line to print.
type entry struct {
	stamp []byte // its own stamp, or the last one before it in its file
	name  string
	line  []byte // without the newline
	kind  string // its stream
	// rank orders the lines of one second (see the package doc): events
	// before the program's lines (0), the program's lines (1), events after
	// them (2).
	rank int
	// own says the line starts with its stamp (the writer may rewrite it,
	// or take it off for JSON).
	own bool
}

// byTime orders entries by their stamp, then their rank within a second.
func byTime(a, b entry) int {
	if c := bytes.Compare(a.stamp, b.stamp); c != 0 {
		return c
	}
	return a.rank - b.rank
}

// ranker gives the events of one stream their rank within their second:
// before the program's lines until the first event of the second that ends
// a run, after them from there on.
type ranker struct {
	sec   string
	ended bool
}

func (r *ranker) rank(stamp []byte, line []byte) int {
	if string(stamp) != r.sec {
		r.sec, r.ended = string(stamp), false
	}
	if events.Ends(events.KindOf(line)) {
		r.ended = true
	}
	if r.ended {
		return 2
	}
	return 0
}

// stream is how the lines of one file are read: which stream, whether the
// program's lines carry stamps, and, for events, their ranks so far.
type stream struct {
	name, kind string
	stamped    bool
	lastStamp  []byte // the stamp of the last stamped line
	ranks      ranker
}

// entry makes the entry of one line of the stream.
func (s *stream) entry(line []byte) entry {
	en := entry{name: s.name, line: line, kind: s.kind, rank: 1}
	if s.stamped {
		if st := logfile.Stamp(line); st != nil {
			s.lastStamp = st
			en.own = true
		}
		// A line without one (the rest of a line cut by a rotation) takes
		// the stamp before it. The stamp may point into a buffer the caller
		// reuses: writer.add copies what it keeps.
		en.stamp = s.lastStamp
	}
	if s.kind == kindEvents {
		en.rank = s.ranks.rank(en.stamp, line)
	}
	return en
}

// path is the file of one stream of name.
func (l *logs) path(name, kind string) string {
	if kind == kindEvents {
		return l.tree.Events(name)
	}
	p, _ := l.tree.Path(name, kind)
	return p
}

// logs is what tpm-log reads: the streams of each process.
type logs struct {
	tree      *state.Tree
	kinds     []string
	followers map[string]*follower // by path
	stdout    io.Writer
	warn      func(format string, args ...any)
	warned    map[string]bool
}

// skip warns, once, about a file that is left out (not a regular file: a
// FIFO or a link planted where a log should be).
func (l *logs) skip(err error) {
	if l.warned == nil {
		l.warned = map[string]bool{}
	}
	if msg := err.Error(); !l.warned[msg] {
		l.warned[msg] = true
		l.warn("%s", msg)
	}
}

// open reads the last n lines (n < 0: all; with a cutoff, those since it) of
// one process, merged in time order, and, when following, remembers where
// each file ended. A process logged without time stamps cannot be merged nor
// cut by time: it gives the last n lines of each stream, stdout first, then
// its events (which are always stamped), and with a cutoff only the events
// (with a warning).
func (l *logs) open(name string, n int, cutoff string, follow bool) ([]entry, error) {
	unstamped := false
	if m, err := l.tree.ReadMeta(name); err == nil {
		unstamped = m.Value(spec.KeyTimestamps) == "no"
	}
	if unstamped && cutoff != "" && (slices.Contains(l.kinds, kindOut) || slices.Contains(l.kinds, kindErr)) {
		l.warn("%s is logged without time stamps: --since cannot choose its lines", name)
	}
	var es []entry
	for _, k := range l.kinds {
		path := l.path(name, k)
		stamped := !unstamped || k == kindEvents
		var f *os.File
		var fw *follower
		var size int64
		if follow {
			var err error
			if f, err = logfile.OpenRead(path); err == nil {
				if fi, err := f.Stat(); err == nil {
					size = fi.Size()
				}
			} else if errors.Is(err, logfile.ErrNotRegular) {
				l.skip(err)
			} else if !errors.Is(err, os.ErrNotExist) {
				l.warn("%v", err)
			}
			fw = &follower{stream: stream{name: name, kind: k, stamped: stamped}, path: path, f: f, off: size, skip: l.skip}
			l.followers[path] = fw
		}
		if n == 0 || (!stamped && cutoff != "") {
			continue
		}
		data, err := l.readBack(path, f, size, follow, max(n, 0), cutoff)
		if err != nil {
			return nil, err
		}
		if follow {
			// A last line still being written is left to the follower, which
			// prints it whole when it ends. It may have begun in a rotated
			// file (a line longer than a whole file): the follower holds that
			// part, and reads the rest again from the current file.
			if i := bytes.LastIndexByte(data, '\n'); i+1 < len(data) {
				rest := data[i+1:]
				inCur := min(int64(len(rest)), fw.off)
				fw.off -= inCur
				fw.partial = append(fw.partial[:0], rest[:int64(len(rest))-inCur]...)
				data = data[:i+1]
			}
		}
		st := &stream{name: name, kind: k, stamped: stamped}
		got := split(st, data, cutoff)
		if unstamped && n > 0 && len(got) > n {
			got = got[len(got)-n:]
		}
		if fw != nil {
			// The follower goes on where the reading stopped: a line that
			// comes without a stamp takes the last one.
			fw.lastStamp = st.lastStamp
		}
		es = append(es, got...)
	}
	if unstamped {
		return es, nil // stdout, then stderr, then events, each cut already
	}
	// Merge the streams in time order; lines of one stream keep their order.
	slices.SortStableFunc(es, byTime)
	if n > 0 && len(es) > n {
		es = es[len(es)-n:]
	}
	return es, nil
}

// readBack reads the end of a stream: n lines, or, with a cutoff, enough to
// reach a line older than it. When following, f is the open current file (nil
// if there was none) and size where reading stops (what comes after is
// followed).
func (l *logs) readBack(path string, f *os.File, size int64, follow bool, n int, cutoff string) ([]byte, error) {
	var cur io.ReaderAt // nil: read path as it is now
	if follow {
		cur = bytes.NewReader(nil) // no current file: the follower reads it
		if f != nil {
			cur = f
		}
	}
	tail := func(want int) ([]byte, error) {
		return logfile.TailStream(path, cur, size, want, l.skip)
	}
	if cutoff == "" {
		return tail(n)
	}
	// Read more and more of the end until a line before the cutoff shows,
	// or everything is read.
	for want := 1000; ; want *= 4 {
		b, err := tail(want)
		if err != nil || logfile.CountLines(b) < want {
			return b, err
		}
		if s := logfile.Stamp(b); s != nil && string(s) < cutoff {
			return b, nil
		}
	}
}

// split cuts data into entries of the stream; a line without a stamp takes
// the stamp of the line before it. With a cutoff, older lines are left out.
func split(s *stream, data []byte, cutoff string) []entry {
	var es []entry
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		var line []byte
		if i < 0 {
			line, data = data, nil
		} else {
			line, data = data[:i], data[i+1:]
		}
		en := s.entry(line)
		if cutoff != "" && string(en.stamp) < cutoff {
			continue
		}
		es = append(es, en)
	}
	return es
}

// parseSince reads a duration ago (90s, 10m, 2h, 1d) or a time in loc.
func parseSince(s string, now time.Time, loc *time.Location) (time.Time, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.ParseFloat(d, 64); err == nil && n >= 0 {
			return now.Add(-time.Duration(n * 24 * float64(time.Hour))), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.In(loc), nil
	}
	for _, layout := range []string{"15:04:05", "15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			y, m, d := now.In(loc).Date()
			return time.Date(y, m, d, t.Hour(), t.Minute(), t.Second(), 0, loc), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither a duration (10m, 2h, 1d) nor a time (15:04, 2006-01-02 15:04:05)", s)
}

// closed turns the error of a write to a reader that went away into errClosed.
func closed(err error) error {
	if errors.Is(err, syscall.EPIPE) {
		return errClosed
	}
	return err
}

// follower follows one log file by path: when the path comes to name another
// file (a rotation, or the file removed and made again), it reads the old one
// to its end and goes on with the new one from its start.
type follower struct {
	stream
	path string
	f    *os.File
	off  int64
	// partial is the start of a line whose end has not come yet (printed
	// whole at its end, or in pieces of holdMax: see emit).
	partial []byte
	// skip is told about a file of the stream that is not a regular file
	// (nil: nobody).
	skip func(error)
	// last is the file read to its end when the path had moved on and its
	// successor was not there yet (caught in the middle of a rotation): the
	// next look starts from it, not from whatever the path names by then.
	last os.FileInfo
}

// follow prints what is appended to the followed files until interrupted.
func (l *logs) follow(w *writer, g *grammar, ns []string) error {
	dir := filepath.Join(l.tree.Root, state.LogsDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	wake, err := watch(dir)
	if err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	var gone <-chan struct{}
	if f, ok := l.stdout.(*os.File); ok {
		gone = hangup(f)
	}
	// Following one file of output without a prefix, a partial line (a
	// prompt) is shown at once, as it stands in the file; otherwise a line
	// waits for its end, so that prefixes stay at the start of lines, two
	// streams do not mix inside one, and a line can be shown in another form
	// (an event on a terminal, JSON, UTC).
	immediate := !w.prefixed && len(l.followers) == 1 && w.raw()
	for _, f := range l.followers {
		immediate = immediate && f.kind != kindEvents
	}
	known := map[string]bool{}
	for _, n := range ns {
		known[n] = true
	}
	last := false
	var check <-chan time.Time
	if g.Until {
		// The supervisors' last act is a record, not a log line: look
		// now and then whether anything still runs.
		tick := time.NewTicker(untilEvery)
		defer tick.Stop()
		check = tick.C
	}
	for {
		if g.All || hasPattern(g.Targets) {
			l.discover(g, known)
		}
		for _, p := range slices.Sorted(maps.Keys(l.followers)) {
			f := l.followers[p]
			// Events are placed among the lines of one look only: what an
			// earlier look printed came before (an exit seen then does not
			// put the start seen now after the new run's first lines).
			f.ranks = ranker{}
			if err := f.poll(w, immediate); err != nil {
				return err
			}
		}
		if err := w.flush(); err != nil {
			return err
		}
		if last {
			return errClosed
		}
		select {
		case <-wake:
		case <-sig:
			// What the files hold already is shown before the end.
			last = true
		case <-check:
			last = !l.running(ns)
		case <-gone:
			return errClosed
		}
	}
}

// untilEvery is how often tpm-log -f --until-stopped looks whether its
// processes still run.
const untilEvery = 100 * time.Millisecond

// running reports whether anything of the processes still runs.
func (l *logs) running(ns []string) bool {
	for _, n := range ns {
		if r, err := l.tree.Load(n); err == nil && r.Alive() {
			return true
		}
	}
	return false
}

// discover adds the processes that appeared since and match what was asked.
func (l *logs) discover(g *grammar, known map[string]bool) {
	all, _ := l.tree.Names()
	for _, n := range all {
		if known[n] {
			continue
		}
		match := g.All
		for _, p := range g.Targets {
			match = match || names.Match(p, n)
		}
		if !match {
			continue
		}
		known[n] = true
		unstamped := false
		if m, err := l.tree.ReadMeta(n); err == nil {
			unstamped = m.Value(spec.KeyTimestamps) == "no"
		}
		for _, k := range l.kinds {
			path := l.path(n, k)
			st := stream{name: n, kind: k, stamped: !unstamped || k == kindEvents}
			l.followers[path] = &follower{stream: st, path: path, skip: l.skip} // new: from its start
		}
	}
}

// poll prints what was appended since the last look.
//
// The writer rotates by closing its file, renaming it to NAME.1 (the others
// shift along) and opening a new NAME, so once the path names another file
// the one we hold is complete. Hence the order: look at the path first, then
// read our file to its end, then, if the path had moved on, read every
// rotated file newer than ours (found by inode: several rotations may have
// happened since the last look), then the new current one.
func (f *follower) poll(w *writer, immediate bool) error {
	if immediate && len(f.partial) > 0 {
		// The start of the line in progress, read back from rotated files
		// before following began: shown at once, as the rest will be.
		if _, err := w.out.Write(f.partial); err != nil {
			return closed(err)
		}
		f.partial = nil // it may have been large
	} else if len(f.partial) > holdMax {
		// The same, too long to hold (see holdMax).
		if err := w.add(f.entry(f.partial)); err != nil {
			return err
		}
		f.partial = nil
	}
	if f.f == nil && f.last != nil {
		return f.successors(w, immediate, f.last)
	}
	if f.f == nil {
		nf, err := logfile.OpenRead(f.path)
		if err != nil {
			f.skipped(err)
			return nil // not there (yet), or not a file to read
		}
		f.f, f.off = nf, 0
	}
	// Lstat: a link that comes to stand at the path is another file, and
	// not one to read.
	pi, perr := os.Lstat(f.path)
	fi, err := f.f.Stat()
	if err == nil && fi.Size() < f.off {
		f.off = 0 // truncated in place: start again from the top
	}
	if err := f.drain(w, immediate); err != nil {
		return err
	}
	if perr == nil && err == nil && os.SameFile(fi, pi) {
		return nil
	}
	// The path moved on (or went away): ours is complete and read.
	f.f.Close()
	f.f = nil
	if err != nil {
		return nil
	}
	return f.successors(w, immediate, fi)
}

// successors reads, oldest first, every file of the stream newer than last
// (which is read), and follows the current one. Each file is found in a
// snapshot of the folder taken under its rotation lock, opened, and checked
// to be the file of the snapshot; when the writer has rotated since, the
// snapshot is taken again.
func (f *follower) successors(w *writer, immediate bool, last os.FileInfo) error {
	f.last = last
	for tries := 0; tries < 100; tries++ {
		type file struct {
			path string
			fi   os.FileInfo
		}
		// The snapshot is taken under the folder's rotation lock: no
		// rotation is half done while we look.
		var snap []file // newest first
		unlock, lerr := logfile.LockDir(filepath.Dir(f.path), false)
		var odd []string
		for _, p := range logfile.Series(f.path) {
			if fi, err := os.Lstat(p); err == nil {
				if !fi.Mode().IsRegular() {
					odd = append(odd, p) // never read; said once unlocked
					continue
				}
				snap = append(snap, file{p, fi})
			}
		}
		if lerr == nil {
			unlock()
		}
		for _, p := range odd {
			if of, err := logfile.OpenRead(p); err != nil {
				f.skipped(err)
			} else {
				of.Close() // a regular file by now: the next look takes it
			}
		}
		newer := len(snap) // files before this index are newer than last
		for i, s := range snap {
			if os.SameFile(s.fi, last) {
				newer = i
				break
			}
		}
		if newer == 0 {
			f.last = last // nothing newer yet: look again from here
			return nil
		}
		next := snap[newer-1] // the oldest of the newer ones
		nf, err := logfile.OpenRead(next.path)
		if err != nil {
			continue
		}
		if ni, err := nf.Stat(); err != nil || !os.SameFile(ni, next.fi) {
			nf.Close()
			continue // moved under us: look again
		}
		f.f, f.off, f.last = nf, 0, nil
		if newer-1 == 0 && next.path == f.path {
			// The current file: follow it from its start.
			return f.poll(w, immediate)
		}
		// A rotated file: complete; read it all and go on.
		err = f.drain(w, immediate)
		nf.Close()
		f.f = nil
		if err != nil {
			return err
		}
		last, f.last = next.fi, next.fi
	}
	return nil
}

func (f *follower) drain(w *writer, immediate bool) error {
	buf := make([]byte, 64<<10)
	for {
		n, err := f.f.ReadAt(buf, f.off)
		if n > 0 {
			f.off += int64(n)
			if err := f.emit(w, buf[:n], immediate); err != nil {
				return err
			}
		}
		if err != nil || n == 0 {
			return nil
		}
	}
}

// skipped passes on the error of a file that is not a regular file.
func (f *follower) skipped(err error) {
	if f.skip != nil && errors.Is(err, logfile.ErrNotRegular) {
		f.skip(err)
	}
}

// holdMax bounds the start of a line a follower holds while it waits for the
// line's end. Past it the piece is printed as a line of its own, and the rest
// of the line comes as further lines: output with no newline at all (a
// progress bar redrawn with carriage returns) neither grows tpm-log's memory
// without bound nor stays unseen. 64 KiB keeps every usual line whole.
const holdMax = 64 << 10

func (f *follower) emit(w *writer, b []byte, immediate bool) error {
	if immediate {
		_, err := w.out.Write(b)
		return closed(err)
	}
	data := append(f.partial, b...)
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		if err := w.add(f.entry(data[:i])); err != nil {
			return err
		}
		data = data[i+1:]
	}
	if len(data) > holdMax {
		if err := w.add(f.entry(data)); err != nil {
			return err
		}
		data = data[:0]
	}
	f.lastStamp = bytes.Clone(f.lastStamp) // it points into data, which is reused
	f.partial = append(f.partial[:0], data...)
	return nil
}
