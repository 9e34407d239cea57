package events

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"slices"

	"github.com/tetra-toolkit/tpm/lib/logfile"
	"github.com/tetra-toolkit/tpm/lib/meta"
)

// lastBlocks are how much of the end of an events file Last reads: events
// are short lines, and tpm-ls --json reads one per process, so one small
// pread, and a second, larger one only for a long last line; never the
// whole file.
var lastBlocks = []int64{512, 8 << 10}

// Last returns the last event of the events file at path, reading only the
// end of it; ok is false when there is none (no file, an empty one, or no
// line that parses in the block read). A file just rotated is empty: the
// last event is then the end of path.1. Only regular files are read (see
// logfile.OpenRead).
func Last(path string) (e Event, ok bool, err error) {
	for _, p := range []string{path, path + ".1"} {
		e, ok, err = lastIn(p)
		if ok || err != nil {
			return e, ok, err
		}
	}
	return Event{}, false, nil
}

// lastIn is Last for one file; a missing file has no event.
func lastIn(path string) (Event, bool, error) {
	f, err := logfile.OpenRead(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Event{}, false, nil
	}
	if err != nil {
		return Event{}, false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return Event{}, false, err
	}
	for _, block := range lastBlocks {
		off := max(fi.Size()-block, 0)
		buf := make([]byte, fi.Size()-off)
		n, err := f.ReadAt(buf, off)
		if err != nil && err != io.EOF {
			return Event{}, false, err
		}
		if e, ok := LastIn(buf[:n], off > 0); ok || off == 0 {
			return e, ok, nil
		}
	}
	return Event{}, false, nil
}

// LastIn returns the last event of the end of an events file, b. A last
// line without its newline is being written and is skipped, and so is a
// first line that may be cut (cut: b does not start the file). Lines that do
// not parse are passed over.
func LastIn(b []byte, cut bool) (Event, bool) {
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	} else {
		return Event{}, false // no whole line
	}
	for len(b) > 0 {
		i := bytes.LastIndexByte(b, '\n')
		line := b[i+1:]
		if i < 0 && cut {
			break
		}
		if e, err := Parse(line); err == nil {
			return e, true
		}
		if i < 0 {
			break
		}
		b = b[:i]
	}
	return Event{}, false
}

// KindOf returns the kind of a stamped events-file line, read cheaply
// ("YYYY-MM-DD HH:MM:SS event=KIND ..."), or "" when it is not one.
func KindOf(line []byte) string {
	if len(line) < stampLen {
		return ""
	}
	rest, ok := bytes.CutPrefix(line[stampLen:], []byte("event="))
	if !ok {
		return ""
	}
	if i := bytes.IndexAny(rest, " \r\n"); i >= 0 {
		rest = rest[:i]
	}
	return string(rest)
}

// Ends reports whether an event of this kind closes a run of the program:
// it follows the run's last output (exit, and the restart or errored that
// follow an exit). Every other event (start, adopt, stop, a policy's) comes
// before what the program writes next. Time stamps being whole seconds,
// tpm-log uses this to place events among the program's lines of the same
// second.
func Ends(kind string) bool {
	switch kind {
	case Exit, Restart, Errored:
		return true
	}
	return false
}

// reserved are the members of an event's JSON form that are not its fields.
var reserved = []string{"time", "event", "name", "stream", "line"}

// Extra returns the fields of e that can stand beside tpm's own members in
// a JSON object (time, event, name, stream, line): a field named like one
// of those is left out (it is still in the line).
func (e Event) Extra() []meta.Field {
	var out []meta.Field
	for _, f := range e.Fields {
		if !slices.Contains(reserved, f.Key) {
			out = append(out, f)
		}
	}
	return out
}
