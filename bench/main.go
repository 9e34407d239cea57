// Bench measures tpm against its baselines in one run on this machine and
// prints a table of medians and ratios, with the targets of SPEC §11.
//
// Usage:
//
//	go run ./bench [-runs N] [-idle D] [-lines N] [-flaps N] [-clients N] [-only LIST] [-with-pm2]
//
// It builds the binaries into a temporary folder, uses a TETRA_DIR of its
// own, and stops everything it started. Every figure is a median of -runs
// timings of real commands; each ratio compares two figures measured in the
// same run, interleaved, so that a busy machine slows both sides alike.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

var (
	runs    = flag.Int("runs", 30, "timings per measure")
	idle    = flag.Duration("idle", time.Minute, "how long to watch quiet supervisors for CPU use")
	lines   = flag.Int("lines", 1000000, "lines for the logging measure")
	flaps   = flag.Int("flaps", 300, "restarts of the flapping program before its supervisor's memory is read")
	clients = flag.Int("clients", 2, "clients asking the web servers of the reload measure, each as fast as it goes")
	only    = flag.String("only", "", "comma-separated measures to run: start,ls,stop,log,mem,survive,upgrade,flap,reload,restart,apply,serve,host,watch,policy,pm2 (default all)")
	withPM2 = flag.Bool("with-pm2", false, "also measure PM2 (installed with npm into bench/.pm2, which git ignores); with survive, PM2 after kill -9 of its daemon; with reload, restart and apply, pm2 reload, restart and start FILE")
)

// env is the benchmark's world: its binaries and its state tree.
type env struct {
	dir, bin, tetra, root string
	vars                  []string
	// tpm's own figures, kept for the comparison with PM2.
	tpmStart, tpmLs20, tpmStop, tpmLog time.Duration
	tpmSupRSS, tpmSupPSS               int64 // KiB, all 20 supervisors
	// What benchSurvive saw, for the comparison with PM2 (runs 0: not run).
	survRuns, survLost, survRestarts, survMoved int
}

func main() {
	flag.Parse()
	e, err := setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	defer e.cleanup()
	// Interrupted, it still stops what it started: tpm's processes and the
	// PM2s of the workflow measures.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		fmt.Fprintln(os.Stderr, "bench: interrupted: stopping what it started")
		killPM2s()
		e.cleanup()
		os.Exit(130)
	}()
	var rows []row
	want := func(m string) bool {
		return *only == "" || slices.Contains(strings.Split(*only, ","), m)
	}
	fmt.Printf("tpm benchmark, %s, %d CPUs, %d runs per timing\n\n", time.Now().Format("2006-01-02 15:04 MST"), numCPU(), *runs)
	for _, m := range []struct {
		name string
		fn   func(*env) ([]row, error)
	}{
		{"start", benchStart}, {"ls", benchLs}, {"stop", benchStop}, {"log", benchLog}, {"mem", benchMem},
		{"survive", benchSurvive}, {"upgrade", benchUpgrade}, {"flap", benchFlap},
		{"reload", benchReload}, {"restart", benchRestart}, {"apply", benchApply}, {"serve", benchServe}, {"host", benchHost}, {"watch", benchWatch}, {"policy", benchPolicy},
	} {
		if !want(m.name) {
			continue
		}
		rs, err := m.fn(e)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench %s: %v\n", m.name, err)
			e.run("tpm-stop", "--all")
			os.Exit(1)
		}
		rows = append(rows, rs...)
		e.run("tpm-stop", "--all")
	}
	if *withPM2 && want("pm2") {
		rs, err := benchPM2(e)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench pm2: %v\n", err)
		}
		rows = append(rows, rs...)
	}
	if *withPM2 && want("survive") {
		rs, err := benchPM2Survive(e)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench pm2 survive: %v\n", err)
		}
		rows = append(rows, rs...)
	}
	printTable(rows)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func numCPU() int {
	n := 0
	data, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "processor") {
			n++
		}
	}
	return n
}

func setup() (*env, error) {
	dir, err := os.MkdirTemp("", "tpm-bench-")
	if err != nil {
		return nil, err
	}
	e := &env{dir: dir, bin: filepath.Join(dir, "bin"), tetra: filepath.Join(dir, "tetra")}
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	e.root = root
	build := exec.Command("go", "build", "-o", e.bin+"/", "./cmd/...", "./bench/writer")
	// Static binaries, as the README installs them: kong links os/user,
	// which with cgo pulls in the C library and slows every start.
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Dir = root
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	e.vars = append(os.Environ(), "TETRA_DIR="+e.tetra, "PATH="+e.bin+":"+os.Getenv("PATH"), "NO_COLOR=1")
	return e, nil
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

func (e *env) cleanup() {
	e.run("tpm-stop", "--all")
	os.RemoveAll(e.dir)
}

// cmd returns a command run in the benchmark's world.
func (e *env) cmd(name string, args ...string) *exec.Cmd {
	if p := filepath.Join(e.bin, name); fileExists(p) {
		name = p
	}
	c := exec.Command(name, args...)
	c.Env = e.vars
	c.Dir = e.dir
	return c
}

// run runs a command and returns its stdout.
func (e *env) run(name string, args ...string) (string, error) {
	c := e.cmd(name, args...)
	var errb bytes.Buffer
	c.Stderr = &errb
	out, err := c.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return string(out), nil
}

// timed runs a command and returns how long it took and its output. The
// output goes to a file, not a pipe: a baseline such as `prog &` leaves a
// child holding its stdout, and a pipe would make the wait last as long as
// that child.
func (e *env) timed(name string, args ...string) (time.Duration, string, error) {
	c := e.cmd(name, args...)
	out, err := os.CreateTemp(e.dir, "out")
	if err != nil {
		return 0, "", err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	errf, err := os.CreateTemp(e.dir, "err")
	if err != nil {
		return 0, "", err
	}
	defer os.Remove(errf.Name())
	defer errf.Close()
	c.Stdout, c.Stderr = out, errf
	t0 := time.Now()
	err = c.Run()
	d := time.Since(t0)
	data, _ := os.ReadFile(out.Name())
	if err != nil {
		errb, _ := os.ReadFile(errf.Name())
		return d, string(data), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(errb)))
	}
	return d, string(data), nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// row is one line of the table.
type row struct {
	measure, tpm, baseline, ratio, target string
	ok                                    *bool
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func ratio(a, b time.Duration) string { return fmt.Sprintf("%.2fx", float64(a)/float64(b)) }

func verdict(ok bool) *bool { return &ok }

func printTable(rows []row) {
	fmt.Println("| measure | tpm | baseline | ratio | target | met |")
	fmt.Println("| --- | --- | --- | --- | --- | --- |")
	for _, r := range rows {
		met := ""
		if r.ok != nil {
			met = "yes"
			if !*r.ok {
				met = "**no**"
			}
		}
		fmt.Printf("| %s | %s | %s | %s | %s | %s |\n", r.measure, r.tpm, r.baseline, r.ratio, r.target, met)
	}
}

// benchStart: tpm-start of one program until its PID is known, against
// sh -c 'prog & echo $!'; then 20 programs.
func benchStart(e *env) ([]row, error) {
	var tpm, sh []time.Duration
	var shPids []int
	for i := range *runs {
		d, _, err := e.timed("tpm-start", "--port", "none", "--name", "s"+strconv.Itoa(i), "sleep", "3600")
		if err != nil {
			return nil, err
		}
		tpm = append(tpm, d)
		d, out, err := e.timed("sh", "-c", "sleep 3600 & echo $!")
		if err != nil {
			return nil, err
		}
		sh = append(sh, d)
		if pid, err := strconv.Atoi(strings.TrimSpace(out)); err == nil {
			shPids = append(shPids, pid)
		}
	}
	for _, p := range shPids {
		syscall.Kill(p, syscall.SIGKILL)
	}
	if _, err := e.run("tpm-stop", "--all"); err != nil {
		return nil, err
	}
	mt, mb := median(tpm), median(sh)
	e.tpmStart = mt
	rows := []row{{
		measure: "start 1 program until its PID is known", tpm: ms(mt), baseline: ms(mb) + " (`sh -c 'prog & echo $!'`)",
		ratio: ratio(mt, mb), target: "≤ 3x", ok: verdict(float64(mt) <= 3*float64(mb)),
	}}
	// 20 programs: one tpm-start --instances 20 against one sh loop.
	var tpm20, sh20 []time.Duration
	n := max(*runs/5, 3)
	for i := range n {
		d, _, err := e.timed("tpm-start", "--port", "none", "--instances", "20", "--name", "m"+strconv.Itoa(i), "sleep", "3600")
		if err != nil {
			return nil, err
		}
		tpm20 = append(tpm20, d)
		d, out, err := e.timed("sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do sleep 3600 & echo $!; done")
		if err != nil {
			return nil, err
		}
		sh20 = append(sh20, d)
		for _, f := range strings.Fields(out) {
			if p, err := strconv.Atoi(f); err == nil {
				syscall.Kill(p, syscall.SIGKILL)
			}
		}
		if _, err := e.run("tpm-stop", "--all"); err != nil {
			return nil, err
		}
	}
	mt, mb = median(tpm20), median(sh20)
	rows = append(rows, row{measure: "start 20 programs (`--instances 20`)", tpm: ms(mt), baseline: ms(mb) + " (20 × `prog &` in one sh)", ratio: ratio(mt, mb)})
	return rows, nil
}

// benchLs: tpm-ls with 20, 100 and 1000 records against cat of their meta
// files.
func benchLs(e *env) ([]row, error) {
	var rows []row
	for _, n := range []int{20, 100, 1000} {
		tetra := filepath.Join(e.dir, "ls"+strconv.Itoa(n))
		procs := filepath.Join(tetra, "tpm", "processes")
		os.MkdirAll(procs, 0o700)
		os.MkdirAll(filepath.Join(tetra, "tpm", "pids"), 0o700)
		for i := range n {
			// Realistic records: most stopped, a third meant to run (their
			// PIDs are checked, and are not alive).
			line := fmt.Sprintf("script=/srv/app/app%d.js pid=%d port=%d start_time=1764000000 type=cli cwd=/srv/app "+
				"args='--mode production' interpreter=node restart=on-failure max_restarts=15 min_uptime=10s kill_timeout=3s "+
				"signal=TERM log_max_size=10485760 log_keep=5 token=%d@1a2b3c4d sup_pid=%d sup_token=%d@1a2b3c4d state=stopped restarts=0 exit_code=0 exit_time=1764000100\n",
				i, 4000000+i, 10000+i, 100+i, 4100000+i, 99+i)
			name := fmt.Sprintf("app%d-%d", i, 10000+i)
			os.WriteFile(filepath.Join(procs, name+".meta"), []byte(line), 0o600)
			if i%3 == 0 {
				os.WriteFile(filepath.Join(tetra, "tpm", "pids", name+".pid"), []byte(strconv.Itoa(4000000+i)+"\n"), 0o600)
			}
		}
		vars := append(slices.Clone(e.vars), "TETRA_DIR="+tetra)
		timeCmd := func(name string, args ...string) (time.Duration, error) {
			c := exec.Command(name, args...)
			c.Env = vars
			c.Stdout = nil
			t0 := time.Now()
			err := c.Run()
			return time.Since(t0), err
		}
		var tpm, cat []time.Duration
		glob := filepath.Join(procs, "*.meta")
		for range *runs {
			d, err := timeCmd(filepath.Join(e.bin, "tpm-ls"))
			if err != nil {
				return nil, fmt.Errorf("tpm-ls: %w", err)
			}
			tpm = append(tpm, d)
			d, err = timeCmd("sh", "-c", "cat "+glob+" >/dev/null")
			if err != nil {
				return nil, err
			}
			cat = append(cat, d)
		}
		mt, mb := median(tpm), median(cat)
		if n == 20 {
			e.tpmLs20 = mt
		}
		r := row{measure: fmt.Sprintf("tpm-ls, %d processes", n), tpm: ms(mt), baseline: ms(mb) + " (`cat *.meta`)", ratio: ratio(mt, mb)}
		if n == 1000 {
			r.target = "< 25 ms and ≤ 3x"
			r.ok = verdict(mt < 25*time.Millisecond && float64(mt) <= 3*float64(mb))
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// benchStop: tpm-stop of a program that exits on TERM, against the
// program's own exit after TERM; then one that ignores TERM.
func benchStop(e *env) ([]row, error) {
	var tpm, own []time.Duration
	for i := range *runs {
		name := "t" + strconv.Itoa(i)
		if _, err := e.run("tpm-start", "--port", "none", "--name", name, "sleep", "3600"); err != nil {
			return nil, err
		}
		d, out, err := e.timed("tpm-stop", name)
		if err != nil {
			return nil, err
		}
		if !strings.Contains(out, "stopped") {
			return nil, fmt.Errorf("tpm-stop said %q", out)
		}
		tpm = append(tpm, d)

		c := exec.Command("sleep", "3600")
		if err := c.Start(); err != nil {
			return nil, err
		}
		t0 := time.Now()
		c.Process.Signal(syscall.SIGTERM)
		c.Wait()
		own = append(own, time.Since(t0))
	}
	mt, mo := median(tpm), median(own)
	e.tpmStop = mt
	rows := []row{{
		measure: "stop a program that exits on TERM", tpm: ms(mt), baseline: ms(mo) + " (its own exit after TERM)",
		ratio: ratio(mt, mo), target: "≤ 2 × own + 10 ms", ok: verdict(mt <= 2*mo+10*time.Millisecond),
	}}
	var stub []time.Duration
	for i := range 3 {
		name := "i" + strconv.Itoa(i)
		if _, err := e.run("tpm-start", "--port", "none", "--name", name, "sh", "-c", "trap '' TERM; echo up; exec sleep 3600"); err != nil {
			return nil, err
		}
		if err := waitFile(filepath.Join(e.tetra, "tpm", "logs", name+".out"), "up", 10*time.Second); err != nil {
			return nil, err
		}
		d, _, err := e.timed("tpm-stop", name)
		if err != nil {
			return nil, err
		}
		stub = append(stub, d)
	}
	m := median(stub)
	rows = append(rows, row{measure: "stop a program that ignores TERM (grace 3 s)", tpm: ms(m), baseline: "3000 ms (the grace)",
		ratio: fmt.Sprintf("+%s", ms(m-3*time.Second)), target: "grace + a few ms", ok: verdict(m < 3*time.Second+100*time.Millisecond)})
	return rows, nil
}

func waitFile(path, substr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if b, err := os.ReadFile(path); err == nil && bytes.Contains(b, []byte(substr)) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: no %q after %v", path, substr, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// benchLog: a writer of numbered 100-byte lines, under tpm against
// `writer | cat > file`; every line is checked, once and in order. Two
// timings each: from the command's start (tpm-start and the supervisor
// starting included) and from the writer's own start (the logging path
// alone, which SPEC §11 compares).
func benchLog(e *env) ([]row, error) {
	writer := filepath.Join(e.bin, "writer")
	n := strconv.Itoa(*lines)
	t0file := filepath.Join(e.dir, "writer.t0")
	since := func(end time.Time) (time.Duration, error) {
		b, err := os.ReadFile(t0file)
		if err != nil {
			return 0, err
		}
		ns, err := strconv.ParseInt(string(b), 10, 64)
		return end.Sub(time.Unix(0, ns)), err
	}
	var tpm, cat, tpmPath, catPath []time.Duration
	reps := max(*runs/4, 5)
	for i := range reps {
		file := filepath.Join(e.dir, "cat.out")
		os.Remove(t0file)
		d, _, err := e.timed("sh", "-c", "WRITER_T0="+t0file+" "+writer+" "+n+" | cat > "+file)
		if err != nil {
			return nil, err
		}
		end := time.Now()
		cat = append(cat, d)
		p, err := since(end)
		if err != nil {
			return nil, err
		}
		catPath = append(catPath, p)
		if err := checkLines(file, *lines, false); err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		os.Remove(file)

		name := "log" + strconv.Itoa(i)
		lock := filepath.Join(e.tetra, "tpm", "run", name+".lock")
		os.Remove(t0file)
		t0 := time.Now()
		c := e.cmd("tpm-start", "--port", "none", "--name", name, "--restart", "no", "--log-max-size", "4G", writer, n)
		c.Env = append(c.Env, "WRITER_T0="+t0file)
		if out, err := c.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("tpm-start: %v: %s", err, out)
		}
		// Done when nothing of it runs: the supervisor exits after the last
		// byte is written; its run lock comes free then.
		if err := waitUnlocked(lock, time.Minute); err != nil {
			return nil, err
		}
		end = time.Now()
		tpm = append(tpm, end.Sub(t0))
		if p, err = since(end); err != nil {
			return nil, err
		}
		tpmPath = append(tpmPath, p)
		if err := checkLines(filepath.Join(e.tetra, "tpm", "logs", name+".out"), *lines, true); err != nil {
			return nil, fmt.Errorf("tpm: %w", err)
		}
		os.Remove(filepath.Join(e.tetra, "tpm", "logs", name+".out"))
	}
	mt, mc, pt, pc := median(tpm), median(cat), median(tpmPath), median(catPath)
	e.tpmLog = mt
	rate := func(d time.Duration) string { return fmt.Sprintf("%.0f lines/s", float64(*lines)/d.Seconds()) }
	through := float64(pc) / float64(pt)
	return []row{
		{
			measure:  fmt.Sprintf("log %d lines of 100 bytes, from the writer's start (all verified, in order)", *lines),
			tpm:      rate(pt) + " (" + ms(pt) + ")",
			baseline: rate(pc) + " (" + ms(pc) + ", `writer | cat > file`)",
			ratio:    fmt.Sprintf("%.2f of cat", through),
			target:   "≥ 0.6 of cat", ok: verdict(through >= 0.6),
		},
		{
			measure:  "the same, from the command's start (tpm-start included)",
			tpm:      rate(mt) + " (" + ms(mt) + ")",
			baseline: rate(mc) + " (" + ms(mc) + ")",
			ratio:    fmt.Sprintf("%.2f of cat", float64(mc)/float64(mt)),
		},
	}, nil
}

// waitUnlocked blocks in flock(2) until the lock file is free.
func waitUnlocked(path string, timeout time.Duration) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	done := make(chan error, 1)
	go func() { done <- syscall.Flock(int(f.Fd()), syscall.LOCK_SH) }()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		return fmt.Errorf("%s still locked after %v", path, timeout)
	}
}

// checkLines checks that a log holds lines 0..n-1 of the writer, once each and
// in order; stamped lines lose their 20-byte stamp first.
func checkLines(path string, n int, stamped bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	i := 0
	for sc.Scan() {
		l := sc.Bytes()
		if stamped {
			if len(l) < 20 || l[4] != '-' || l[19] != ' ' {
				return fmt.Errorf("line %d has no stamp: %q", i, l)
			}
			l = l[20:]
		}
		sp := bytes.IndexByte(l, ' ')
		if len(l) != 99 || sp < 0 || string(l[:sp]) != strconv.Itoa(i) {
			return fmt.Errorf("line %d is %q", i, l)
		}
		i++
	}
	if i != n {
		return fmt.Errorf("%d lines, want %d", i, n)
	}
	return sc.Err()
}

// benchMem: resident memory of 20 supervisors of quiet programs, and their
// CPU over an idle window.
func benchMem(e *env) ([]row, error) {
	if _, err := e.run("tpm-start", "--port", "none", "--instances", "20", "--name", "quiet", "sleep", "3600"); err != nil {
		return nil, err
	}
	var sups []int
	for i := range 20 {
		m, err := os.ReadFile(filepath.Join(e.tetra, "tpm", "processes", "quiet-"+strconv.Itoa(i)+".meta"))
		if err != nil {
			return nil, err
		}
		for _, f := range strings.Fields(string(m)) {
			if v, ok := strings.CutPrefix(f, "sup_pid="); ok {
				p, _ := strconv.Atoi(v)
				sups = append(sups, p)
			}
		}
	}
	// Let each pass its first second (launching → online) before measuring.
	time.Sleep(1500 * time.Millisecond)
	var rss, pss []int64
	var ticks0, ns0 int64
	for _, p := range sups {
		rss = append(rss, statusKB(p, "VmRSS:"))
		pss = append(pss, rollupKB(p, "Pss:"))
		ticks0 += cpuTicks(p)
		ns0 += cpuNanos(p)
	}
	time.Sleep(*idle)
	var ticks1, ns1 int64
	for _, p := range sups {
		ticks1 += cpuTicks(p)
		ns1 += cpuNanos(p)
	}
	for i := range rss {
		e.tpmSupRSS += rss[i]
		e.tpmSupPSS += pss[i]
	}
	slices.Sort(rss)
	slices.Sort(pss)
	maxRSS := rss[len(rss)-1]
	return []row{
		{measure: "supervisor resident memory, quiet program (20 supervisors)", tpm: fmt.Sprintf("RSS median %.1f MiB, max %.1f MiB; PSS median %.1f MiB",
			float64(rss[len(rss)/2])/1024, float64(maxRSS)/1024, float64(pss[len(pss)/2])/1024),
			target: "< 4 MiB", ok: verdict(maxRSS < 4096)},
		{measure: fmt.Sprintf("supervisor CPU over %v idle (20 supervisors)", *idle),
			tpm:    fmt.Sprintf("%d clock ticks in all; %.0f µs on CPU in all (schedstat)", ticks1-ticks0, float64(ns1-ns0)/1000),
			target: "0 (no polling)", ok: verdict(ns1-ns0 < int64(len(sups))*int64(time.Millisecond))},
	}, nil
}

func statusKB(pid int, key string) int64 {
	return fieldKB("/proc/"+strconv.Itoa(pid)+"/status", key)
}

func rollupKB(pid int, key string) int64 {
	return fieldKB("/proc/"+strconv.Itoa(pid)+"/smaps_rollup", key)
}

func fieldKB(path, key string) int64 {
	data, _ := os.ReadFile(path)
	for _, l := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(l, key); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}

// cpuNanos is the time a process has spent on a CPU, in nanoseconds
// (/proc/PID/schedstat), finer than clock ticks.
func cpuNanos(pid int) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/schedstat")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.ParseInt(f[0], 10, 64)
	return n
}

// cpuTicks is utime+stime of a process.
func cpuTicks(pid int) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	r := bytes.LastIndexByte(data, ')')
	f := strings.Fields(string(data[r+1:]))
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s
}

// pm2Bin returns PM2's command, installed with npm into bench/.pm2 (which
// git ignores) when it is not there yet.
func pm2Bin(e *env) (string, error) {
	prefix := filepath.Join(e.root, "bench", ".pm2")
	pm2 := filepath.Join(prefix, "node_modules", ".bin", "pm2")
	if !fileExists(pm2) {
		fmt.Fprintln(os.Stderr, "bench: installing pm2@7 into", prefix)
		inst := exec.Command("npm", "install", "--prefix", prefix, "pm2@7", "--no-audit", "--no-fund", "--silent")
		inst.Stdout, inst.Stderr = os.Stderr, os.Stderr
		if err := inst.Run(); err != nil {
			return "", fmt.Errorf("npm install pm2: %w", err)
		}
	}
	return pm2, nil
}

// benchPM2 measures PM2 7 on the same machine, in the same run: start, list,
// stop, log throughput and the daemon's memory. PM2 is installed with npm
// into bench/.pm2 (which git ignores) and runs with a PM2_HOME of its own,
// killed at the end.
func benchPM2(e *env) ([]row, error) {
	pm2, err := pm2Bin(e)
	if err != nil {
		return nil, err
	}
	home := filepath.Join(e.dir, "pm2home")
	vars := append(slices.Clone(e.vars), "PM2_HOME="+home)
	run := func(args ...string) (time.Duration, error) {
		c := exec.Command(pm2, args...)
		c.Env = vars
		t0 := time.Now()
		out, err := c.CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("pm2 %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return time.Since(t0), nil
	}
	defer run("kill")
	if _, err := run("ping"); err != nil { // the daemon starts here, untimed
		return nil, err
	}
	var start, stop []time.Duration
	n := min(*runs, 20)
	for i := range n {
		d, err := run("start", "/usr/bin/sleep", "--name", "p"+strconv.Itoa(i), "--interpreter", "none", "--", "3600")
		if err != nil {
			return nil, err
		}
		start = append(start, d)
	}
	var ls []time.Duration
	for range n {
		d, err := run("ls")
		if err != nil {
			return nil, err
		}
		ls = append(ls, d)
	}
	var daemonRSS int64
	if b, err := os.ReadFile(filepath.Join(home, "pm2.pid")); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			daemonRSS = statusKB(pid, "VmRSS:")
		}
	}
	for i := range n {
		d, err := run("stop", "p"+strconv.Itoa(i))
		if err != nil {
			return nil, err
		}
		stop = append(stop, d)
	}
	if _, err := run("delete", "all"); err != nil {
		return nil, err
	}
	// Logging: the same writer, until its log holds every line.
	writer := filepath.Join(e.bin, "writer")
	logPath := filepath.Join(home, "logs", "w-out.log")
	t0 := time.Now()
	if _, err := run("start", writer, "--name", "w", "--interpreter", "none", "--no-autorestart", "--", strconv.Itoa(*lines)); err != nil {
		return nil, err
	}
	// Done when the log holds every byte, or when it has stopped growing
	// for 3 s: PM2 sometimes loses the end of an app's output when the app
	// exits (pm2.log then says ERR_STREAM_DESTROYED), and that is a result.
	want := int64(*lines) * 100
	var size int64
	last := time.Now()
	for {
		fi, err := os.Stat(logPath)
		if err == nil && fi.Size() != size {
			size, last = fi.Size(), time.Now()
		}
		if size >= want || time.Since(last) > 3*time.Second || time.Since(t0) > 5*time.Minute {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	pmLog := last.Sub(t0)
	var logErr error
	if size < want {
		daemonLog, _ := os.ReadFile(filepath.Join(home, "pm2.log"))
		why := ""
		for _, l := range strings.Split(string(daemonLog), "\n") {
			if strings.Contains(l, "PM2 error") {
				why = strings.TrimSpace(l[strings.Index(l, "PM2 error"):])
			}
		}
		logErr = fmt.Errorf("PM2 lost %d lines (%d bytes) of %d; pm2.log: %s", (want-size+99)/100, want-size, *lines, why)
	} else {
		logErr = checkLines(logPath, *lines, false)
	}

	faster := func(pm, tp time.Duration) string {
		if tp == 0 {
			return "-"
		}
		return fmt.Sprintf("tpm %.0fx faster", float64(pm)/float64(tp))
	}
	ms1, ml, mst := median(start), median(ls), median(stop)
	rows := []row{
		{measure: "PM2 7: start 1 program (daemon running)", tpm: ms(e.tpmStart), baseline: ms(ms1) + " (`pm2 start`)",
			ratio: faster(ms1, e.tpmStart), target: "tpm ≥ 20x faster", ok: verdict(e.tpmStart > 0 && ms1 >= 20*e.tpmStart)},
		{measure: fmt.Sprintf("PM2 7: list %d processes", n), tpm: ms(e.tpmLs20) + " (tpm-ls, 20)", baseline: ms(ml) + " (`pm2 ls`)", ratio: faster(ml, e.tpmLs20)},
		{measure: "PM2 7: stop a program", tpm: ms(e.tpmStop), baseline: ms(mst) + " (`pm2 stop`)", ratio: faster(mst, e.tpmStop)},
		{measure: fmt.Sprintf("PM2 7: memory with %d quiet programs", n),
			tpm:      fmt.Sprintf("%.1f MiB PSS (%.1f MiB RSS, which counts the shared binary 20 times), 20 supervisors", float64(e.tpmSupPSS)/1024, float64(e.tpmSupRSS)/1024),
			baseline: fmt.Sprintf("%.1f MiB (the PM2 daemon, RSS)", float64(daemonRSS)/1024)},
	}
	lr := row{measure: fmt.Sprintf("PM2 7: log %d lines, from the command's start", *lines), tpm: ms(e.tpmLog) + " (every line)", baseline: ms(pmLog) + " (PM2, no time stamps)", ratio: faster(pmLog, e.tpmLog)}
	if logErr != nil {
		lr.baseline += fmt.Sprintf("; **%v**", logErr)
		lr.ratio = "-"
	}
	return append(rows, lr), nil
}
