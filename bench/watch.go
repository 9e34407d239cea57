package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// benchWatch: --watch on a folder of a few hundred files (30 folders of 10
// files, and a node_modules of 2,000 files that is not watched). The time
// from a watched file's change to the program's new PID, against the
// debounce plus one start (tpm-start of the same program, interleaved:
// goal, under it); what the walk of the tree adds to tpm-start; the
// watching supervisor's resident memory (against a plain supervisor's, in
// the same run) and inotify watches; its CPU while the tree is quiet (no
// timer: 0).
func benchWatch(e *env) ([]row, error) {
	app := filepath.Join(e.dir, "watchapp")
	if err := watchTree(app); err != nil {
		return nil, err
	}
	const delay = 100 * time.Millisecond
	start := func(name string, watch bool) (time.Duration, error) {
		args := []string{"--port", "none", "--name", name}
		if watch {
			args = append(args, "--watch", "--watch-delay", delay.String())
		}
		return e.timedIn(app, "tpm-start", append(args, "sleep", "3600")...)
	}
	if _, err := start("watched", true); err != nil {
		return nil, err
	}
	if _, err := start("quiet", false); err != nil {
		return nil, err
	}
	var sups []int
	for _, name := range []string{"watched", "quiet"} {
		m, err := e.record(name)
		if err != nil {
			return nil, err
		}
		p, _ := strconv.Atoi(m.Value("sup_pid"))
		sups = append(sups, p)
	}
	time.Sleep(1500 * time.Millisecond) // past launching, settled
	fresh, plain := statusKB(sups[0], "VmRSS:"), statusKB(sups[1], "VmRSS:")
	// The delay in force is the record's.
	d := time.Second // none recorded: the default
	if out, err := e.run("tpm-meta", "watched", "watch_delay"); err == nil {
		if v, err := time.ParseDuration(strings.TrimSpace(out)); err == nil {
			d = v
		}
	}
	pidFile := filepath.Join(e.tetra, "tpm", "pids", "watched.pid")
	readPid := func() int {
		data, _ := os.ReadFile(pidFile)
		n, _ := strconv.Atoi(strings.TrimSpace(string(data)))
		return n
	}
	target := filepath.Join(app, "src", "d7", "f3.js")
	var starts, watchStarts, latency []time.Duration
	for i := range *runs {
		// One start, with and without the walk of the tree.
		s, err := start("plain", false)
		if err != nil {
			return nil, err
		}
		starts = append(starts, s)
		w, err := start("walked", true)
		if err != nil {
			return nil, err
		}
		watchStarts = append(watchStarts, w)
		if _, err := e.run("tpm-stop", "plain", "walked"); err != nil {
			return nil, err
		}
		// The restart is counted from a run already watched: the change
		// must not come between its PID and its watch.
		time.Sleep(50 * time.Millisecond)
		old := readPid()
		t0 := time.Now()
		if err := appendLine(target, strconv.Itoa(i)); err != nil {
			return nil, err
		}
		deadline := t0.Add(d + 10*time.Second)
		for {
			if p := readPid(); p != 0 && p != old && !gone(p) {
				break
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("watch: no new PID %v after the change", d+10*time.Second)
			}
			time.Sleep(200 * time.Microsecond)
		}
		latency = append(latency, time.Since(t0))
	}
	ml, m1, mw := median(latency), median(starts), median(watchStarts)
	rows := []row{{
		measure: fmt.Sprintf("watched file changed → new PID (--watch-delay %v)", d), tpm: ms(ml),
		baseline: ms(d+m1) + " (the delay + one `tpm-start`)", ratio: ratio(ml, d+m1),
		target: "< delay + one start", ok: verdict(ml < d+m1),
	}, {
		measure: "tpm-start --watch of 32 folders (300 files; node_modules of 2,000 not walked)", tpm: ms(mw),
		baseline: ms(m1) + " (without --watch)", ratio: ratio(mw, m1),
	}}
	time.Sleep(1500 * time.Millisecond) // settled after the last restart
	quiet := min(*idle, 10*time.Second)
	ns0 := cpuNanos(sups[0])
	time.Sleep(quiet)
	ns1 := cpuNanos(sups[0])
	rss, watches := statusKB(sups[0], "VmRSS:"), inotifyWatches(sups[0])
	return append(rows, row{
		measure:  "supervisor with --watch: resident memory; inotify watches",
		tpm:      fmt.Sprintf("RSS %.2f MiB (%.2f MiB after %d restarts); %d watches", float64(fresh)/1024, float64(rss)/1024, *runs, watches),
		baseline: fmt.Sprintf("RSS %.2f MiB (a supervisor without)", float64(plain)/1024), ratio: fmt.Sprintf("%+d KiB", fresh-plain),
		target: "+ < 256 KiB; 32 watches", ok: verdict(fresh-plain < 256 && watches == 32),
	}, row{
		measure: fmt.Sprintf("supervisor with --watch: CPU over %v with the tree quiet", quiet), tpm: fmt.Sprintf("%.0f µs on CPU (schedstat)", float64(ns1-ns0)/1000),
		target: "0 (no timer)", ok: verdict(ns1-ns0 < int64(time.Millisecond)),
	}), nil
}

// watchTree makes the watched folder: src/d0..d29 of 10 files each, and a
// node_modules of 200 packages of 10 files.
func watchTree(app string) error {
	for i := range 30 {
		for j := range 10 {
			if err := writeFile(filepath.Join(app, "src", "d"+strconv.Itoa(i), "f"+strconv.Itoa(j)+".js"), "// x\n"); err != nil {
				return err
			}
		}
	}
	for i := range 200 {
		for j := range 10 {
			if err := writeFile(filepath.Join(app, "node_modules", "p"+strconv.Itoa(i), "m"+strconv.Itoa(j)+".js"), "// x\n"); err != nil {
				return err
			}
		}
	}
	return nil
}

func writeFile(p, s string) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(s), 0o644)
}

func appendLine(p, s string) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(s + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// timedIn runs a command in dir (the program's folder: --watch is relative
// to it) and returns how long it took.
func (e *env) timedIn(dir, name string, args ...string) (time.Duration, error) {
	c := e.cmd(name, args...)
	c.Dir = dir
	out, err := os.CreateTemp(e.dir, "out")
	if err != nil {
		return 0, err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	c.Stdout, c.Stderr = out, out // a file: the supervisor must not hold a pipe of ours
	t0 := time.Now()
	err = c.Run()
	d := time.Since(t0)
	if err != nil {
		data, _ := os.ReadFile(out.Name())
		return d, fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(data)))
	}
	return d, nil
}

// inotifyWatches counts the watches of a process's inotify instances
// (/proc/PID/fdinfo lists one "inotify wd:" line per watch).
func inotifyWatches(pid int) int {
	dir := "/proc/" + strconv.Itoa(pid) + "/fd"
	ents, _ := os.ReadDir(dir)
	n := 0
	for _, ent := range ents {
		if l, _ := os.Readlink(filepath.Join(dir, ent.Name())); l != "anon_inode:inotify" {
			continue
		}
		data, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/fdinfo/" + ent.Name())
		n += strings.Count(string(data), "inotify wd:")
	}
	return n
}
