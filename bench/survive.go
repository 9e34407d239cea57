package main

// Survival measures (issue 12): a program's output outliving its
// supervisor's kill -9 and adoption, upgrade in place, a flapping program's
// supervisor memory, and PM2 after kill -9 of its daemon.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tetra-toolkit/tpm/lib/meta"
)

// surviveRate is the pace of the writers of the survival measures: 10,000
// lines of 100 bytes a second, 1 MB/s, so that a supervisor's death fills
// the program's 1 MiB pipe within about a second.
const surviveRate = 10000

// record reads NAME's meta line.
func (e *env) record(name string) (*meta.Meta, error) {
	data, err := os.ReadFile(filepath.Join(e.tetra, "tpm", "processes", name+".meta"))
	if err != nil {
		return nil, err
	}
	return meta.Parse(data)
}

func (e *env) logPath(name, kind string) string {
	return filepath.Join(e.tetra, "tpm", "logs", name+"."+kind)
}

// gone tells whether a process has ended (or is a zombie, ended but not
// yet reaped).
func gone(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return syscall.Kill(pid, 0) != nil
	}
	r := bytes.LastIndexByte(data, ')')
	return r < 0 || len(data) < r+3 || data[r+2] == 'Z'
}

// waitGone polls until pid has ended.
func waitGone(pid int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for !gone(pid) {
		if time.Now().After(deadline) {
			return fmt.Errorf("pid %d still alive after %v", pid, timeout)
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// waitFor polls cond until it holds.
func waitFor(what string, timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not after %v", what, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// logFiles returns a log's files in the order they were written: the
// rotated ones, oldest first, then the current one.
func logFiles(path string) []string {
	var old []string
	for i := 1; ; i++ {
		p := path + "." + strconv.Itoa(i)
		if !fileExists(p) {
			break
		}
		old = append(old, p)
	}
	slices.Reverse(old)
	return append(old, path)
}

// tally is what a log holds of a writer's numbered lines.
type tally struct {
	lines int // numbered lines found
	next  int // the number after the highest in order
	gaps  int // numbers skipped below next
	dups  int // lines whose number was not the next one's or beyond (repeated, out of order)
	bad   int // lines that are not a writer's
}

// lost is how many of lines 0..n-1 the log does not hold, in order.
func (t tally) lost(n int) int { return t.gaps + max(n-t.next, 0) }

func (t tally) clean(n int) bool { return t.lost(n) == 0 && t.dups == 0 && t.bad == 0 && t.next == n }

// scanLines reads a writer's numbered lines from files, in order; stamped
// lines lose their 20-byte time stamp first.
func scanLines(paths []string, stamped bool) (tally, error) {
	var t tally
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return t, err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<16), 1<<20)
		for sc.Scan() {
			l := sc.Bytes()
			if stamped {
				if len(l) < 20 || l[4] != '-' || l[19] != ' ' {
					t.bad++
					continue
				}
				l = l[20:]
			}
			sp := bytes.IndexByte(l, ' ')
			if len(l) != 99 || sp < 0 {
				t.bad++
				continue
			}
			k, err := strconv.Atoi(string(l[:sp]))
			if err != nil {
				t.bad++
				continue
			}
			t.lines++
			switch {
			case k == t.next:
				t.next++
			case k > t.next:
				t.gaps += k - t.next
				t.next = k + 1
			default:
				t.dups++
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return t, fmt.Errorf("%s: %w", p, err)
		}
	}
	return t, nil
}

// writerReport reads what a paced writer said on its way out (its
// stderr log): how many lines it wrote, and its longest write.
func writerReport(path string) (int, time.Duration, error) {
	// The report is the writer's last word: look from the newest file.
	files := logFiles(path)
	slices.Reverse(files)
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			return 0, 0, err
		}
		i := bytes.LastIndex(data, []byte("writer: wrote "))
		if i < 0 {
			continue
		}
		var n int
		var d string
		if _, err := fmt.Sscanf(string(data[i:]), "writer: wrote %d lines, longest write %s", &n, &d); err != nil {
			return 0, 0, fmt.Errorf("%s: %w", p, err)
		}
		w, err := time.ParseDuration(d)
		return n, w, err
	}
	return 0, 0, fmt.Errorf("%s: the writer said nothing", path)
}

// fileMark is a file's identity and size at a moment: a log that grew,
// or was rotated, no longer has the same mark.
type fileMark struct {
	ino  uint64
	size int64
}

func markOf(path string) fileMark {
	fi, err := os.Stat(path)
	if err != nil {
		return fileMark{}
	}
	st, _ := fi.Sys().(*syscall.Stat_t)
	if st == nil {
		return fileMark{size: fi.Size()}
	}
	return fileMark{ino: uint64(st.Ino), size: fi.Size()}
}

func maxDur(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return slices.Max(ds)
}

// benchSurvive: a program writing 10,000 numbered lines a second; its
// supervisor is killed with kill -9 a second after the start; 2 s later
// tpm-start NAME adopts it. Every line is checked, once and in order,
// across rotated files; the program must keep its PID and never restart.
// Timed: from tpm-start NAME's start to the log growing past what it held
// at the kill (the first drained line).
func benchSurvive(e *env) ([]row, error) {
	reps := min(*runs, 5)
	const (
		before = time.Second     // writing under its first supervisor
		alone  = 2 * time.Second // unsupervised, until adoption
		after  = 2 * time.Second // writing under the adopter
	)
	n := int((before + alone + after).Seconds() * surviveRate)
	writer := filepath.Join(e.bin, "writer")
	var drain, stalls []time.Duration
	var lost, restarts, pidChanged, notUnsup []int
	files := 0
	for i := range reps {
		name := "surv" + strconv.Itoa(i)
		out := e.logPath(name, "out")
		// Logs of 2 MB: the run's 6 MB go through two or three rotations,
		// one of them likely while the pipe is drained.
		if _, err := e.run("tpm-start", "--port", "none", "--name", name, "--restart", "no",
			"--log-max-size", "2M", "--log-keep", "20", writer, strconv.Itoa(n), strconv.Itoa(surviveRate)); err != nil {
			return nil, err
		}
		m, err := e.record(name)
		if err != nil {
			return nil, err
		}
		pid, sup := int(m.Int("pid")), int(m.Int("sup_pid"))
		if pid <= 0 || sup <= 0 {
			return nil, fmt.Errorf("%s: record without pid or sup_pid: %s", name, m)
		}
		if err := waitFor(name+" writing", 10*time.Second, func() bool { return markOf(out).size > 0 }); err != nil {
			return nil, err
		}
		time.Sleep(before)
		if err := syscall.Kill(sup, syscall.SIGKILL); err != nil {
			return nil, fmt.Errorf("kill -9 %d: %w", sup, err)
		}
		if err := waitGone(sup, 10*time.Second); err != nil {
			return nil, err
		}
		killed := time.Now()
		mark := markOf(out)
		// tpm-ls says so while nobody supervises it.
		ls, err := e.run("tpm-ls", name)
		if err != nil {
			return nil, err
		}
		if f := strings.Split(strings.TrimSpace(ls), "\t"); len(f) < 2 || f[1] != "unsupervised" {
			notUnsup = append(notUnsup, i)
		}
		time.Sleep(time.Until(killed.Add(alone)))

		c := e.cmd("tpm-start", name)
		var cout, cerr bytes.Buffer
		c.Stdout, c.Stderr = &cout, &cerr
		t0 := time.Now()
		if err := c.Start(); err != nil {
			return nil, err
		}
		var d time.Duration
		for {
			if markOf(out) != mark {
				d = time.Since(t0)
				break
			}
			if time.Since(t0) > 30*time.Second {
				c.Wait()
				return nil, fmt.Errorf("%s: nothing drained 30 s after tpm-start (%s%s)", name, cout.String(), cerr.String())
			}
			time.Sleep(100 * time.Microsecond)
		}
		if err := c.Wait(); err != nil {
			return nil, fmt.Errorf("tpm-start %s: %v: %s", name, err, strings.TrimSpace(cerr.String()))
		}
		want := fmt.Sprintf("%s adopted pid=%d ", name, pid)
		if !strings.HasPrefix(cout.String(), want) {
			return nil, fmt.Errorf("tpm-start %s said %q, want %q...", name, cout.String(), want)
		}
		drain = append(drain, d)

		// The writer ends on its own after its n lines; so does its
		// adopter, whose lock then comes free.
		if err := waitUnlocked(filepath.Join(e.tetra, "tpm", "run", name+".lock"), time.Minute); err != nil {
			return nil, err
		}
		m, err = e.record(name)
		if err != nil {
			return nil, err
		}
		restarts = append(restarts, int(m.Int("restarts")))
		if int(m.Int("pid")) != pid {
			pidChanged = append(pidChanged, i)
		}
		wrote, stall, err := writerReport(e.logPath(name, "err"))
		if err != nil {
			return nil, err
		}
		t, err := scanLines(logFiles(out), true)
		if err != nil {
			return nil, err
		}
		if wrote != n || !t.clean(n) {
			fmt.Fprintf(os.Stderr, "bench survive %s: writer wrote %d of %d; log: %d lines, next %d, %d skipped, %d out of order, %d foreign\n",
				name, wrote, n, t.lines, t.next, t.gaps, t.dups, t.bad)
		}
		lost = append(lost, t.lost(n)+t.dups+t.bad)
		files += len(logFiles(out))
		stalls = append(stalls, stall)
		for _, p := range append(logFiles(out), logFiles(e.logPath(name, "err"))...) {
			os.Remove(p)
		}
	}
	sum := func(xs []int) int {
		s := 0
		for _, x := range xs {
			s += x
		}
		return s
	}
	lostAll, restartsAll := sum(lost), sum(restarts)
	e.survRuns, e.survLost, e.survRestarts, e.survMoved = reps, lostAll, restartsAll, len(pidChanged)
	what := fmt.Sprintf("kill -9 of the supervisor of a program writing %d lines/s, adopted 2 s later (`tpm-start NAME`), %d runs", surviveRate, reps)
	rows := []row{
		{measure: what + ": lines lost or doubled", tpm: fmt.Sprintf("%d of %d in all runs, each line checked once and in order across %.0f log files a run (2 MB each, rotated)",
			lostAll, n*reps, float64(files)/float64(reps)),
			target: "0", ok: verdict(lostAll == 0)},
		{measure: "the same: program restarts", tpm: fmt.Sprintf("%d restarts, PID changed in %d runs", restartsAll, len(pidChanged)),
			target: "0", ok: verdict(restartsAll == 0 && len(pidChanged) == 0)},
		{measure: "the same: time from `tpm-start NAME` to the first drained line in the log",
			tpm: fmt.Sprintf("median %s, worst %s", ms(median(drain)), ms(maxDur(drain)))},
		{measure: "the same: status while unsupervised; the writer's longest write",
			tpm: fmt.Sprintf("`unsupervised` in %d of %d runs; longest write median %v, worst %v (the 1 MiB pipe full, the writer waiting)",
				reps-len(notUnsup), reps, median(stalls).Round(time.Millisecond), maxDur(stalls).Round(time.Millisecond)),
			ok: verdict(len(notUnsup) == 0)},
	}
	return rows, nil
}

// benchUpgrade: 20 supervisors (5 of programs writing 2,000 numbered lines
// a second each, 15 of quiet ones) upgraded in place, alternately to a
// second build of tpm-supervise (version bench2) and back to the first.
// Each time: the command's total time, every supervisor and program keeps
// its PID, no restart, every record names the new version. At the end the
// writers stop and every line they wrote must be in their logs.
func benchUpgrade(e *env) ([]row, error) {
	bin2 := filepath.Join(e.dir, "bin2")
	build := exec.Command("go", "build", "-o", bin2+"/",
		"-ldflags", "-X github.com/tetra-toolkit/tpm/lib/supervise.version=bench2", "./cmd/tpm-supervise")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Dir = e.root
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("build bench2: %w", err)
	}
	bins := []string{filepath.Join(bin2, "tpm-supervise"), filepath.Join(e.bin, "tpm-supervise")}
	var vers []string
	for _, b := range bins {
		out, err := exec.Command(b, "--version").Output()
		if err != nil {
			return nil, fmt.Errorf("%s --version: %w", b, err)
		}
		vers = append(vers, strings.TrimSpace(string(out)))
	}
	if vers[0] == vers[1] {
		return nil, fmt.Errorf("both builds say version %q", vers[0])
	}
	const writers, rate = 5, 2000
	writer := filepath.Join(e.bin, "writer")
	if _, err := e.run("tpm-start", "--port", "none", "--instances", strconv.Itoa(writers), "--name", "upw", "--restart", "no",
		writer, "1000000000", strconv.Itoa(rate)); err != nil {
		return nil, err
	}
	if _, err := e.run("tpm-start", "--port", "none", "--instances", strconv.Itoa(20-writers), "--name", "ups", "sleep", "3600"); err != nil {
		return nil, err
	}
	var names []string
	for i := range writers {
		names = append(names, "upw-"+strconv.Itoa(i))
	}
	for i := range 20 - writers {
		names = append(names, "ups-"+strconv.Itoa(i))
	}
	type ids struct{ pid, sup string }
	look := func(name string) (ids, string, string, error) {
		out, err := e.run("tpm-meta", name, "pid", "sup_pid", "restarts", "sup_version")
		f := strings.Fields(out)
		if err != nil || len(f) != 4 {
			return ids{}, "", "", fmt.Errorf("tpm-meta %s: %q %v", name, out, err)
		}
		return ids{f[0], f[1]}, f[2], f[3], nil
	}
	first := map[string]ids{}
	for _, n := range names {
		id, _, _, err := look(n)
		if err != nil {
			return nil, err
		}
		first[n] = id
	}
	reps := *runs
	var times []time.Duration
	var moved, restarted, wrongVersion int
	for i := range reps {
		to := i % 2
		d, out, err := e.timed("tpm-upgrade", "--binary", bins[to])
		if err != nil {
			return nil, err
		}
		times = append(times, d)
		if got := strings.Count(out, " upgraded "); got != 20 {
			return nil, fmt.Errorf("tpm-upgrade upgraded %d of 20: %s", got, out)
		}
		for _, n := range names {
			id, rs, v, err := look(n)
			if err != nil {
				return nil, err
			}
			if id != first[n] {
				moved++
			}
			if rs != "0" {
				restarted++
			}
			if v != vers[to] {
				wrongVersion++
			}
		}
	}
	// Stop the writers: each says on its way out how many lines it wrote.
	var stop []string
	for _, n := range names[:writers] {
		stop = append(stop, n)
	}
	if _, err := e.run("tpm-stop", stop...); err != nil {
		return nil, err
	}
	lost, total := 0, 0
	for _, n := range names[:writers] {
		if err := waitUnlocked(filepath.Join(e.tetra, "tpm", "run", n+".lock"), time.Minute); err != nil {
			return nil, err
		}
		wrote, _, err := writerReport(e.logPath(n, "err"))
		if err != nil {
			return nil, err
		}
		t, err := scanLines(logFiles(e.logPath(n, "out")), true)
		if err != nil {
			return nil, err
		}
		if !t.clean(wrote) {
			fmt.Fprintf(os.Stderr, "bench upgrade %s: writer wrote %d; log: %d lines, next %d, %d skipped, %d out of order, %d foreign\n",
				n, wrote, t.lines, t.next, t.gaps, t.dups, t.bad)
		}
		lost += t.lost(wrote) + t.dups + t.bad
		total += wrote
	}
	return []row{
		{measure: fmt.Sprintf("upgrade in place of 20 supervisors (`tpm-upgrade --binary`, %s ⇄ %s, %d times)", vers[1], vers[0], reps),
			tpm: fmt.Sprintf("median %s, worst %s", ms(median(times)), ms(maxDur(times)))},
		{measure: fmt.Sprintf("the same: lines lost or doubled (%d writers at %d lines/s)", writers, rate),
			tpm: fmt.Sprintf("%d of %d", lost, total), target: "0", ok: verdict(lost == 0 && total > 0)},
		{measure: "the same: programs restarted, PIDs changed (program or supervisor), records not naming the new version",
			tpm: fmt.Sprintf("%d, %d, %d (of %d checks)", restarted, moved, wrongVersion, 20*reps), target: "0",
			ok: verdict(restarted == 0 && moved == 0 && wrongVersion == 0)},
	}, nil
}

// benchFlap: a program that fails at once, restarted every 100 ms (the
// back-off never grows: each run outlasts --min-uptime 1ms); its
// supervisor's resident memory after 10 restarts and after -flaps.
func benchFlap(e *env) ([]row, error) {
	const name = "flap"
	if _, err := e.run("tpm-start", "--port", "none", "--name", name, "--restart", "always", "--min-uptime", "1ms",
		"--max-restarts", "100000", "sh", "-c", "exit 1"); err != nil {
		return nil, err
	}
	m, err := e.record(name)
	if err != nil {
		return nil, err
	}
	sup := int(m.Int("sup_pid"))
	restarts := func() int {
		m, err := e.record(name)
		if err != nil {
			return -1
		}
		return int(m.Int("restarts"))
	}
	t0 := time.Now()
	timeout := time.Duration(*flaps)*time.Second/5 + 30*time.Second
	if err := waitFor("10 restarts", timeout, func() bool { return restarts() >= 10 }); err != nil {
		return nil, err
	}
	rss10, anon10 := statusKB(sup, "VmRSS:"), statusKB(sup, "RssAnon:")
	t10 := time.Now()
	if err := waitFor(fmt.Sprintf("%d restarts", *flaps), timeout, func() bool { return restarts() >= *flaps }); err != nil {
		return nil, err
	}
	rss, hwm, anon := statusKB(sup, "VmRSS:"), statusKB(sup, "VmHWM:"), statusKB(sup, "RssAnon:")
	every := time.Since(t10) / time.Duration(max(*flaps-10, 1))
	total := time.Since(t0)
	if gone(sup) {
		return nil, errors.New("the flapping program's supervisor ended")
	}
	if _, err := e.run("tpm-stop", name); err != nil {
		return nil, err
	}
	mib := func(kb int64) string { return fmt.Sprintf("%.1f MiB", float64(kb)/1024) }
	return []row{{
		measure: fmt.Sprintf("supervisor of a flapping program (`sh -c 'exit 1'`, a restart every %s), resident memory after %d restarts",
			every.Round(time.Millisecond), *flaps),
		tpm:      fmt.Sprintf("RSS %s (peak %s; anonymous %s) after %d restarts in %s", mib(rss), mib(hwm), mib(anon), *flaps, total.Round(time.Second)),
		baseline: fmt.Sprintf("RSS %s (anonymous %s) after 10 restarts", mib(rss10), mib(anon10)),
		ratio:    fmt.Sprintf("%.2fx", float64(rss)/float64(rss10)),
		target:   "< 4 MiB", ok: verdict(rss > 0 && rss < 4096),
	}}, nil
}

// benchPM2Survive: the same writer under PM2 7, whose daemon (the "God"
// daemon, PM2_HOME/pm2.pid) is killed with kill -9 a second after the
// writer's start. 2 s later: is the writer alive, and does PM2, whose next
// command starts a new daemon, still list it? The writer's log is read for
// its last line, against the lines it was due to write by then.
func benchPM2Survive(e *env) ([]row, error) {
	pm2, err := pm2Bin(e)
	if err != nil {
		return nil, err
	}
	home := filepath.Join(e.dir, "pm2survive")
	t0file := filepath.Join(e.dir, "pm2writer.t0")
	vars := append(slices.Clone(e.vars), "PM2_HOME="+home, "WRITER_T0="+t0file)
	run := func(args ...string) (string, error) {
		c := exec.Command(pm2, args...)
		c.Env = vars
		out, err := c.CombinedOutput()
		if err != nil {
			return string(out), fmt.Errorf("pm2 %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return string(out), nil
	}
	daemonPid := func() int {
		b, _ := os.ReadFile(filepath.Join(home, "pm2.pid"))
		p, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		return p
	}
	// Whatever happens, nothing of this measure is left running: the
	// daemons (the killed one, the one PM2 starts again) and the writer.
	var pids []int
	defer func() {
		run("kill")
		for _, p := range pids {
			if p > 0 && !gone(p) {
				syscall.Kill(p, syscall.SIGKILL)
			}
		}
	}()
	if _, err := run("ping"); err != nil {
		return nil, err
	}
	daemon := daemonPid()
	pids = append(pids, daemon)
	writer := filepath.Join(e.bin, "writer")
	if _, err := run("start", writer, "--name", "w", "--interpreter", "none", "--", "1000000000", strconv.Itoa(surviveRate)); err != nil {
		return nil, err
	}
	out, err := run("pid", "w")
	if err != nil {
		return nil, err
	}
	wpid, _ := strconv.Atoi(strings.TrimSpace(out))
	if wpid <= 0 || daemon <= 0 {
		return nil, fmt.Errorf("no pid for the writer (%q) or the daemon (%d)", out, daemon)
	}
	pids = append(pids, wpid)
	logPath := filepath.Join(home, "logs", "w-out.log")
	if err := waitFor("the writer's log", 10*time.Second, func() bool { return markOf(logPath).size > 0 && fileExists(t0file) }); err != nil {
		return nil, err
	}
	time.Sleep(time.Second)
	if err := syscall.Kill(daemon, syscall.SIGKILL); err != nil {
		return nil, fmt.Errorf("kill -9 %d: %w", daemon, err)
	}
	if err := waitGone(daemon, 10*time.Second); err != nil {
		return nil, err
	}
	killed := time.Now()
	time.Sleep(2 * time.Second)
	end := time.Now()
	alive := !gone(wpid)
	// The next command starts a new daemon.
	jl, err := run("jlist")
	if err != nil {
		return nil, err
	}
	pids = append(pids, daemonPid())
	listed := strings.Contains(jl, `"name":"w"`)
	b, err := os.ReadFile(t0file)
	if err != nil {
		return nil, err
	}
	ns, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	wt0 := time.Unix(0, ns)
	dueKill := int(killed.Sub(wt0).Seconds() * surviveRate)
	dueEnd := int(end.Sub(wt0).Seconds() * surviveRate)
	t, err := scanLines([]string{logPath}, false)
	if err != nil {
		return nil, err
	}
	fate := "dead 2 s after the kill (its stdout, a socket to the daemon, broke)"
	if alive {
		fate = "alive 2 s after the kill"
	}
	list := "no: `pm2 jlist` starts a new daemon, which lists no app"
	if listed {
		list = "yes"
	}
	tpmFate, tpmList, tpmLost := "not measured (-only survive)", "yes: `unsupervised`, then adopted by `tpm-start NAME`", "-"
	if e.survRuns > 0 {
		tpmFate = fmt.Sprintf("alive, %d restarts and %d PID changes in %d runs", e.survRestarts, e.survMoved, e.survRuns)
		tpmLost = fmt.Sprintf("%d lines in %d runs", e.survLost, e.survRuns)
	}
	return []row{
		{measure: fmt.Sprintf("PM2 7: kill -9 of its daemon, a writer of %d lines/s running: the program", surviveRate),
			tpm: tpmFate + " (kill -9 of its supervisor)", baseline: fate},
		{measure: "PM2 7: the same: the program still listed once the manager runs again",
			tpm: tpmList, baseline: list},
		{measure: "PM2 7: the same: lines lost",
			tpm: tpmLost,
			baseline: fmt.Sprintf("the log ends at line %d of %d due by the kill; none of the %d lines due by 2 s later is in any log",
				t.next-1, dueKill, max(dueEnd-t.next, 0))},
	}, nil
}
