package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tetra-toolkit/tpm/lib/remote/sshdtest"
)

// benchHost: tpm-ls --host over three "hosts" (three sshd on 127.0.0.1,
// each with a tree of 20 records of its own), against one `ssh h1 tpm-ls`
// in the same run, interleaved (goal: the hosts in parallel, about one
// ssh's time); against three `ssh hN tpm-ls` started at once by a shell
// (what tpm adds to ssh: nothing much); and, for contrast, the three one
// after another. Every ssh is a whole connection (no ControlMaster), as
// tpm makes them. The three "hosts" share this machine's CPUs, which real
// hosts do not: on a small machine the first ratio shows its CPUs, not tpm.
func benchHost(e *env) ([]row, error) {
	hosts := []string{"h1", "h2", "h3"}
	var hs []sshdtest.Host
	for _, h := range hosts {
		tetra := filepath.Join(e.dir, "host-"+h, "tetra")
		if err := hostTree(tetra, 20); err != nil {
			return nil, err
		}
		home := filepath.Join(e.dir, "host-"+h, "home")
		if err := os.MkdirAll(home, 0o700); err != nil {
			return nil, err
		}
		// A home of its own: the sessions' shell reads no rc file of the
		// machine's user (which may take longer than tpm-ls).
		hs = append(hs, sshdtest.Host{Name: h, Env: []string{"TETRA_DIR=" + tetra, "PATH=" + e.bin + ":" + os.Getenv("PATH"), "HOME=" + home}})
	}
	srv, err := sshdtest.Start(filepath.Join(e.dir, "ssh"), hs)
	if err != nil {
		return nil, fmt.Errorf("sshd: %w", err)
	}
	defer srv.Stop()
	vars := append(slices.Clone(e.vars), "TPM_SSH="+srv.SSH, "TPM_HOSTS=")
	// CPU time: the command's own and its children's (ssh), and the
	// servers' sessions, reaped by the listening sshd.
	serverCPU := func() time.Duration {
		var t int64
		for _, pid := range srv.Pids() {
			t += childTicks(pid)
		}
		return time.Duration(t) * 10 * time.Millisecond // USER_HZ
	}
	timeCmd := func(name string, args ...string) (wall, cpu time.Duration, err error) {
		c := exec.Command(name, args...)
		c.Env, c.Dir = vars, e.dir
		s0 := serverCPU()
		t0 := time.Now()
		out, err := c.CombinedOutput()
		wall = time.Since(t0)
		if err != nil {
			return wall, 0, fmt.Errorf("%s: %v: %s", name, err, out)
		}
		ru := c.ProcessState.SysUsage().(*syscall.Rusage)
		cpu = time.Duration(ru.Utime.Nano()+ru.Stime.Nano()) + serverCPU() - s0
		return wall, cpu, nil
	}
	var many, one, shell, serial, cpu []time.Duration
	for range *runs {
		d, c, err := timeCmd(filepath.Join(e.bin, "tpm-ls"), "--host", "h1,h2,h3")
		if err != nil {
			return nil, err
		}
		many, cpu = append(many, d), append(cpu, c)
		if d, _, err = timeCmd("ssh", "-F", srv.Config, "h1", "tpm-ls"); err != nil {
			return nil, err
		}
		one = append(one, d)
		if d, _, err = timeCmd("sh", "-c", "for h in h1 h2 h3; do ssh -F '"+srv.Config+"' $h tpm-ls >/dev/null & done; wait"); err != nil {
			return nil, err
		}
		shell = append(shell, d)
		if d, _, err = timeCmd("sh", "-c", "for h in h1 h2 h3; do ssh -F '"+srv.Config+"' $h tpm-ls || exit; done"); err != nil {
			return nil, err
		}
		serial = append(serial, d)
	}
	mm, mo, msh, ms3, mc := median(many), median(one), median(shell), median(serial), median(cpu)
	// The three "hosts" share this machine's CPUs (and their sessions'
	// CPU time is given to show it): against one ssh, the ratio tells how
	// parallel the machine can be; against three ssh started at once by a
	// shell, what tpm adds to that.
	return []row{
		{measure: fmt.Sprintf("tpm-ls --host, 3 hosts over ssh, 20 processes each (%s CPU on %d CPUs)", ms(mc), numCPU()), tpm: ms(mm),
			baseline: ms(mo) + " (`ssh h1 tpm-ls`)", ratio: ratio(mm, mo), target: "parallel: about 1x"},
		{measure: "the same 3 hosts, three ssh at once from a shell (`ssh hN tpm-ls &` x3; wait)", tpm: ms(mm), baseline: ms(msh),
			ratio: ratio(mm, msh), target: "≤ 1.1x", ok: verdict(float64(mm) <= 1.1*float64(msh))},
		{measure: "the same 3 hosts one after another (`ssh hN tpm-ls` x3)", tpm: ms(mm), baseline: ms(ms3), ratio: ratio(mm, ms3)},
	}, nil
}

// childTicks is the CPU time, in clock ticks, of the reaped children of a
// process (cutime + cstime).
func childTicks(pid int) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	if len(f) < 15 {
		return 0
	}
	u, _ := strconv.ParseInt(f[13], 10, 64)
	s, _ := strconv.ParseInt(f[14], 10, 64)
	return u + s
}

// hostTree writes n records in a tree, as benchLs does: most stopped.
func hostTree(tetra string, n int) error {
	procs := filepath.Join(tetra, "tpm", "processes")
	if err := os.MkdirAll(procs, 0o700); err != nil {
		return err
	}
	for i := range n {
		line := fmt.Sprintf("script=/srv/app/app%d.js pid=%d port=%d start_time=1764000000 type=cli cwd=/srv/app "+
			"restart=on-failure state=stopped restarts=0 exit_code=0 exit_time=1764000100\n", i, 4000000+i, 10000+i)
		name := "app" + strconv.Itoa(i) + "-" + strconv.Itoa(10000+i)
		if err := os.WriteFile(filepath.Join(procs, name+".meta"), []byte(line), 0o600); err != nil {
			return err
		}
	}
	return nil
}
