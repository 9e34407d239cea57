package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestErrKind(t *testing.T) {
	timeout := &net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"nothing listens", &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, "refused"},
		{"reset, wrapped by the client", fmt.Errorf("Get \"http://x/\": %w", &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}), "reset"},
		{"closed before the answer", fmt.Errorf("Get \"http://x/\": %w", io.EOF), "closed unanswered"},
		{"cut answer", io.ErrUnexpectedEOF, "closed unanswered"},
		{"no local port left", &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.EADDRNOTAVAIL)}, "no local port"},
		{"timeout", timeout, "no answer in 5 s"},
		{"not 200", errors.New("status 502 Bad Gateway"), "not 200"},
		{"anything else", errors.New("tls: bad certificate"), "other"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := errKind(c.err); got != c.want {
				t.Errorf("errKind(%v) = %q, want %q", c.err, got, c.want)
			}
		})
	}
}

// The real client's errors, not hand-made ones: a refused connection and
// a server that closes without answering.
func TestErrKindFromTheClient(t *testing.T) {
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	if _, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/", port)); errKind(err) != "refused" {
		t.Errorf("nothing on the port: %v is %q", err, errKind(err))
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 512)
			conn.Read(buf)
			conn.Close()
		}
	}()
	if _, err := c.Get("http://" + l.Addr().String() + "/"); errKind(err) != "closed unanswered" {
		t.Errorf("closed without an answer: %v is %q", err, errKind(err))
	}
}

func TestKindsText(t *testing.T) {
	for _, c := range []struct {
		kinds map[string]int
		want  string
	}{
		{map[string]int{}, ""},
		{map[string]int{"refused": 3}, "refused 3"},
		{map[string]int{"reset": 2, "refused": 12, "closed unanswered": 2}, "refused 12, closed unanswered 2, reset 2"},
	} {
		if got := kindsText(c.kinds); got != c.want {
			t.Errorf("kindsText(%v) = %q, want %q", c.kinds, got, c.want)
		}
	}
}

func TestPidsSaid(t *testing.T) {
	out := "web-8000-0 reloaded pid=123\nweb-8000-1 reloaded pid=124\n" +
		"api unchanged pid=77\nmailer started pid=99 port=0\nbad reloaded pid=x\nshort\n\n"
	for _, c := range []struct {
		verb string
		want string
	}{
		{"reloaded", "map[web-8000-0:123 web-8000-1:124]"},
		{"unchanged", "map[api:77]"},
		{"started", "map[mailer:99]"},
		{"restarted", "map[]"},
	} {
		if got := fmt.Sprint(pidsSaid(out, c.verb)); got != c.want {
			t.Errorf("pidsSaid(%s) = %s, want %s", c.verb, got, c.want)
		}
	}
}

func TestParseJlist(t *testing.T) {
	out := "[PM2] Spawning PM2 daemon\n[PM2] PM2 Successfully daemonized\n" +
		`[{"pid":41,"name":"web","pm2_env":{"status":"online"}},{"pid":42,"name":"web"},{"pid":0,"name":"cron"}]` + "\n"
	got, err := parseJlist(out)
	if err != nil || fmt.Sprint(got) != "[{web 41} {web 42} {cron 0}]" {
		t.Errorf("parseJlist = %v, %v", got, err)
	}
	if _, err := parseJlist("[PM2][ERROR] daemon not found\n"); err == nil {
		t.Error("no list: no error")
	}
}

// The load counts answers and failures: a server that answers, then one
// that fails every request.
func TestLoad(t *testing.T) {
	var fail atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			http.Error(w, "no", http.StatusBadGateway)
		}
	}))
	defer srv.Close()
	l := startLoad(srv.URL, 2)
	if err := waitFor("answers", 10*time.Second, func() bool { return l.answered() >= 20 }); err != nil {
		t.Fatal(err)
	}
	r := l.stop()
	if r.failed != 0 || r.ok < 20 || r.rate() <= 0 {
		t.Errorf("answering server: %+v", r)
	}
	fail.Store(true)
	l = startLoad(srv.URL, 1)
	if err := waitFor("failures", 10*time.Second, func() bool { return l.bad.Load() >= 5 }); err != nil {
		t.Fatal(err)
	}
	r = l.stop()
	if r.ok != 0 || r.failed < 5 || r.kinds["not 200"] != r.failed || len(r.first) != 3 {
		t.Errorf("failing server: %+v", r)
	}
}

// The ecosystem file the apply measure writes is one that node reads,
// with every app named once.
func TestEcosystemFile(t *testing.T) {
	src := ecosystemFile(20, "/usr/bin/sleep")
	if n := strings.Count(src, "name: 'app"); n != 20 {
		t.Errorf("%d apps", n)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node to read the file")
	}
	p := filepath.Join(t.TempDir(), "apps.config.js")
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, "-e",
		`const a = require(process.argv[1]).apps; console.log(a.length, new Set(a.map(x => x.name)).size, a[19].name, a[19].args, a[0].env_production.NODE_ENV)`, p).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v: %s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "20 20 app19 3619 production" {
		t.Errorf("node read %q", got)
	}
}
