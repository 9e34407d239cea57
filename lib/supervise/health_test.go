package supervise

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tetra-toolkit/tpm/lib/proc"
)

func TestParseStatus(t *testing.T) {
	for _, tc := range []struct {
		line string
		code int
		bad  bool
	}{
		{"HTTP/1.0 200 OK", 200, false},
		{"HTTP/1.1 302 Found\r", 302, false},
		{"HTTP/1.1 503", 503, false},
		{"SSH-2.0-OpenSSH_9.6", 0, true},
		{"HTTP/1.1 2000 OK", 0, true},
		{"", 0, true},
	} {
		code, err := parseStatus([]byte(tc.line))
		if code != tc.code || (err != nil) != tc.bad {
			t.Errorf("parseStatus(%q) = %d, %v; want %d, bad %v", tc.line, code, err, tc.code, tc.bad)
		}
	}
}

func TestHealthTimeout(t *testing.T) {
	for _, tc := range []struct{ every, want time.Duration }{
		{100 * time.Millisecond, 50 * time.Millisecond},
		{10 * time.Second, 5 * time.Second},
		{time.Minute, maxHealthTimeout},
	} {
		if got := healthTimeout(tc.every); got != tc.want {
			t.Errorf("healthTimeout(%v) = %v, want %v", tc.every, got, tc.want)
		}
	}
}

func portOf(t *testing.T, addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return n
}

func TestCheckHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			fmt.Fprint(w, strings.Repeat("fine\n", 20000)) // a body bigger than what is drained
		case "/moved":
			http.Redirect(w, r, "/ok", http.StatusFound)
		default:
			http.Error(w, "down", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	port := portOf(t, srv.Listener.Addr().String())
	free, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := portOf(t, free.Addr().String())
	free.Close()
	for _, tc := range []struct {
		path string
		port int
		want string // "" healthy, else in the error
	}{
		{"/ok", port, ""},
		{"/moved", port, ""},
		{"/sick", port, "HTTP 503"},
		{"/ok", closed, "connection refused"},
	} {
		h := &healthCheck{port: tc.port, path: tc.path, every: 2 * time.Second}
		err := h.check()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("GET %s on port %d: %v, want %q", tc.path, tc.port, err, tc.want)
		}
	}
}

// A server that takes the connection and never answers: the check fails at
// its timeout, and stop ends a check in flight at once.
func TestCheckHTTPSilent(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close() // never accepted: the connection waits in the backlog
	h := &healthCheck{port: portOf(t, l.Addr().String()), path: "/", every: 400 * time.Millisecond}
	t0 := time.Now()
	err = h.check()
	if err == nil || !strings.Contains(err.Error(), "no answer within 200ms") || time.Since(t0) > 2*time.Second {
		t.Errorf("a silent server: %v after %v", err, time.Since(t0))
	}

	h = &healthCheck{port: h.port, path: "/", every: 20 * time.Second, quit: make(chan struct{}), done: make(chan struct{})}
	go func() { h.check(); close(h.done) }()
	time.Sleep(100 * time.Millisecond) // the check is in flight
	t0 = time.Now()
	h.stop()
	if d := time.Since(t0); d > time.Second {
		t.Errorf("stop took %v with a check in flight", d)
	}
}

func TestCheckCmd(t *testing.T) {
	dir := t.TempDir()
	mark := filepath.Join(dir, "pid")
	for _, tc := range []struct {
		name, cmd string
		want      string // "" healthy, else in the error
	}{
		{"exit 0", "true", ""},
		{"its environment", `test "$TPM_NAME" = api && test "$PORT" = 3000 && test "$PWD" = ` + dir, ""},
		{"a failure and its last line", "echo checking; echo 'db: connection refused' >&2; exit 3", "exit code 3: db: connection refused"},
		{"no answer in time: killed, with its group", "sleep 60 & echo $! > " + mark + "; sleep 60", "no answer within 250ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &healthCheck{cmd: tc.cmd, cwd: dir, every: 500 * time.Millisecond,
				env: []string{"PATH=" + os.Getenv("PATH"), "PORT=3000", "TPM_NAME=api"}}
			err := h.check()
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("%s: %v, want %q", tc.cmd, err, tc.want)
			}
		})
	}
	b, err := os.ReadFile(mark)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	// Killed, it may stay a zombie a moment, until its new parent reaps it.
	gone := proc.PollUntil(time.Now().Add(5*time.Second), func() bool {
		in, err := proc.Stat(pid)
		return err != nil || in.Zombie
	})
	if !gone {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Errorf("the timed-out command's child %d was left running", pid)
	}
}

// Failures count in a row: a healthy answer starts the count again; the
// verdict ends the run as a failure, the record unhealthy.
func TestHealthVerdict(t *testing.T) {
	answers := make(chan int, 10)
	for _, c := range []int{503, 200, 503, 500} {
		answers <- c
	}
	served := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served++
		select {
		case c := <-answers:
			w.WriteHeader(c)
		default:
			w.WriteHeader(200)
		}
	}))
	defer srv.Close()
	s := &sup{verdicts: make(chan verdict, 1)}
	h := &healthCheck{port: portOf(t, srv.Listener.Addr().String()), path: "/health", every: 100 * time.Millisecond, fails: 2,
		quit: make(chan struct{}), done: make(chan struct{})}
	go h.run(s, 42)
	defer h.stop()
	select {
	case v := <-s.verdicts:
		if !v.failure || v.state != "unhealthy" || v.pid != 42 || v.kind != "health" ||
			strings.Join(v.kv, " ") != "fails 2 error GET /health: HTTP 500" {
			t.Errorf("verdict %+v", v)
		}
		if served != 4 {
			t.Errorf("verdict after %d checks, want 4", served)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no verdict")
	}
}
