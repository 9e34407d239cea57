package logcmd

import (
	"bufio"
	"context"
	"errors"
	"io"
	"maps"
	"slices"

	"github.com/tetra-toolkit/tpm/lib/state"
)

// Stream is tpm-log --json NAME for a caller that is not a terminal command
// (tpm-serve): the same reading, merging, following and JSON form, ended by a
// context instead of a signal, woken by the caller's watcher, and holding no
// file once it returns (a server streams to many clients over its life).

// The streams Stream can show, as tpm-log names them.
const (
	StreamOut    = kindOut
	StreamErr    = kindErr
	StreamEvents = kindEvents
)

// StreamOptions says what Stream shows.
type StreamOptions struct {
	// Streams are StreamOut, StreamErr and StreamEvents; none: all three,
	// as tpm-log.
	Streams []string
	// Lines is how many of the last lines to show first (events included);
	// below 0, every line.
	Lines int
	// Follow goes on with what is appended, across rotations, truncations
	// and restarts, until the context ends.
	Follow bool
	// Wake receives a value whenever the logs folder may have changed
	// (Follow only): the caller watches it, as tpm-log does with inotify.
	Wake <-chan struct{}
	// Warn, when set, is told about a file of the process that is left out
	// (not a regular file).
	Warn func(format string, args ...any)
}

// Stream writes the lines of the process name to out as tpm-log --json NAME
// prints them: one JSON object and a newline per line, time (RFC 3339),
// name, stream (out, err, event) and line, plus an event's fields. It
// returns nil when the context ends or out's reader goes away (EPIPE), and
// writes out in pieces of whole lines, once per look at the files.
func Stream(ctx context.Context, t *state.Tree, name string, o StreamOptions, out io.Writer) error {
	kinds := o.Streams
	if len(kinds) == 0 {
		kinds = []string{kindOut, kindErr, kindEvents}
	}
	warn := o.Warn
	if warn == nil {
		warn = func(string, ...any) {}
	}
	l := &logs{tree: t, kinds: kinds, followers: map[string]*follower{}, stdout: out, warn: warn}
	defer func() {
		for _, f := range l.followers {
			if f.f != nil {
				f.f.Close()
			}
		}
	}()
	w := &writer{out: bufio.NewWriterSize(out, 64<<10), json: true}
	w.width([]string{name})
	es, err := l.open(name, o.Lines, "", o.Follow)
	if err != nil {
		return err
	}
	for _, en := range es {
		if err := w.line(en); err != nil {
			return quiet(err)
		}
	}
	if err := w.flush(); err != nil || !o.Follow {
		return quiet(err)
	}
	for {
		for _, p := range slices.Sorted(maps.Keys(l.followers)) {
			f := l.followers[p]
			// As tpm-log's follow: events are placed among the lines of
			// one look only.
			f.ranks = ranker{}
			if err := f.poll(w, false); err != nil {
				return quiet(err)
			}
		}
		if err := w.flush(); err != nil {
			return quiet(err)
		}
		select {
		case <-o.Wake:
		case <-ctx.Done():
			return nil
		}
	}
}

// quiet is nil for the end of a reader that went away.
func quiet(err error) error {
	if errors.Is(err, errClosed) {
		return nil
	}
	return err
}
