// Package serve is tpm-serve's HTTP server: tpm's state tree seen from a
// browser, a script or a monitoring system.
//
// The security model:
//   - every request but GET /metrics and the page's static files needs the
//     bearer token of $TETRA_DIR/tpm/serve.token (token.go), read from the
//     file at each request, so that writing a new one (tpm-serve
//     --rotate-token) revokes the old one at once. Whoever holds it can do
//     what the user who runs tpm-serve can do with tpm's commands: list,
//     read logs, start, stop, restart;
//   - no CORS headers: a page of another origin can neither read an answer
//     nor send the Authorization header (that needs a preflight nobody
//     approves), so the token cannot be used for it by a browser;
//   - on a loopback address, only Host headers that name a loopback address
//     or localhost are served: a DNS rebinding page (evil.example resolving
//     to 127.0.0.1) gets nothing, not even /metrics;
//   - a process's saved environment (NAME.env, often secrets) is never
//     read, so never served; the records (meta lines, as tpm-ls --json
//     shows them) and logs are;
//   - names are checked as every command checks them (a name with a slash
//     or "..": 400), before any file is touched;
//   - request bodies are bounded (413), and so are the times to read a
//     request and write an answer (a log stream has no write deadline and
//     ends when its client goes away).
//
// Everything is read from the files at each request: nothing is cached, so
// nothing can disagree with tpm-ls.
package serve

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/names"
	"github.com/tetra-toolkit/tpm/lib/state"
)

// MaxBody bounds a request's body: the actions take a few options.
const MaxBody = 64 << 10

// MaxStreams bounds the log streams served at once: each holds a watch on
// the logs folder and open files.
const MaxStreams = 64

// Server serves one state tree.
type Server struct {
	Tree *state.Tree
	// LoopbackOnly refuses requests whose Host header is not a loopback
	// address or localhost (set when listening on loopback).
	LoopbackOnly bool
	// Companion finds tpm-start and tpm-restart (cli.Companion).
	Companion func(name string) (string, error)

	streams atomic.Int64
}

// Handler returns the server's routes.
func (s *Server) Handler() http.Handler {
	metrics := s.metricsHandler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		if s.LoopbackOnly && !loopbackHost(r.Host) {
			s.fail(w, http.StatusMisdirectedRequest, "this server answers only to a loopback host name (127.0.0.1, [::1], localhost)")
			return
		}
		if r.ContentLength > MaxBody {
			s.fail(w, http.StatusRequestEntityTooLarge, "request body over 64 KiB")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
		p := r.URL.EscapedPath()
		switch {
		case p == "/metrics":
			if !methods(w, r, http.MethodGet, http.MethodHead) {
				return
			}
			h.Set("Cache-Control", "no-store")
			metrics.ServeHTTP(w, r)
		case p == "/v1" || strings.HasPrefix(p, "/v1/"):
			h.Set("Cache-Control", "no-store")
			if !s.authorized(w, r) {
				return
			}
			s.api(w, r, strings.TrimPrefix(p, "/v1"))
		default:
			s.static(w, r, p)
		}
	})
}

// authorized checks the bearer token, answering 401 when it is missing or
// wrong.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	want, err := ReadToken(s.Tree)
	if err != nil {
		// Fail closed: no token file, no access (and no path told to a
		// client that has not shown it may know it).
		s.fail(w, http.StatusInternalServerError, "the server cannot read its token file")
		return false
	}
	// The scheme's name is case-insensitive (RFC 9110).
	auth := r.Header.Get("Authorization")
	got, ok := "", len(auth) > 7 && strings.EqualFold(auth[:7], "Bearer ")
	if ok {
		got = auth[7:]
	}
	if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(want)) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tpm"`)
		msg := "missing bearer token"
		if ok {
			msg = "wrong bearer token"
		}
		s.fail(w, http.StatusUnauthorized, msg+" (see $TETRA_DIR/tpm/serve.token)")
		return false
	}
	return true
}

// api routes /v1/...: rest is the path after /v1, still escaped.
func (s *Server) api(w http.ResponseWriter, r *http.Request, rest string) {
	segs, err := segments(rest)
	if err != nil {
		s.fail(w, http.StatusBadRequest, err.Error())
		return
	}
	if len(segs) == 0 || segs[0] != "processes" {
		s.fail(w, http.StatusNotFound, "no such resource")
		return
	}
	if len(segs) == 1 {
		if methods(w, r, http.MethodGet, http.MethodHead) {
			s.list(w, r)
		}
		return
	}
	name := segs[1]
	if err := names.Check(name); err != nil {
		s.fail(w, http.StatusBadRequest, err.Error())
		return
	}
	if len(segs) > 3 {
		s.fail(w, http.StatusNotFound, "no such resource")
		return
	}
	sub := ""
	if len(segs) == 3 {
		sub = segs[2]
	}
	switch sub {
	case "":
		if methods(w, r, http.MethodGet, http.MethodHead) {
			s.one(w, r, name)
		}
	case "log", "events":
		if methods(w, r, http.MethodGet, http.MethodHead) {
			s.log(w, r, name, sub == "events")
		}
	case "start", "stop", "restart":
		if methods(w, r, http.MethodPost) {
			s.action(w, r, name, sub)
		}
	case "env":
		s.fail(w, http.StatusNotFound, "a process's environment is never served")
	default:
		s.fail(w, http.StatusNotFound, "no such resource")
	}
}

// segments splits an escaped path into its unescaped segments, so that an
// escaped slash stays inside a segment (and is then refused in a name). The
// path is not cleaned: ".." reaches the name check, which refuses it.
func segments(escaped string) ([]string, error) {
	escaped = strings.TrimPrefix(escaped, "/")
	if escaped == "" {
		return nil, nil
	}
	parts := strings.Split(escaped, "/")
	for i, p := range parts {
		u, err := url.PathUnescape(p)
		if err != nil {
			return nil, errors.New("bad escape in path")
		}
		parts[i] = u
	}
	return parts, nil
}

// methods answers 405 unless r's method is one of ms.
func methods(w http.ResponseWriter, r *http.Request, ms ...string) bool {
	if slices.Contains(ms, r.Method) {
		return true
	}
	w.Header().Set("Allow", strings.Join(ms, ", "))
	writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: "method " + r.Method + " not allowed"})
	return false
}

// loopbackHost reports whether a Host header names this machine by a
// loopback address or localhost.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// errorBody is the answer of every failed request.
type errorBody struct {
	Error string `json:"error"`
	// Code is the exit code of the command the request ran, or that the
	// failure maps to (SPEC §10), when there is one.
	Code int `json:"code,omitempty"`
	// Output is what the command printed before it failed.
	Output []string `json:"output,omitempty"`
}

func (s *Server) fail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

// failErr answers with the HTTP status of err's exit code.
func (s *Server) failErr(w http.ResponseWriter, err error) {
	code := exit.Code(err)
	writeJSON(w, StatusOf(code), errorBody{Error: err.Error(), Code: code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"cannot encode the answer"}`)
	}
	writeRaw(w, status, append(b, '\n'))
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// StatusOf maps an exit code of tpm's commands (SPEC §10) to the HTTP status
// of an answer:
//
//	0  OK                     200
//	1  the operation failed   409 Conflict (already running, not ready, a stop that did not finish)
//	64 usage                  400 Bad Request
//	65 bad data               422 Unprocessable Entity (a record that cannot be read)
//	66 no such process        404 Not Found
//	69 unavailable            409 Conflict (the PORT is taken)
//	73 cannot write           500 Internal Server Error
//	75 locked, try again      503 Service Unavailable (with Retry-After: 1)
//	77 permission denied      403 Forbidden
//
// and anything else to 500.
func StatusOf(code int) int {
	switch code {
	case exit.OK:
		return http.StatusOK
	case exit.Failure, exit.Unavailable:
		return http.StatusConflict
	case exit.Usage:
		return http.StatusBadRequest
	case exit.DataErr:
		return http.StatusUnprocessableEntity
	case exit.NoInput:
		return http.StatusNotFound
	case exit.TempFail:
		return http.StatusServiceUnavailable
	case exit.NoPerm:
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}

// known checks that name has a record: nil, or the error for no process
// (66, so 404).
func (s *Server) known(name string) error {
	_, err := os.Lstat(s.Tree.Meta(name))
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return state.NoProcess(name)
	case errors.Is(err, fs.ErrPermission):
		return exit.With(exit.NoPerm, err)
	}
	return exit.With(exit.Failure, err)
}

// HTTPServer returns the http.Server for h with tpm-serve's limits: a
// client has 10 s to send its headers and 30 s its whole request, an
// answer 60 s to be written (log streams and actions lift that limit for
// themselves: they end with their client, or on their own), and an idle
// connection is closed after 2 minutes.
func HTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		// The server's errors (a client that sent garbage) are the
		// client's business, not a line on tpm-serve's stderr.
		ErrorLog: log.New(io.Discard, "", 0),
	}
}
