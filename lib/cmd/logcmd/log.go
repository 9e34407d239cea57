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
	"os"
	"os/signal"
	"slices"
	"strconv"
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
	if d, err := spec.ParseAge(s); err == nil {
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
