package main

// Workflow measures (issue 13): requests failed while a busy web server is
// reloaded or restarted, tpm-restart against pm2 restart, and an ecosystem
// file applied again unchanged.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The web servers the reload measures replace. Each answers with its PID
// and, on TERM (PM2: INT), finishes the request it serves and leaves: a
// graceful server, the kind a reload is meant for.
const (
	// listenServer serves on the socket tpm hands it as fd 3 (--listen).
	listenServer = `import http.server, os, signal, socket
assert os.environ.get('LISTEN_PID') == str(os.getpid())
assert os.environ.get('LISTEN_FDS') == '1'
sock = socket.socket(fileno=3)

class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ('pid %d\n' % os.getpid()).encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass

srv = http.server.HTTPServer(sock.getsockname()[:2], H, bind_and_activate=False)
srv.socket = sock
srv.timeout = 0.05
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
while not stop:
    srv.handle_request()
`
	// reuseServer binds the PORT itself with SO_REUSEPORT, so that a new
	// run can listen beside the old one.
	reuseServer = `import http.server, os, signal, socket

class S(http.server.HTTPServer):
    def server_bind(self):
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        super().server_bind()

class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ('pid %d\n' % os.getpid()).encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass

srv = S(('127.0.0.1', int(os.environ['PORT'])), H)
srv.timeout = 0.05
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
while not stop:
    srv.handle_request()
srv.server_close()
`
	// nodeServer is PM2's cluster app: its workers share the PORT through
	// Node's cluster module.
	nodeServer = `const http = require('http');
const srv = http.createServer((req, res) => {
  res.end('pid ' + process.pid + '\n');
});
srv.listen(Number(process.env.PORT), '127.0.0.1');
const bye = () => srv.close(() => process.exit(0));
process.on('SIGINT', bye);
process.on('SIGTERM', bye);
`
)

// load is a few clients asking a URL over and over, each request on a new
// connection, until stopped; what a user of a busy server sees.
type load struct {
	url     string
	quit    chan struct{}
	wg      sync.WaitGroup
	t0      time.Time
	ok, bad atomic.Int64
	mu      sync.Mutex
	kinds   map[string]int
	first   []string      // the first failures, for stderr
	down    time.Duration // the longest time a client went without an answer
}

// loadResult is what the clients saw.
type loadResult struct {
	ok, failed int
	kinds      map[string]int
	first      []string
	down       time.Duration
	took       time.Duration
}

func (r loadResult) rate() float64 { return float64(r.ok+r.failed) / r.took.Seconds() }

// startLoad starts n clients on url.
func startLoad(url string, n int) *load {
	l := &load{url: url, quit: make(chan struct{}), t0: time.Now(), kinds: map[string]int{}}
	for range n {
		l.wg.Add(1)
		go l.client()
	}
	return l
}

func (l *load) client() {
	defer l.wg.Done()
	// A request not answered in 5 s has failed, for a user as for the
	// table.
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	// A failed request is retried at once, so the number of failures says
	// as much about the client's speed as about the server: the time from
	// a first failure to the next answer says how long it went unanswered.
	var downSince time.Time
	wentDown := func(now time.Time) {
		if !downSince.IsZero() {
			l.mu.Lock()
			l.down = max(l.down, now.Sub(downSince))
			l.mu.Unlock()
			downSince = time.Time{}
		}
	}
	for {
		select {
		case <-l.quit:
			wentDown(time.Now())
			return
		default:
		}
		t0 := time.Now()
		resp, err := c.Get(l.url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("status %s", resp.Status)
			}
		}
		if err == nil {
			l.ok.Add(1)
			wentDown(time.Now())
			continue
		}
		if downSince.IsZero() {
			downSince = t0
		}
		l.bad.Add(1)
		l.mu.Lock()
		l.kinds[errKind(err)]++
		if len(l.first) < 3 {
			l.first = append(l.first, err.Error())
		}
		l.mu.Unlock()
	}
}

// answered is how many requests have been answered so far.
func (l *load) answered() int64 { return l.ok.Load() }

// stop ends the clients and says what they saw.
func (l *load) stop() loadResult {
	close(l.quit)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return loadResult{ok: int(l.ok.Load()), failed: int(l.bad.Load()), kinds: l.kinds, first: l.first, down: l.down, took: time.Since(l.t0)}
}

// errKind names the way a request failed, as the table reports it.
func errKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "no local port"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "closed unanswered"
	case errors.As(err, &ne) && ne.Timeout():
		return "no answer in 5 s"
	case strings.HasPrefix(err.Error(), "status "):
		return "not 200"
	}
	return "other"
}

// kindsText is "refused 12, reset 3", largest first.
func kindsText(kinds map[string]int) string {
	var ks []string
	for k := range kinds {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		if kinds[ks[i]] != kinds[ks[j]] {
			return kinds[ks[i]] > kinds[ks[j]]
		}
		return ks[i] < ks[j]
	})
	var parts []string
	for _, k := range ks {
		parts = append(parts, fmt.Sprintf("%s %d", k, kinds[k]))
	}
	return strings.Join(parts, ", ")
}

// pidsSaid reads the lines "NAME VERB pid=PID ..." of a command's output.
func pidsSaid(out, verb string) map[string]int {
	pids := map[string]int{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) < 3 || f[1] != verb {
			continue
		}
		if v, ok := strings.CutPrefix(f[2], "pid="); ok {
			if p, err := strconv.Atoi(v); err == nil {
				pids[f[0]] = p
			}
		}
	}
	return pids
}

// freePort returns a TCP port nothing listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// python returns the interpreter itself, not a version manager's shim
// (pyenv's costs a shell script at every start, which the reload would
// time).
func python() (string, error) {
	out, err := exec.Command("python3", "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		return "", fmt.Errorf("python3 is needed: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// underLoad runs clients on url, waits until they are answered, then
// replaces the server reps times with replace, letting the clients run a
// while after each; it returns what the clients saw and replace's times.
func underLoad(url string, reps int, replace func() (time.Duration, error)) (loadResult, []time.Duration, error) {
	l := startLoad(url, *clients)
	defer func() {
		select {
		case <-l.quit:
		default:
			l.stop()
		}
	}()
	if err := waitFor("the server answering "+url, 10*time.Second, func() bool { return l.answered() >= 50 }); err != nil {
		return loadResult{}, nil, err
	}
	var times []time.Duration
	for range reps {
		d, err := replace()
		if err != nil {
			return loadResult{}, nil, err
		}
		times = append(times, d)
		// Time for connections queued during the swap to be answered, or
		// to fail.
		time.Sleep(300 * time.Millisecond)
	}
	return l.stop(), times, nil
}

// tpmReplace runs a tpm command that replaces the programs of names (a
// reload or a restart) and checks that each got a new PID and that every
// old one has ended before the next round.
func (e *env) tpmReplace(verb string, names []string, args ...string) func() (time.Duration, error) {
	return func() (time.Duration, error) {
		old := map[string]int{}
		for _, n := range names {
			m, err := e.record(n)
			if err != nil {
				return 0, err
			}
			old[n] = int(m.Int("pid"))
		}
		d, out, err := e.timed(args[0], args[1:]...)
		if err != nil {
			return 0, err
		}
		said := pidsSaid(out, verb)
		for _, n := range names {
			if p, ok := said[n]; !ok || p == old[n] || p <= 0 {
				return 0, fmt.Errorf("%s said %q: want a new pid for %s (old %d)", strings.Join(args, " "), out, n, old[n])
			}
			if err := waitGone(old[n], 10*time.Second); err != nil {
				return 0, err
			}
		}
		return d, nil
	}
}

// reloadRow makes the table's line for one way of replacing a server.
func reloadRow(what string, r loadResult, times []time.Duration, goal bool, target string) row {
	failed := fmt.Sprintf("%d failed of %d requests", r.failed, r.ok+r.failed)
	if r.failed > 0 {
		failed += fmt.Sprintf(" (%s; a client went unanswered for up to %s)", kindsText(r.kinds), ms(r.down))
	}
	if r.failed > 0 && goal { // failures not expected: say how they looked
		for _, f := range r.first {
			fmt.Fprintf(os.Stderr, "bench reload: %s: %s\n", what, f)
		}
	}
	rw := row{measure: what, tpm: fmt.Sprintf("%s; %.0f requests/s from %d clients; the command took median %s, worst %s",
		failed, r.rate(), *clients, ms(median(times)), ms(maxDur(times)))}
	rw.target = target
	if goal {
		rw.target = "0 failed"
		rw.ok = verdict(r.failed == 0 && r.ok > 0)
	}
	return rw
}

// migrateReq is the host's net.ipv4.tcp_migrate_req ("" when the kernel
// has none): with 0, Linux resets the connections still queued on a
// SO_REUSEPORT listener that closes instead of moving them to the others.
func migrateReq() string {
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_migrate_req")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// webServer is one way of running a web server under tpm and replacing
// it under load.
type webServer struct {
	what  string
	start []string // tpm-start's flags before the program
	names func(port int) []string
	cmd   func(port int) []string // the replacing command
	verb  string                  // what the command says it did
	goal  bool                    // no request may fail
	note  string                  // the target column when there is no goal
}

func (s webServer) listens() bool { return slices.Contains(s.start, "--listen") }

// webServers are the ways measured; reuse is what is known of
// tcp_migrate_req where they run, and whether it is 1.
func webServers(reps int, reuse string, migrate bool) []webServer {
	one := func(base string) func(int) []string {
		return func(p int) []string { return []string{fmt.Sprintf("%s-%d", base, p)} }
	}
	return []webServer{
		{what: fmt.Sprintf("`tpm-reload` of 1 process started with `--listen` (python http.server on fd 3), %d reloads", reps),
			start: []string{"--listen", "--name", "rl"}, names: one("rl"),
			cmd:  func(p int) []string { return []string{"tpm-reload", fmt.Sprintf("rl-%d", p)} },
			verb: "reloaded", goal: true},
		{what: fmt.Sprintf("`tpm-reload` of 2 instances sharing the PORT with SO_REUSEPORT, one at a time, %d reloads (%s)", reps, reuse),
			start: []string{"--instances", "2", "--name", "ri"},
			names: func(p int) []string { return []string{fmt.Sprintf("ri-%d-0", p), fmt.Sprintf("ri-%d-1", p)} },
			cmd:   func(p int) []string { return []string{"tpm-reload", fmt.Sprintf("ri-%d-*", p)} },
			verb:  "reloaded", goal: migrate, note: "0 needs tcp_migrate_req=1"},
		{what: fmt.Sprintf("`tpm-reload` of 1 SO_REUSEPORT process, the new run beside the old, %d reloads (%s)", reps, reuse),
			start: []string{"--name", "ro"}, names: one("ro"),
			cmd:  func(p int) []string { return []string{"tpm-reload", fmt.Sprintf("ro-%d", p)} },
			verb: "reloaded", goal: migrate, note: "0 needs tcp_migrate_req=1"},
		{what: fmt.Sprintf("contrast: `tpm-restart` of 1 process (no `--listen`), %d restarts", reps),
			start: []string{"--name", "rs"}, names: one("rs"),
			cmd:  func(p int) []string { return []string{"tpm-restart", fmt.Sprintf("rs-%d", p)} },
			verb: "restarted"},
	}
}

// serversDir writes the python servers into the benchmark's folder.
func (e *env) serversDir() (listenPy, reusePy string, err error) {
	dir := filepath.Join(e.dir, "reload")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", err
	}
	listenPy, reusePy = filepath.Join(dir, "listen.py"), filepath.Join(dir, "reuse.py")
	if err := os.WriteFile(listenPy, []byte(listenServer), 0o600); err != nil {
		return "", "", err
	}
	return listenPy, reusePy, os.WriteFile(reusePy, []byte(reuseServer), 0o600)
}

// replaceUnderLoad starts each server, replaces it reps times under the
// clients, stops it, and makes its row.
func (e *env) replaceUnderLoad(py string, reps int, servers []webServer) ([]row, error) {
	listenPy, reusePy, err := e.serversDir()
	if err != nil {
		return nil, err
	}
	var rows []row
	for _, s := range servers {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		script := reusePy
		if s.listens() {
			script = listenPy
		}
		args := append([]string{"--port", strconv.Itoa(port), "--wait"}, s.start...)
		if _, err := e.run("tpm-start", append(args, py, script)...); err != nil {
			return nil, err
		}
		names := s.names(port)
		r, times, err := underLoad(fmt.Sprintf("http://127.0.0.1:%d/", port), reps, e.tpmReplace(s.verb, names, s.cmd(port)...))
		e.run("tpm-stop", names...)
		if err != nil {
			return nil, err
		}
		rows = append(rows, reloadRow(s.what, r, times, s.goal, s.note))
	}
	return rows, nil
}

// benchReload: web servers answering a few clients that never stop asking
// (each request on a new connection), replaced -runs times each (at most
// 10): one process started with --listen and reloaded; two instances
// sharing the PORT with SO_REUSEPORT, reloaded one at a time; one
// SO_REUSEPORT process reloaded beside itself; and, for contrast, one
// process restarted (tpm-restart, no --listen). The SO_REUSEPORT ones run
// again in a network namespace with tcp_migrate_req=1 when the host has 0
// and the benchmark runs as root (the host's setting is left alone). With
// -with-pm2, PM2's reload of a cluster app of 2 Node workers under the
// same clients.
func benchReload(e *env) ([]row, error) {
	py, err := python()
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench reload: %v\n", err)
		return []row{{measure: "`tpm-reload` of web servers under load", tpm: "not measured: " + err.Error()}}, nil
	}
	reps := min(*runs, 10)
	mr := migrateReq()
	reuse := fmt.Sprintf("net.ipv4.tcp_migrate_req=%s on this host", mr)
	if mr == "" {
		reuse = "no net.ipv4.tcp_migrate_req in this kernel"
	}
	rows, err := e.replaceUnderLoad(py, reps, webServers(reps, reuse, mr == "1"))
	if err != nil {
		return nil, err
	}
	if mr == "0" {
		rs, err := e.reuseInNamespace(py, reps)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench reload: in a network namespace: %v\n", err)
		}
		rows = append(rows, rs...)
	}
	if *withPM2 {
		r, times, err := pm2Reload(e, reps)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench reload pm2: %v\n", err)
			rows = append(rows, row{measure: "PM2 7: `pm2 reload` of a cluster app", baseline: "**failed: " + err.Error() + "**"})
		} else {
			rw := reloadRow(fmt.Sprintf("PM2 7: `pm2 reload` of a cluster app of 2 Node workers (http.createServer, graceful on INT), %d reloads", reps), r, times, false, "")
			rw.baseline, rw.tpm = rw.tpm, ""
			rows = append(rows, rw)
		}
	}
	return rows, nil
}

// The SO_REUSEPORT measures again with tcp_migrate_req=1 without touching
// the host: the benchmark runs itself in a network namespace of its own
// (unshare -n), whose sysctl it sets; the child reuses the parent's
// binaries and state tree, and prints its rows as JSON lines.
const netnsVar = "TPM_BENCH_NETNS"

type netnsJob struct {
	Dir, Bin, Tetra, Python string
	Reps, Clients           int
}

type netnsRow struct {
	Measure, Tpm, Target string
	Ok                   *bool
}

func (e *env) reuseInNamespace(py string, reps int) ([]row, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("not root: no network namespace")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	job, _ := json.Marshal(netnsJob{Dir: e.dir, Bin: e.bin, Tetra: e.tetra, Python: py, Reps: reps, Clients: *clients})
	c := exec.Command(unshare, "-n", self)
	c.Env = append(os.Environ(), netnsVar+"="+string(job))
	c.Stderr = os.Stderr
	out, err := c.Output()
	if err != nil {
		return nil, fmt.Errorf("unshare -n: %w", err)
	}
	var rows []row
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var r netnsRow
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			return nil, fmt.Errorf("from the namespace: %q: %w", l, err)
		}
		rows = append(rows, row{measure: r.Measure, tpm: r.Tpm, target: r.Target, ok: r.Ok})
	}
	return rows, nil
}

// In the child, before main: it measures and exits.
func init() {
	if v := os.Getenv(netnsVar); v != "" {
		os.Unsetenv(netnsVar) // not for the programs it starts
		if err := inNamespace(v); err != nil {
			fmt.Fprintln(os.Stderr, "bench reload (namespace):", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

func inNamespace(v string) error {
	var job netnsJob
	if err := json.Unmarshal([]byte(v), &job); err != nil {
		return err
	}
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		return fmt.Errorf("ip link set lo up: %v: %s", err, out)
	}
	// The namespace's own setting: the host's stays as it is.
	if err := os.WriteFile("/proc/sys/net/ipv4/tcp_migrate_req", []byte("1\n"), 0o644); err != nil {
		return err
	}
	*clients = job.Clients
	e := &env{dir: job.Dir, bin: job.Bin, tetra: job.Tetra}
	e.vars = append(os.Environ(), "TETRA_DIR="+e.tetra, "PATH="+e.bin+":"+os.Getenv("PATH"), "NO_COLOR=1")
	var servers []webServer
	for _, s := range webServers(job.Reps, "net.ipv4.tcp_migrate_req=1 in a network namespace of the benchmark's own", true) {
		if !s.listens() && s.verb == "reloaded" {
			servers = append(servers, s)
		}
	}
	rows, err := e.replaceUnderLoad(job.Python, job.Reps, servers)
	enc := json.NewEncoder(os.Stdout)
	for _, r := range rows {
		enc.Encode(netnsRow{Measure: r.measure, Tpm: r.tpm, Target: r.target, Ok: r.ok})
	}
	return err
}

// pm2Env is a PM2 of its own, in a PM2_HOME under the benchmark's folder;
// kill stops its daemon and whatever it started.
type pm2Env struct {
	bin  string
	vars []string
	home string
	pids []int // programs seen, killed at the end if PM2 left them
}

// livePM2 holds the PM2s not killed yet, for an interrupted benchmark.
var livePM2 struct {
	sync.Mutex
	all []*pm2Env
}

// killPM2s kills every PM2 the benchmark started and has not killed.
func killPM2s() {
	livePM2.Lock()
	all := livePM2.all
	livePM2.Unlock()
	for _, p := range all {
		p.kill()
	}
}

func newPM2(e *env, home string, extra ...string) (*pm2Env, error) {
	bin, err := pm2Bin(e)
	if err != nil {
		return nil, err
	}
	p := &pm2Env{bin: bin, home: filepath.Join(e.dir, home)}
	p.vars = append(slices.Clone(e.vars), append([]string{"PM2_HOME=" + p.home}, extra...)...)
	livePM2.Lock()
	livePM2.all = append(livePM2.all, p)
	livePM2.Unlock()
	if _, _, err := p.run("ping"); err != nil { // the daemon starts here, untimed
		p.kill()
		return nil, err
	}
	return p, nil
}

func (p *pm2Env) run(args ...string) (time.Duration, string, error) {
	c := exec.Command(p.bin, args...)
	c.Env = p.vars
	t0 := time.Now()
	out, err := c.CombinedOutput()
	d := time.Since(t0)
	if err != nil {
		return d, string(out), fmt.Errorf("pm2 %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return d, string(out), nil
}

// list is PM2's processes: name and PID, in its order.
func (p *pm2Env) list() ([]pm2Proc, error) {
	_, out, err := p.run("jlist")
	if err != nil {
		return nil, err
	}
	procs, err := parseJlist(out)
	for _, pr := range procs {
		if pr.PID > 0 && !slices.Contains(p.pids, pr.PID) {
			p.pids = append(p.pids, pr.PID)
		}
	}
	return procs, err
}

type pm2Proc struct {
	Name string `json:"name"`
	PID  int    `json:"pid"`
}

// parseJlist reads `pm2 jlist`: a JSON array on one line, which may follow
// lines of PM2's own, such as "[PM2] Spawning PM2 daemon".
func parseJlist(out string) ([]pm2Proc, error) {
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if l != "[]" && !strings.HasPrefix(l, "[{") {
			continue
		}
		var procs []pm2Proc
		if err := json.Unmarshal([]byte(l), &procs); err != nil {
			return nil, fmt.Errorf("pm2 jlist: %w", err)
		}
		return procs, nil
	}
	return nil, fmt.Errorf("pm2 jlist said %q", out)
}

func (p *pm2Env) pidsOf(name string) ([]int, error) {
	procs, err := p.list()
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, pr := range procs {
		if pr.Name == name {
			pids = append(pids, pr.PID)
		}
	}
	return pids, nil
}

func (p *pm2Env) kill() {
	livePM2.Lock()
	livePM2.all = slices.DeleteFunc(livePM2.all, func(q *pm2Env) bool { return q == p })
	livePM2.Unlock()
	p.run("kill")
	if b, err := os.ReadFile(filepath.Join(p.home, "pm2.pid")); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			p.pids = append(p.pids, pid)
		}
	}
	for _, pid := range p.pids {
		if pid > 0 && !gone(pid) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// pm2Reload: `pm2 reload` of a cluster app of 2 Node workers under the
// same clients.
func pm2Reload(e *env, reps int) (loadResult, []time.Duration, error) {
	port, err := freePort()
	if err != nil {
		return loadResult{}, nil, err
	}
	p, err := newPM2(e, "pm2reload", "PORT="+strconv.Itoa(port))
	if err != nil {
		return loadResult{}, nil, err
	}
	defer p.kill()
	js := filepath.Join(e.dir, "reload", "server.js")
	if err := os.WriteFile(js, []byte(nodeServer), 0o600); err != nil {
		return loadResult{}, nil, err
	}
	if _, _, err := p.run("start", js, "--name", "web", "-i", "2"); err != nil {
		return loadResult{}, nil, err
	}
	replace := func() (time.Duration, error) {
		old, err := p.pidsOf("web")
		if err != nil {
			return 0, err
		}
		d, _, err := p.run("reload", "web")
		if err != nil {
			return 0, err
		}
		now, err := p.pidsOf("web")
		if err != nil {
			return 0, err
		}
		if len(now) != 2 || slices.ContainsFunc(now, func(n int) bool { return slices.Contains(old, n) }) {
			return 0, fmt.Errorf("pm2 reload web: pids %v, then %v", old, now)
		}
		for _, o := range old {
			if err := waitGone(o, 10*time.Second); err != nil {
				return 0, err
			}
		}
		return d, nil
	}
	return underLoad(fmt.Sprintf("http://127.0.0.1:%d/", port), reps, replace)
}

// benchRestart: tpm-restart of a program that exits on TERM, against
// tpm-stop then tpm-start NAME (the two commands it replaces) and, with
// -with-pm2, `pm2 restart`, interleaved.
func benchRestart(e *env) ([]row, error) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		return nil, err
	}
	const name = "rst"
	if _, err := e.run("tpm-start", "--port", "none", "--name", name, sleep, "3600"); err != nil {
		return nil, err
	}
	var p *pm2Env
	if *withPM2 {
		if p, err = newPM2(e, "pm2restart"); err != nil {
			fmt.Fprintf(os.Stderr, "bench restart pm2: %v\n", err)
		} else {
			defer p.kill()
			if _, _, err := p.run("start", sleep, "--name", name, "--interpreter", "none", "--", "3600"); err != nil {
				return nil, err
			}
		}
	}
	pidOf := func() int {
		m, err := e.record(name)
		if err != nil {
			return 0
		}
		return int(m.Int("pid"))
	}
	var tpm, two, pm []time.Duration
	for range *runs {
		old := pidOf()
		d, out, err := e.timed("tpm-restart", name)
		if err != nil {
			return nil, err
		}
		if p := pidsSaid(out, "restarted")[name]; p <= 0 || p == old {
			return nil, fmt.Errorf("tpm-restart %s said %q (old pid %d)", name, out, old)
		}
		tpm = append(tpm, d)

		d1, _, err := e.timed("tpm-stop", name)
		if err != nil {
			return nil, err
		}
		d2, _, err := e.timed("tpm-start", name)
		if err != nil {
			return nil, err
		}
		two = append(two, d1+d2)

		if p != nil {
			old, err := p.pidsOf(name)
			if err != nil {
				return nil, err
			}
			d, _, err := p.run("restart", name)
			if err != nil {
				return nil, err
			}
			now, err := p.pidsOf(name)
			if err != nil {
				return nil, err
			}
			if len(now) != 1 || slices.Equal(now, old) {
				return nil, fmt.Errorf("pm2 restart %s: pids %v, then %v", name, old, now)
			}
			pm = append(pm, d)
		}
	}
	mt, mw := median(tpm), median(two)
	rows := []row{{measure: fmt.Sprintf("`tpm-restart` of a program that exits on TERM (`sleep`), %d times", *runs),
		tpm: ms(mt), baseline: ms(mw) + " (`tpm-stop NAME` + `tpm-start NAME`)", ratio: ratio(mt, mw)}}
	if p != nil {
		mp := median(pm)
		rows = append(rows, row{measure: "PM2 7: restart a program (daemon running)", tpm: ms(mt) + " (`tpm-restart`)",
			baseline: ms(mp) + " (`pm2 restart`)", ratio: fmt.Sprintf("tpm %.0fx faster", float64(mp)/float64(mt))})
	}
	return rows, nil
}

// ecosystemFile is an ecosystem file of n apps as a PM2 user writes them:
// a script, its args, an env and a production env.
func ecosystemFile(n int, script string) string {
	var b strings.Builder
	b.WriteString("module.exports = {\n  apps: [\n")
	for i := range n {
		fmt.Fprintf(&b, "    {\n      name: 'app%02d',\n      script: %q,\n      args: '%d',\n      interpreter: 'none',\n", i, script, 3600+i)
		fmt.Fprintf(&b, "      env: { APP_ID: '%d', NODE_ENV: 'development', LOG_LEVEL: 'debug' },\n", i)
		b.WriteString("      env_production: { NODE_ENV: 'production', LOG_LEVEL: 'info' },\n    },\n")
	}
	b.WriteString("  ],\n};\n")
	return b.String()
}

// benchApply: an ecosystem file of 20 apps, started, then applied again
// unchanged (`tpm-start FILE --env production`, as after a deploy that
// changed nothing), interleaved with tpm-ls of the same 20 processes.
// Every app must say "unchanged" with its PID. With -with-pm2, the same
// file started again under PM2 (`pm2 start FILE --env production`).
func benchApply(e *env) ([]row, error) {
	const n = 20
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		return nil, err
	}
	file := filepath.Join(e.dir, "apps.config.js")
	if err := os.WriteFile(file, []byte(ecosystemFile(n, sleep)), 0o600); err != nil {
		return nil, err
	}
	out, err := e.run("tpm-start", file, "--env", "production")
	if err != nil {
		return nil, err
	}
	first := pidsSaid(out, "started")
	if len(first) != n {
		return nil, fmt.Errorf("tpm-start %s started %d of %d: %s", file, len(first), n, out)
	}
	var apply, ls, read []time.Duration
	changed := 0
	for range *runs {
		d, out, err := e.timed("tpm-start", file, "--env", "production")
		if err != nil {
			return nil, err
		}
		apply = append(apply, d)
		same := pidsSaid(out, "unchanged")
		for name, pid := range first {
			if same[name] != pid {
				changed++
			}
		}
		d, out, err = e.timed("tpm-ls")
		if err != nil {
			return nil, err
		}
		if got := strings.Count(out, "\n"); got < n {
			return nil, fmt.Errorf("tpm-ls listed %d lines: %q", got, out)
		}
		ls = append(ls, d)
		// Where the time goes: tpm-start reads the file with tpm-ecosystem,
		// a program of its own.
		d, _, err = e.timed("tpm-ecosystem", "--env", "production", file)
		if err != nil {
			return nil, err
		}
		read = append(read, d)
	}
	for name, pid := range first {
		m, err := e.record(name)
		if err != nil {
			return nil, err
		}
		if int(m.Int("pid")) != pid || gone(pid) {
			changed++
		}
	}
	ma, ml := median(apply), median(ls)
	rows := []row{
		{measure: fmt.Sprintf("apply a %d-app ecosystem file again, unchanged (`tpm-start apps.config.js --env production`), %d times", n, *runs),
			tpm: ms(ma), baseline: ms(ml) + " (`tpm-ls`, the same 20 processes)", ratio: ratio(ma, ml),
			target: "about one `tpm-ls` (≤ 2x)", ok: verdict(ma <= 2*ml)},
		{measure: "the same: programs restarted (a PID that changed, in any run)", tpm: strconv.Itoa(changed),
			target: "0", ok: verdict(changed == 0)},
		{measure: "the same: reading the file alone (`tpm-ecosystem --env production apps.config.js`, which tpm-start runs)",
			tpm: ms(median(read)), baseline: ms(ml) + " (`tpm-ls`)", ratio: ratio(median(read), ml)},
	}
	if *withPM2 {
		mp, restarted, reps, err := pm2Apply(e, file, n)
		what := fmt.Sprintf("PM2 7: the same file started again, unchanged (`pm2 start apps.config.js --env production`), %d times", reps)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench apply pm2: %v\n", err)
			rows = append(rows, row{measure: what, baseline: "**failed: " + err.Error() + "**"})
		} else {
			rows = append(rows, row{measure: what, tpm: fmt.Sprintf("%s, %d programs restarted", ms(ma), changed),
				baseline: fmt.Sprintf("%s, %d of %d programs restarted", ms(mp), restarted, n*reps),
				ratio:    fmt.Sprintf("tpm %.0fx faster", float64(mp)/float64(ma))})
		}
	}
	return rows, nil
}

// pm2Apply: the same file under PM2, started, then started again with its
// apps running, which is how a PM2 user applies a deploy; it returns the
// median time, the programs restarted in all, and the times it ran.
func pm2Apply(e *env, file string, n int) (time.Duration, int, int, error) {
	reps := min(*runs, 5)
	p, err := newPM2(e, "pm2apply")
	if err != nil {
		return 0, 0, reps, err
	}
	defer p.kill()
	if _, _, err := p.run("start", file, "--env", "production"); err != nil {
		return 0, 0, reps, err
	}
	pids := func() (map[string]int, error) {
		procs, err := p.list()
		m := map[string]int{}
		for _, pr := range procs {
			m[pr.Name] = pr.PID
		}
		return m, err
	}
	before, err := pids()
	if err != nil {
		return 0, 0, reps, err
	}
	if len(before) != n {
		return 0, 0, reps, fmt.Errorf("pm2 runs %d apps of %d", len(before), n)
	}
	var times []time.Duration
	restarted := 0
	for range reps {
		d, _, err := p.run("start", file, "--env", "production")
		if err != nil {
			return 0, 0, reps, err
		}
		times = append(times, d)
		after, err := pids()
		if err != nil {
			return 0, 0, reps, err
		}
		for name, pid := range before {
			if after[name] != pid {
				restarted++
			}
		}
		before = after
	}
	return median(times), restarted, reps, nil
}
