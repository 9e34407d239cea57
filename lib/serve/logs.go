package serve

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tetra-toolkit/tpm/lib/cmd/logcmd"
	"github.com/tetra-toolkit/tpm/lib/state"
)

// MaxLines bounds ?n=: an answer is held whole before it is sent.
const MaxLines = 10000

// log answers GET /v1/processes/NAME/log and .../events: the lines of
// tpm-log --json NAME, as a JSON array, or with ?follow=1 as Server-Sent
// Events (one "data:" event per line, the same objects), following the
// files across rotations and restarts until the client goes away.
//
// ?stream=out,err,events chooses the streams (log: out and err by default;
// events: only events); ?n=N the last lines first (default 100).
func (s *Server) log(w http.ResponseWriter, r *http.Request, name string, eventsOnly bool) {
	q := r.URL.Query()
	o := logcmd.StreamOptions{Lines: 100}
	if eventsOnly {
		o.Streams = []string{logcmd.StreamEvents}
	} else {
		o.Streams = []string{logcmd.StreamOut, logcmd.StreamErr}
		if v := q.Get("stream"); v != "" {
			o.Streams = nil
			for _, k := range strings.Split(v, ",") {
				if !slices.Contains([]string{logcmd.StreamOut, logcmd.StreamErr, logcmd.StreamEvents}, k) {
					s.fail(w, http.StatusBadRequest, "stream "+strconv.Quote(k)+": want out, err or events")
					return
				}
				if !slices.Contains(o.Streams, k) {
					o.Streams = append(o.Streams, k)
				}
			}
		}
	}
	if v := q.Get("n"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > MaxLines {
			s.fail(w, http.StatusBadRequest, "n "+strconv.Quote(v)+": want a count from 0 to "+strconv.Itoa(MaxLines))
			return
		}
		o.Lines = n
	}
	switch v := q.Get("follow"); v {
	case "", "0", "false":
	case "1", "true":
		o.Follow = true
	default:
		s.fail(w, http.StatusBadRequest, "follow "+strconv.Quote(v)+": want 1 or 0")
		return
	}
	if err := s.known(name); err != nil {
		s.failErr(w, err)
		return
	}
	if !o.Follow {
		var b bytes.Buffer
		if err := logcmd.Stream(r.Context(), s.Tree, name, o, &b); err != nil {
			s.failErr(w, err)
			return
		}
		// One object per line → an array.
		out := make([]byte, 0, b.Len()+4)
		out = append(out, '[')
		lines := bytes.Split(bytes.TrimSuffix(b.Bytes(), []byte("\n")), []byte("\n"))
		for i, l := range lines {
			if len(l) == 0 {
				continue
			}
			if i > 0 {
				out = append(out, ',')
			}
			out = append(out, '\n')
			out = append(out, l...)
		}
		out = append(out, "\n]\n"...)
		writeRaw(w, http.StatusOK, out)
		return
	}
	if r.Method == http.MethodHead {
		// What a stream would be, without one.
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		return
	}
	s.follow(w, r, name, o)
}

// follow streams the lines as Server-Sent Events until the client goes
// away (the request's context ends) or the server shuts down.
func (s *Server) follow(w http.ResponseWriter, r *http.Request, name string, o logcmd.StreamOptions) {
	if s.streams.Add(1) > MaxStreams {
		s.streams.Add(-1)
		w.Header().Set("Retry-After", "5")
		s.fail(w, http.StatusServiceUnavailable, "too many log streams open ("+strconv.Itoa(MaxStreams)+")")
		return
	}
	defer s.streams.Add(-1)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	wake := watchDir(ctx, filepath.Join(s.Tree.Root, state.LogsDir))
	o.Wake = wake
	rc := http.NewResponseController(w)
	// A stream lasts as long as its client: no deadline but the client's
	// going away, which the server sees as the end of the context.
	rc.SetWriteDeadline(time.Time{})
	rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no") // a proxy in front must not hold lines back
	w.WriteHeader(http.StatusOK)
	// A comment first, so that the client has the headers at once.
	w.Write([]byte(": tpm " + name + "\n\n"))
	rc.Flush()
	ev := &sseWriter{w: w, rc: rc}
	logcmd.Stream(ctx, s.Tree, name, o, ev)
}

// sseWriter turns lines (one JSON object each) into Server-Sent Events and
// flushes them to the client.
type sseWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	partial []byte
}

func (e *sseWriter) Write(p []byte) (int, error) {
	n := len(p)
	var out []byte
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			e.partial = append(e.partial, p...)
			break
		}
		out = append(out, "data: "...)
		out = append(out, e.partial...)
		out = append(out, p[:i]...)
		out = append(out, "\n\n"...)
		e.partial = e.partial[:0]
		p = p[i+1:]
	}
	if len(out) == 0 {
		return n, nil
	}
	if _, err := e.w.Write(out); err != nil {
		return 0, err
	}
	return n, e.rc.Flush()
}
