package logcmd

import (
	"bytes"
	"errors"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/tetra-toolkit/tpm/lib/logfile"
	"github.com/tetra-toolkit/tpm/lib/names"
	"github.com/tetra-toolkit/tpm/lib/spec"
	"github.com/tetra-toolkit/tpm/lib/state"
)

// Following (-f): each stream's files held by inode across rotations,
// truncations and restarts, woken by the folder's watcher, printed in whole
// lines (or at once, for one stream without a prefix).

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
