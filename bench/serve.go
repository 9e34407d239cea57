package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// benchServe: GET /v1/processes of tpm-serve with 100 and 1000 processes,
// against tpm-ls --json of the same tree in the same run (interleaved); then
// tpm-serve's resident memory, and its CPU over -idle with no client
// connected (goal: 0, no timers).
//
// The GET is timed as a client sees it: one request on a kept-alive
// connection, the answer read whole. tpm-ls --json is timed as a shell sees
// it: fork, exec, run, exit.
func benchServe(e *env) ([]row, error) {
	var rows []row
	var last *exec.Cmd
	stopServer := func() {
		if last != nil {
			last.Process.Signal(syscall.SIGTERM)
			last.Wait()
			last = nil
		}
	}
	defer stopServer()
	var pid int
	var rssStart int64
	for _, n := range []int{100, 1000} {
		tetra := filepath.Join(e.dir, "serve"+strconv.Itoa(n))
		if err := serveTree(tetra, n); err != nil {
			return nil, err
		}
		vars := append(slices.Clone(e.vars), "TETRA_DIR="+tetra)
		stopServer()
		srv := exec.Command(filepath.Join(e.bin, "tpm-serve"), "--listen", "127.0.0.1:0")
		srv.Env, srv.Dir = vars, e.dir
		out, err := srv.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := srv.Start(); err != nil {
			return nil, err
		}
		last, pid = srv, srv.Process.Pid
		url, err := bufio.NewReader(out).ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("tpm-serve printed no URL: %w", err)
		}
		url = strings.TrimSpace(url) + "v1/processes"
		if rssStart == 0 {
			rssStart = statusKB(pid, "VmRSS:") // listening, nothing served yet
		}
		tok, err := os.ReadFile(filepath.Join(tetra, "tpm", "serve.token"))
		if err != nil {
			return nil, err
		}
		client := &http.Client{Transport: &http.Transport{}}
		get := func() (time.Duration, error) {
			req, _ := http.NewRequest("GET", url, nil)
			req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				return 0, err
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			d := time.Since(t0)
			if err == nil && resp.StatusCode != 200 {
				err = fmt.Errorf("GET /v1/processes: %s: %s", resp.Status, body)
			}
			if err == nil && strings.Count(string(body), `"name":`) != n {
				err = fmt.Errorf("GET /v1/processes: %d processes, want %d", strings.Count(string(body), `"name":`), n)
			}
			return d, err
		}
		if _, err := get(); err != nil { // the connection, and the page cache
			return nil, err
		}
		var api, ls []time.Duration
		for range *runs {
			d, err := get()
			if err != nil {
				return nil, err
			}
			api = append(api, d)
			c := exec.Command(filepath.Join(e.bin, "tpm-ls"), "--json")
			c.Env = vars
			t0 := time.Now()
			if err := c.Run(); err != nil {
				return nil, fmt.Errorf("tpm-ls --json: %w", err)
			}
			ls = append(ls, time.Since(t0))
		}
		client.CloseIdleConnections()
		ma, ml := median(api), median(ls)
		rows = append(rows, row{measure: fmt.Sprintf("tpm-serve GET /v1/processes, %d processes", n),
			tpm: ms(ma), baseline: ms(ml) + " (`tpm-ls --json`)", ratio: ratio(ma, ml),
			target: "≤ 1x (no process to start)", ok: verdict(ma <= ml)})
	}
	// The last server has served 1000 processes and has no client left.
	time.Sleep(time.Second) // its connections closed, its last answer freed
	rss := statusKB(pid, "VmRSS:")
	ticks0, ns0 := cpuTicks(pid), cpuNanos(pid)
	time.Sleep(*idle)
	ticks1, ns1 := cpuTicks(pid), cpuNanos(pid)
	rows = append(rows,
		row{measure: "tpm-serve resident memory", tpm: fmt.Sprintf("%.1f MiB at start; %.1f MiB after serving 1000 processes", float64(rssStart)/1024, float64(rss)/1024)},
		row{measure: fmt.Sprintf("tpm-serve CPU over %v with no client", *idle),
			tpm:    fmt.Sprintf("%d clock ticks; %.0f µs on CPU (schedstat)", ticks1-ticks0, float64(ns1-ns0)/1000),
			target: "0 (no timers)", ok: verdict(ticks1-ticks0 == 0)})
	return rows, nil
}

// serveTree writes n records as benchLs does: most stopped, a third meant
// to run (their PIDs are checked, and are not alive).
func serveTree(tetra string, n int) error {
	procs := filepath.Join(tetra, "tpm", "processes")
	pids := filepath.Join(tetra, "tpm", "pids")
	for _, d := range []string{procs, pids, filepath.Join(tetra, "tpm", "logs"), filepath.Join(tetra, "tpm", "run")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	for i := range n {
		line := fmt.Sprintf("script=/srv/app/app%d.js pid=%d port=%d start_time=1764000000 type=cli cwd=/srv/app "+
			"args='--mode production' interpreter=node restart=on-failure max_restarts=15 min_uptime=10s kill_timeout=3s "+
			"signal=TERM log_max_size=10485760 log_keep=5 token=%d@1a2b3c4d sup_pid=%d sup_token=%d@1a2b3c4d state=stopped restarts=0 exit_code=0 exit_time=1764000100\n",
			i, 4000000+i, 10000+i, 100+i, 4100000+i, 99+i)
		name := fmt.Sprintf("app%d-%d", i, 10000+i)
		if err := os.WriteFile(filepath.Join(procs, name+".meta"), []byte(line), 0o600); err != nil {
			return err
		}
		if i%3 == 0 {
			if err := os.WriteFile(filepath.Join(pids, name+".pid"), []byte(strconv.Itoa(4000000+i)+"\n"), 0o600); err != nil {
				return err
			}
		}
	}
	return nil
}
