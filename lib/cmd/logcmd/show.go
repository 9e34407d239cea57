package logcmd

import (
	"bufio"
	"bytes"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/events"
	"github.com/tetra-toolkit/tpm/lib/logfile"
)

// How a line is shown:
//   - piped, as it stands in its file (an event: "STAMP event=KIND k=v...",
//     which grep ' event=' finds), after "NAME | " when several processes
//     are shown;
//   - on a terminal, an event as "STAMP -- KIND k=v...", in bold (red for
//     the events that say something went wrong) when colour is allowed;
//   - with --utc, the stamp at the start of a line in UTC; a line without
//     one as it is;
//   - with --json, one object per line (see json).

// stampLayout is the form of a log line's stamp.
const stampLayout = "2006-01-02 15:04:05"

// writer prints lines, with the prefix when there are several processes.
type writer struct {
	out                        *bufio.Writer
	prefixed, colour, terminal bool
	json, utc                  bool
	pad                        int
	colours                    map[string]string

	// pending are the lines of one look at the followed files, printed in
	// time order by flush; arena holds their bytes (the followers reuse
	// their buffers).
	pending []entry
	arena   []byte

	// The last stamp converted, and its forms: lines come in runs of one
	// second.
	stampIn            string
	stampUTC, stampRFC string
	stampOK            bool
}

// pendingMax bounds the bytes held for one look: a burst is printed in
// sorted batches of about this size rather than held whole.
const pendingMax = 1 << 20

// raw reports whether lines are printed as they stand in the files, so a
// partial line may be passed on as it comes.
func (w *writer) raw() bool { return !w.json && !w.utc }

func (w *writer) width(ns []string) {
	w.colours = map[string]string{}
	for i, n := range ns {
		w.colours[n] = cli.Palette[i%len(cli.Palette)]
		if w.terminal {
			w.pad = max(w.pad, len(n))
		}
	}
}

func (w *writer) prefix(name string) {
	if !w.prefixed {
		return
	}
	c, ok := w.colours[name]
	if !ok {
		c = cli.Palette[len(w.colours)%len(cli.Palette)]
		w.colours[name] = c
		if w.terminal {
			w.pad = max(w.pad, len(name))
		}
	}
	w.out.WriteString(cli.Paint(w.colour, c, name))
	if w.pad > len(name) {
		w.out.WriteString(strings.Repeat(" ", w.pad-len(name)))
	}
	w.out.WriteString(" | ")
}

// add holds a line of a look at the followed files until flush.
func (w *writer) add(en entry) error {
	at := len(w.arena)
	w.arena = append(w.arena, en.stamp...)
	w.arena = append(w.arena, en.line...)
	// Earlier entries keep pointing into the old array when append moves
	// the arena: nothing writes there again.
	en.stamp = w.arena[at : at+len(en.stamp) : at+len(en.stamp)]
	en.line = w.arena[at+len(en.stamp) : len(w.arena) : len(w.arena)]
	w.pending = append(w.pending, en)
	if len(w.arena) >= pendingMax {
		return w.drain()
	}
	return nil
}

// drain prints the lines held, in time order.
func (w *writer) drain() error {
	slices.SortStableFunc(w.pending, byTime)
	for _, en := range w.pending {
		if err := w.line(en); err != nil {
			return err
		}
	}
	w.pending, w.arena = w.pending[:0], w.arena[:0]
	return nil
}

func (w *writer) flush() error {
	if err := w.drain(); err != nil {
		return err
	}
	return closed(w.out.Flush())
}

// line writes one whole line.
func (w *writer) line(en entry) error {
	if w.json {
		w.out.WriteString(w.object(en))
		return closed(w.out.WriteByte('\n'))
	}
	w.prefix(en.name)
	body := en.line
	if en.own {
		stamp := en.line[:logfile.StampLen-1]
		body = en.line[logfile.StampLen:]
		if w.utc {
			if utc, _, ok := w.forms(stamp); ok {
				stamp = []byte(utc)
			}
		}
		w.out.Write(stamp)
		w.out.WriteByte(' ')
		if en.kind == kindEvents && w.terminal {
			if rest, ok := bytes.CutPrefix(body, []byte("event=")); ok {
				w.mark(rest)
				return closed(w.out.WriteByte('\n'))
			}
		}
	}
	w.out.Write(body)
	return closed(w.out.WriteByte('\n'))
}

// alarming are the events shown in red on a terminal: something went wrong
// that no later event undoes.
var alarming = []string{events.Errored, events.Lost, events.Policy}

// mark writes an event for a terminal: "-- KIND k=v...", which stands out
// even without colour, in bold when colour is allowed.
func (w *writer) mark(rest []byte) {
	if !w.colour {
		w.out.WriteString("-- ")
		w.out.Write(rest)
		return
	}
	kind, _, _ := bytes.Cut(rest, []byte(" "))
	sgr := "\x1b[1m"
	if slices.Contains(alarming, string(kind)) {
		sgr = "\x1b[1;31m"
	}
	w.out.WriteString(sgr)
	w.out.WriteString("-- ")
	w.out.Write(rest)
	w.out.WriteString("\x1b[0m")
}

// object is the JSON form of a line: {"time": RFC 3339 or null, "name",
// "stream": out, err or event, "line": the text after the stamp}, and for
// an event "event": its kind and each of its fields (as strings).
func (w *writer) object(en entry) string {
	// Members are quoted by jsonString: log lines are full of <, > and &
	// (HTML, URLs), which encoding/json would write as \u003c and the like.
	var o cli.Object
	if _, rfc, ok := w.forms(en.stamp); ok {
		o.Raw("time", jsonString(rfc))
	} else {
		o.Raw("time", "null") // a log without stamps
	}
	o.Raw("name", jsonString(en.name))
	stream := en.kind
	if stream == kindEvents {
		stream = "event"
	}
	o.Raw("stream", jsonString(stream))
	body := en.line
	if en.own {
		body = body[logfile.StampLen:]
	}
	o.Raw("line", jsonString(string(body)))
	if en.kind == kindEvents && en.own {
		if ev, err := events.Parse(en.line); err == nil {
			o.Raw("event", jsonString(ev.Kind))
			for _, f := range ev.Extra() {
				o.Raw(f.Key, jsonString(f.Value))
			}
		}
	}
	return o.String()
}

// jsonString quotes s as a JSON string, leaving <, > and & as they are.
// Bytes that are not UTF-8 (a program's binary output) become U+FFFD, as
// JSON holds only text.
func jsonString(s string) string {
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			// Valid JSON, but line ends to JavaScript: escaped, as
			// encoding/json does.
			b = append(b, `\u202`...)
			b = append(b, hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(append(b, '"'))
}

const hex = "0123456789abcdef"

// forms returns a stamp (local time) in UTC, in the stamps' own form, and
// in RFC 3339 (with the local offset, or Z with --utc); ok is false for no
// stamp. The last one is kept: lines come in runs of one second.
func (w *writer) forms(stamp []byte) (utc, rfc string, ok bool) {
	if len(stamp) == 0 {
		return "", "", false
	}
	if w.stampIn == string(stamp) {
		return w.stampUTC, w.stampRFC, w.stampOK
	}
	w.stampIn, w.stampOK = string(stamp), false
	t, err := time.ParseInLocation(stampLayout, w.stampIn, time.Local)
	if err == nil {
		w.stampOK = true
		w.stampUTC = t.UTC().Format(stampLayout)
		if w.utc {
			t = t.UTC()
		}
		w.stampRFC = t.Format(time.RFC3339)
	}
	return w.stampUTC, w.stampRFC, w.stampOK
}
