package serve

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/state"
)

// newTree makes a state tree with its folders and a token.
func newTree(t testing.TB) (*state.Tree, string) {
	t.Helper()
	tr := &state.Tree{Root: filepath.Join(t.TempDir(), "tpm")}
	for _, d := range append([]string{""}, state.Folders...) {
		if err := os.MkdirAll(filepath.Join(tr.Root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := EnsureToken(tr)
	if err != nil {
		t.Fatal(err)
	}
	return tr, tok
}

// record writes a stopped process's meta line (its pid is nobody's: the
// token matches no process).
func record(t testing.TB, tr *state.Tree, name string) {
	t.Helper()
	line := "script=/bin/sleep pid=4000000 port=0 start_time=1764000000 type=cli token=4000000@deadbeef state=stopped restarts=2 exit_code=3\n"
	if err := os.WriteFile(tr.Meta(name), []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
}

func do(h http.Handler, method, target, token string, body io.Reader) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, body)
	req.Host = "127.0.0.1:9615"
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestStatusOf(t *testing.T) {
	for _, c := range []struct{ code, status int }{
		{exit.OK, 200}, {exit.Failure, 409}, {exit.Usage, 400}, {exit.DataErr, 422}, {exit.NoInput, 404},
		{exit.Unavailable, 409}, {exit.CantCreate, 500}, {exit.TempFail, 503}, {exit.NoPerm, 403}, {2, 500}, {137, 500},
	} {
		if got := StatusOf(c.code); got != c.status {
			t.Errorf("StatusOf(%d) = %d, want %d", c.code, got, c.status)
		}
	}
}

func TestRefusals(t *testing.T) {
	tr, tok := newTree(t)
	record(t, tr, "app")
	os.WriteFile(tr.Env("app"), []byte("SECRET=hunter2\n"), 0o600)
	h := (&Server{Tree: tr, LoopbackOnly: true}).Handler()
	for _, c := range []struct {
		name, method, target, token string
		status                      int
	}{
		{"no token", "GET", "/v1/processes", "", 401},
		{"wrong token", "GET", "/v1/processes", strings.Repeat("0", 64), 401},
		{"token of another length", "GET", "/v1/processes", tok + "0", 401},
		{"no token on an unknown name", "GET", "/v1/processes/nope", "", 401},
		{"no token on an action", "POST", "/v1/processes/app/stop", "", 401},
		{"right token", "GET", "/v1/processes", tok, 200},
		{"dot dot", "GET", "/v1/processes/..", tok, 400},
		{"escaped dot dot", "GET", "/v1/processes/%2e%2E/log", tok, 400},
		{"escaped slash", "GET", "/v1/processes/a%2Fb", tok, 400},
		{"pattern", "GET", "/v1/processes/a*", tok, 400},
		{"leading dot", "GET", "/v1/processes/.serve.token", tok, 400},
		{"empty name", "GET", "/v1/processes/", tok, 400},
		{"unknown", "GET", "/v1/processes/nope", tok, 404},
		{"unknown log", "GET", "/v1/processes/nope/log", tok, 404},
		{"unknown action", "POST", "/v1/processes/nope/stop", tok, 404},
		{"env", "GET", "/v1/processes/app/env", tok, 404},
		{"env file as a name", "GET", "/v1/processes/app.env", tok, 404},
		{"deeper", "GET", "/v1/processes/app/log/x", tok, 404},
		{"other resource", "GET", "/v1/users", tok, 404},
		{"action by GET", "GET", "/v1/processes/app/stop", tok, 405},
		{"list by POST", "POST", "/v1/processes", tok, 405},
		{"bad n", "GET", "/v1/processes/app/log?n=-1", tok, 400},
		{"n too large", "GET", "/v1/processes/app/log?n=10001", tok, 400},
		{"bad follow", "GET", "/v1/processes/app/log?follow=yes", tok, 400},
		{"bad stream", "GET", "/v1/processes/app/log?stream=env", tok, 400},
		{"bad status", "GET", "/v1/processes?status=sleeping", tok, 400},
		{"metrics without token", "GET", "/metrics", "", 200},
		{"page without token", "GET", "/", "", 200},
		{"script without token", "GET", "/app.js", "", 200},
		{"no other file", "GET", "/serve.go", "", 404},
		{"no folder", "GET", "/web/app.js", "", 404},
		{"no traversal to the token", "GET", "/../serve.token", "", 404},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := do(h, c.method, c.target, c.token, nil)
			if w.Code != c.status {
				t.Fatalf("%s %s: %d, want %d: %s", c.method, c.target, w.Code, c.status, w.Body)
			}
			if strings.Contains(w.Body.String(), "hunter2") {
				t.Fatalf("%s %s served the environment: %s", c.method, c.target, w.Body)
			}
			for k := range w.Header() {
				if strings.HasPrefix(k, "Access-Control") {
					t.Errorf("CORS header %s", k)
				}
			}
			if c.status == 401 && w.Header().Get("WWW-Authenticate") != `Bearer realm="tpm"` {
				t.Errorf("401 without WWW-Authenticate: %v", w.Header())
			}
		})
	}
}

func TestBodyBound(t *testing.T) {
	tr, tok := newTree(t)
	record(t, tr, "app")
	h := (&Server{Tree: tr}).Handler()
	big := strings.Repeat("x", MaxBody+1)
	// Announced: refused before anything is read.
	if w := do(h, "POST", "/v1/processes/app/stop", tok, strings.NewReader(big)); w.Code != 413 {
		t.Errorf("declared oversized body: %d", w.Code)
	}
	// Not announced (chunked): refused while reading.
	req := httptest.NewRequest("POST", "/v1/processes/app/stop", io.NopCloser(strings.NewReader(big)))
	req.ContentLength = -1
	req.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 413 {
		t.Errorf("chunked oversized body: %d %s", w.Code, w.Body)
	}
	// An unknown option or a body that is not JSON: 400.
	for _, b := range []string{`{"force":true}`, `stop`, `[]`} {
		if w := do(h, "POST", "/v1/processes/app/stop", tok, strings.NewReader(b)); w.Code != 400 {
			t.Errorf("body %q: %d", b, w.Code)
		}
	}
}

func TestLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1:9615": true, "127.0.0.1": true, "127.1.2.3:80": true, "[::1]:9615": true, "::1": true,
		"localhost:9615": true, "LOCALHOST": true, "localhost": true,
		"evil.example:9615": false, "evil.example": false, "10.0.0.1:9615": false, "[::]:9615": false,
		"0.0.0.0:9615": false, "": false, "localhost.evil.example": false, "127.0.0.1.nip.io": false,
	} {
		if got := loopbackHost(host); got != want {
			t.Errorf("loopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
	tr, tok := newTree(t)
	h := (&Server{Tree: tr, LoopbackOnly: true}).Handler()
	req := httptest.NewRequest("GET", "/v1/processes", nil)
	req.Host = "rebound.example:9615"
	req.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusMisdirectedRequest {
		t.Errorf("a rebound Host name: %d", w.Code)
	}
}

func TestToken(t *testing.T) {
	tr, tok := newTree(t)
	fi, err := os.Stat(TokenPath(tr))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", fi, err)
	}
	if !validToken(tok) || len(tok) != 64 {
		t.Fatalf("token %q", tok)
	}
	if again, err := EnsureToken(tr); err != nil || again != tok {
		t.Fatalf("a second start made another token: %q %v", again, err)
	}
	// No temporary file is left behind.
	ents, _ := os.ReadDir(tr.Root)
	for _, e := range ents {
		if state.IsTemp(e.Name()) {
			t.Errorf("left behind: %s", e.Name())
		}
	}
	nt, err := RotateToken(tr)
	if err != nil || nt == tok {
		t.Fatalf("rotate: %q %v", nt, err)
	}
	if got, _ := ReadToken(tr); got != nt {
		t.Fatalf("after rotate: %q", got)
	}
	// Servers starting at once agree on one token.
	tr2 := &state.Tree{Root: filepath.Join(t.TempDir(), "tpm")}
	os.MkdirAll(tr2.Root, 0o700)
	toks := make([]string, 8)
	var wg sync.WaitGroup
	for i := range toks {
		wg.Go(func() {
			var err error
			if toks[i], err = EnsureToken(tr2); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, x := range toks {
		if x != toks[0] {
			t.Fatalf("two tokens: %q and %q", toks[0], x)
		}
	}
}

func TestTokenRefused(t *testing.T) {
	tr, _ := newTree(t)
	p := TokenPath(tr)
	// A link is never followed, whatever it points to.
	os.Remove(p)
	os.WriteFile(filepath.Join(tr.Root, "other"), []byte(strings.Repeat("a", 64)+"\n"), 0o600)
	os.Symlink("other", p)
	if _, err := ReadToken(tr); !errors.Is(err, state.ErrNotRegular) || exit.Code(err) != exit.DataErr {
		t.Errorf("a link: %v (%d)", err, exit.Code(err))
	}
	if _, err := EnsureToken(tr); err == nil {
		t.Error("EnsureToken took a link")
	}
	// A file that is not a token: refused, and requests fail closed.
	os.Remove(p)
	os.WriteFile(p, []byte("short\n"), 0o600)
	if _, err := ReadToken(tr); exit.Code(err) != exit.DataErr {
		t.Errorf("a short token: %v", err)
	}
	os.WriteFile(p, []byte(""), 0o600)
	h := (&Server{Tree: tr}).Handler()
	if w := do(h, "GET", "/v1/processes", "", nil); w.Code != 500 {
		t.Errorf("an empty token file: %d", w.Code)
	}
	// No file: 500 too, never open.
	os.Remove(p)
	if w := do(h, "GET", "/v1/processes", "x", nil); w.Code != 500 {
		t.Errorf("no token file: %d", w.Code)
	}
}

func TestListen(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "10.1.2.3:0", "[2001:db8::1]:0"} {
		if l, err := Listen(addr, false); !errors.Is(err, ErrReachable) || exit.Code(err) != exit.Usage {
			if l != nil {
				l.Close()
			}
			t.Errorf("Listen(%q): %v", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "localhost:0"} {
		l, err := Listen(addr, false)
		if err != nil {
			t.Fatalf("Listen(%q): %v", addr, err)
		}
		if !Loopback(l) {
			t.Errorf("%s is not loopback", l.Addr())
		}
		// Taken: 69.
		if l2, err := Listen(l.Addr().String(), false); exit.Code(err) != exit.Unavailable {
			if l2 != nil {
				l2.Close()
			}
			t.Errorf("a taken address: %v", err)
		}
		l.Close()
	}
	for _, addr := range []string{"127.0.0.1", "unix:", "nohost"} {
		if _, err := Listen(addr, false); exit.Code(err) != exit.Usage {
			t.Errorf("Listen(%q): %v", addr, err)
		}
	}
}

func TestListenUnix(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "serve.sock")
	l, err := Listen("unix:"+p, false)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode: %v %v", fi.Mode(), err)
	}
	if Loopback(l) {
		t.Error("a Unix socket has no Host to check")
	}
	if URL(l, false) != "unix:"+p {
		t.Errorf("URL %q", URL(l, false))
	}
	// Someone answers there: 69.
	if _, err := Listen("unix:"+p, false); exit.Code(err) != exit.Unavailable {
		t.Errorf("a live socket: %v", err)
	}
	// A stale socket (its server died without removing it) is replaced.
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	l, err = Listen("unix:"+p, false)
	if err != nil {
		t.Fatalf("a stale socket: %v", err)
	}
	l.Close()
	// A file that is not a socket is never removed.
	f := filepath.Join(dir, "file")
	os.WriteFile(f, []byte("keep"), 0o600)
	if _, err := Listen("unix:"+f, false); exit.Code(err) != exit.CantCreate {
		t.Errorf("a file: %v", err)
	}
	if b, _ := os.ReadFile(f); string(b) != "keep" {
		t.Error("the file was touched")
	}
}

func TestLogs(t *testing.T) {
	tr, tok := newTree(t)
	record(t, tr, "app")
	os.WriteFile(tr.Out("app"), []byte("2026-01-02 03:04:05 one\n2026-01-02 03:04:06 two\n"), 0o600)
	os.WriteFile(tr.Err("app"), []byte("2026-01-02 03:04:05 oops\n"), 0o600)
	os.WriteFile(tr.Events("app"), []byte("2026-01-02 03:04:04 event=start pid=12\n"), 0o600)
	h := (&Server{Tree: tr}).Handler()
	w := do(h, "GET", "/v1/processes/app/log?n=2", tok, nil)
	if w.Code != 200 {
		t.Fatalf("log: %d %s", w.Code, w.Body)
	}
	body := w.Body.String()
	if !strings.HasPrefix(body, "[\n{") || !strings.HasSuffix(body, "}\n]\n") || strings.Contains(body, `"one"`) ||
		!strings.Contains(body, `"stream":"err","line":"oops"`) || !strings.Contains(body, `"stream":"out","line":"two"`) {
		t.Errorf("log:\n%s", body)
	}
	w = do(h, "GET", "/v1/processes/app/events", tok, nil)
	if !strings.Contains(w.Body.String(), `"event":"start","pid":"12"`) || strings.Contains(w.Body.String(), "oops") {
		t.Errorf("events:\n%s", w.Body)
	}
	w = do(h, "GET", "/v1/processes/app/log?n=0", tok, nil)
	if w.Body.String() != "[\n]\n" {
		t.Errorf("no lines: %q", w.Body)
	}
}

// TestFollowEndsWithClient: a stream sends what is appended, and ends,
// releasing what it holds, when its client hangs up.
func TestFollowEndsWithClient(t *testing.T) {
	tr, tok := newTree(t)
	record(t, tr, "app")
	os.WriteFile(tr.Out("app"), []byte("2026-01-02 03:04:05 before\n"), 0o600)
	s := &Server{Tree: tr}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/v1/processes/app/log?follow=1&n=1", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("Content-Type %q", resp.Header.Get("Content-Type"))
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				lines <- d
			}
		}
		close(lines)
	}()
	next := func() string {
		select {
		case l := <-lines:
			return l
		case <-time.After(10 * time.Second):
			t.Fatal("no line in 10s")
		}
		return ""
	}
	if l := next(); !strings.Contains(l, `"line":"before"`) {
		t.Fatalf("first: %s", l)
	}
	f, _ := os.OpenFile(tr.Out("app"), os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("2026-01-02 03:04:06 after\n")
	f.Close()
	if l := next(); !strings.Contains(l, `"line":"after"`) {
		t.Fatalf("followed: %s", l)
	}
	if n := s.streams.Load(); n != 1 {
		t.Fatalf("%d streams", n)
	}
	cancel()
	resp.Body.Close()
	deadline := time.Now().Add(10 * time.Second)
	for s.streams.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the stream did not end with its client")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestMetrics(t *testing.T) {
	tr, _ := newTree(t)
	record(t, tr, "app")
	os.WriteFile(tr.Meta("broken"), []byte("not a meta line\n"), 0o600)
	h := (&Server{Tree: tr}).Handler()
	w := do(h, "GET", "/metrics", "", nil)
	if w.Code != 200 {
		t.Fatalf("metrics: %d %s", w.Code, w.Body)
	}
	body := w.Body.String()
	for _, want := range []string{
		"tpm_up{name=\"app\"} 0\n",
		"tpm_status{name=\"app\",status=\"stopped\"} 1\n",
		"tpm_status{name=\"app\",status=\"online\"} 0\n",
		"tpm_restarts_total{name=\"app\"} 2\n",
		"tpm_last_exit_code{name=\"app\"} 3\n",
		"tpm_resident_memory_bytes{name=\"app\"} 0\n",
		"tpm_status{name=\"broken\",status=\"invalid\"} 1\n",
		"tpm_up{name=\"broken\"} 0\n",
		"tpm_state_tree_readable 1\n",
		"# TYPE tpm_cpu_seconds_total counter\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestStatic(t *testing.T) {
	tr, _ := newTree(t)
	h := (&Server{Tree: tr}).Handler()
	w := do(h, "GET", "/", "", nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "<title>tpm</title>") {
		t.Fatalf("page: %d", w.Code)
	}
	csp := w.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q allows unsafe sources", csp)
	}
	req := httptest.NewRequest("GET", "/app.js", nil)
	req.Header.Set("If-None-Match", w.Header().Get("ETag"))
	etag := do(h, "GET", "/app.js", "", nil).Header().Get("ETag")
	req.Header.Set("If-None-Match", etag)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 304 {
		t.Errorf("If-None-Match: %d", w.Code)
	}
	// The page puts what the server sends with textContent only.
	js, _ := web.ReadFile("web/app.js")
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("} {
		if strings.Contains(string(js), bad) {
			t.Errorf("app.js uses %s", bad)
		}
	}
}
