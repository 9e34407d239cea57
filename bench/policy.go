package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// benchPolicy: what the timed policies cost a supervisor whose program is
// quiet (issue 14's benchmarks). Four groups of 20 supervisors of a sleep
// run side by side over one window of -idle: no policy (the baseline: no
// CPU at all), --max-memory (a check every 2 s), --health-http every 10 s
// (the default period; the port is served by this process, so that only
// the supervisors' side is measured), and --health-cmd true every 10 s.
// CPU is read from /proc/PID/task/*/schedstat, every thread of each
// supervisor (a Go program's timers run on any of them), with the number
// of times its threads were scheduled: how often it woke. Figures are
// given for the window and per minute (scaled by 1m / -idle, so that a
// shorter -idle gives comparable figures). Then the resident memory of
// one supervisor with every policy set, after the window: its health
// checks, memory checks and watch have all run.
func benchPolicy(e *env) ([]row, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	watched := filepath.Join(e.dir, "watched")
	if err := os.MkdirAll(filepath.Join(watched, "src"), 0o700); err != nil {
		return nil, err
	}
	for i := range 50 {
		os.WriteFile(filepath.Join(watched, "src", "f"+strconv.Itoa(i)+".js"), []byte("x\n"), 0o600)
	}
	groups := []struct {
		label string
		args  []string
	}{
		{"no policy", []string{"--port", "none", "--name", "pnone"}},
		{"--max-memory (checked every 2 s)", []string{"--port", "none", "--name", "pmem", "--max-memory", "1G"}},
		{"--health-http every 10 s", []string{"--port", strconv.Itoa(port), "--name", "phttp", "--health-http", "/health", "--health-every", "10s"}},
		{"--health-cmd true every 10 s", []string{"--port", "none", "--name", "pcmd", "--health-cmd", "true", "--health-every", "10s"}},
	}
	sups := make([][]int, len(groups))
	for i, g := range groups {
		out, err := e.run("tpm-start", append(append([]string{"--instances", "20"}, g.args...), "sleep", "3600")...)
		if err != nil {
			return nil, err
		}
		if sups[i], err = e.supervisors(out); err != nil {
			return nil, err
		}
	}
	all := []string{"--port", strconv.Itoa(port), "--name", "pall", "--max-memory", "1G", "--cron-restart", "0 3 * * *",
		"--watch=" + watched, "--watch-ignore", "*.log", "--watch-delay", "1s",
		"--health-http", "/health", "--health-every", "1s", "--health-fails", "3",
		"--wait-log", "ready", "--on-event", "true", "--restart-delay", "1s"}
	out, err := e.run("tpm-start", append(all, "sh", "-c", "echo ready; exec sleep 3600")...)
	if err != nil {
		return nil, err
	}
	every, err := e.supervisors(out)
	if err != nil {
		return nil, err
	}
	// The health path, answered here once every port check of tpm-start
	// is behind us.
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })}
	go srv.Serve(l)
	defer srv.Close()

	time.Sleep(2 * time.Second) // past each program's first second
	type use struct{ ns, runs int64 }
	read := func() [][]use {
		out := make([][]use, len(sups))
		for i, g := range sups {
			for _, p := range g {
				ns, runs := schedAll(p)
				out[i] = append(out[i], use{ns, runs})
			}
		}
		return out
	}
	before := read()
	time.Sleep(*idle)
	after := read()
	scale := float64(time.Minute) / float64(*idle)
	var rows []row
	for i, g := range groups {
		var ns, runs int64
		for j := range sups[i] {
			ns += after[i][j].ns - before[i][j].ns
			runs += after[i][j].runs - before[i][j].runs
		}
		n := float64(len(sups[i]))
		r := row{
			measure: fmt.Sprintf("supervisor CPU over %v, quiet program, %s (%d supervisors)", *idle, g.label, len(sups[i])),
			tpm: fmt.Sprintf("%.0f µs in all; per supervisor and minute: %.0f µs on CPU, %.0f wakeups", float64(ns)/1000,
				float64(ns)/1000/n*scale, float64(runs)/n*scale),
		}
		if i == 0 {
			r.target, r.ok = "0 (no polling)", verdict(ns < int64(len(sups[i]))*int64(time.Millisecond))
		} else {
			r.target = "wakes at its period only"
		}
		rows = append(rows, r)
	}
	// Resident memory after the window, each group's median and worst, with
	// its anonymous part (the runtime's heap and stacks; the rest is the
	// binary's file pages, shared between supervisors).
	mib := func(kb int64) string { return fmt.Sprintf("%.1f", float64(kb)/1024) }
	var worst int64
	var parts []string
	for i, g := range groups {
		var rss, anon []int64
		for _, p := range sups[i] {
			rss = append(rss, statusKB(p, "VmRSS:"))
			anon = append(anon, statusKB(p, "RssAnon:"))
		}
		slices.Sort(rss)
		slices.Sort(anon)
		worst = max(worst, rss[len(rss)-1])
		parts = append(parts, fmt.Sprintf("%s: %s (anon %s), max %s", g.label, mib(rss[len(rss)/2]), mib(anon[len(anon)/2]), mib(rss[len(rss)-1])))
	}
	p := every[0]
	allRSS := statusKB(p, "VmRSS:")
	rows = append(rows,
		row{measure: "supervisor resident memory (MiB, median) after the window", tpm: strings.Join(parts, "; "),
			target: "< 4 MiB", ok: verdict(worst < 4096)},
		row{measure: "supervisor resident memory, every policy set (memory, cron, watch of 50 files, health every 1 s, wait-log, hook, restart delay)",
			tpm:    fmt.Sprintf("%s MiB (anon %s, file %s)", mib(allRSS), mib(statusKB(p, "RssAnon:")), mib(statusKB(p, "RssFile:"))),
			target: "< 4 MiB", ok: verdict(allRSS < 4096)})
	return rows, nil
}

// supervisors reads the supervisors' PIDs of the processes tpm-start
// printed ("NAME pid=PID port=PORT" lines).
func (e *env) supervisors(out string) ([]int, error) {
	var pids []int
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		name, _, _ := strings.Cut(line, " ")
		m, err := os.ReadFile(filepath.Join(e.tetra, "tpm", "processes", name+".meta"))
		if err != nil {
			return nil, err
		}
		for _, f := range strings.Fields(string(m)) {
			if v, ok := strings.CutPrefix(f, "sup_pid="); ok {
				p, _ := strconv.Atoi(v)
				pids = append(pids, p)
			}
		}
	}
	if len(pids) == 0 {
		return nil, fmt.Errorf("no supervisor in %q", out)
	}
	return pids, nil
}

// schedAll is the time every thread of a process has spent on a CPU, in
// nanoseconds, and the number of times they were scheduled
// (/proc/PID/task/*/schedstat: on CPU, waiting, timeslices).
func schedAll(pid int) (ns, runs int64) {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	tids, _ := os.ReadDir(dir)
	for _, t := range tids {
		data, err := os.ReadFile(filepath.Join(dir, t.Name(), "schedstat"))
		if err != nil {
			continue
		}
		f := strings.Fields(string(data))
		if len(f) < 3 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		r, _ := strconv.ParseInt(f[2], 10, 64)
		ns += n
		runs += r
	}
	return ns, runs
}
