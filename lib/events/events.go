// Package events is the lifecycle events file of a process,
// logs/NAME.events (SPEC §12): one line per event the supervisor saw,
//
//	YYYY-MM-DD HH:MM:SS event=KIND key=value...
//
// with values quoted as in meta lines, so a line is greppable and its
// fields can be read by a shell as a meta line's are. The supervisor writes
// it through a log writer (which adds the stamp and rotates it with the
// logs); tpm-log merges it with the program's output and tpm-ls --json
// shows the last event.
package events

import (
	"bytes"
	"errors"
	"strings"
	"time"

	"github.com/tetra-toolkit/tpm/lib/meta"
)

// The kinds of event.
const (
	Start   = "start"   // pid
	Exit    = "exit"    // code or signal, uptime
	Restart = "restart" // delay, count
	Errored = "errored" // restarts, why
	Stop    = "stop"    // signal, by (request, shutdown)
	Adopt   = "adopt"   // pid, from (the supervisor that was lost)
	Upgrade = "upgrade" // from, to (versions), or error
	Reload  = "reload"  // from, to (pids), or error
	Lost    = "output_lost"
	Policy  = "policy" // a policy field written by hand that was refused
	Memory  = "memory"
	Watch   = "watch"
	Health  = "health"
	Cron    = "cron"
	Hook    = "hook"
)

// Line formats one event without its stamp: "event=KIND key=value...\n".
// kv holds keys and values in turn; an empty value is left out.
func Line(kind string, kv ...string) []byte {
	b := []byte("event=" + meta.Quote(kind))
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			b = append(b, ' ')
			b = append(b, kv[i]...)
			b = append(b, '=')
			b = append(b, meta.Quote(oneLine(kv[i+1]))...)
		}
	}
	return append(b, '\n')
}

// oneLine keeps a value on its line: a message may hold a newline.
func oneLine(v string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == 0 {
			return ' '
		}
		return r
	}, v)
}

// An Event is one line of an events file.
type Event struct {
	Time   time.Time
	Kind   string
	Fields []meta.Field // after event=KIND
}

// Get returns the value of key.
func (e Event) Get(key string) string {
	for _, f := range e.Fields {
		if f.Key == key {
			return f.Value
		}
	}
	return ""
}

// stampLen is the length of "YYYY-MM-DD HH:MM:SS ".
const stampLen = 20

// Parse reads one stamped line of an events file (local time).
func Parse(line []byte) (Event, error) {
	line = bytes.TrimRight(line, "\r\n")
	if len(line) < stampLen {
		return Event{}, errors.New("short event line")
	}
	t, err := time.ParseInLocation("2006-01-02 15:04:05", string(line[:stampLen-1]), time.Local)
	if err != nil {
		return Event{}, err
	}
	m, err := meta.Parse(line[stampLen:])
	if err != nil {
		return Event{}, err
	}
	if len(m.Fields) == 0 || m.Fields[0].Key != "event" {
		return Event{}, errors.New("not an event line")
	}
	return Event{Time: t, Kind: m.Fields[0].Value, Fields: m.Fields[1:]}, nil
}
