// Script commands and binaries for tpm-startup and tpm-export
// (testdata/scripts/startup_*.txtar, export_*.txtar): checking a unit with
// systemd's own parser, reading a Nomad job back through Nomad's api types,
// and finding a binary's path.
package tpm_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/nomad/api"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/cmd/exportcmd"
	"github.com/tetra-toolkit/tpm/lib/cmd/startupcmd"
)

func init() {
	commands["tpm-startup"] = func() { os.Exit(startupcmd.Main(cli.Std("tpm-startup"))) }
	commands["tpm-export"] = func() { os.Exit(exportcmd.Main(cli.Std("tpm-export"))) }
	scriptCmds["sdverify"] = cmdSdverify
	scriptCmds["nomadjob"] = cmdNomadjob
	scriptCmds["lookpath"] = cmdLookpath
}

// sdverify [-user] FILE... checks unit files with systemd-analyze verify:
// it must exit 0 and say nothing (it reports an unknown or malformed
// setting on stderr and still exits 0). Where systemd-analyze is not
// installed the check is skipped with a message in the log, unless CI=true:
// CI installs it (Debian's systemd package), and a check that silently
// never runs is no check.
func cmdSdverify(ts *testscript.TestScript, neg bool, args []string) {
	user := len(args) > 0 && args[0] == "-user"
	if user {
		args = args[1:]
	}
	if neg || len(args) == 0 {
		ts.Fatalf("usage: sdverify [-user] FILE...")
	}
	bin, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") == "true" {
			ts.Fatalf("systemd-analyze is not installed, and CI=true: install the systemd package")
		}
		ts.Logf("systemd-analyze is not installed: %s not verified", strings.Join(args, " "))
		return
	}
	cmdArgs := []string{"verify"}
	env := []string{"PATH=" + ts.Getenv("PATH"), "HOME=" + ts.Getenv("HOME"), "SYSTEMD_LOG_COLOR=0"}
	if user {
		// The user manager's paths need a runtime folder, which a test
		// has no session for.
		run := ts.MkAbs(".sdrun")
		ts.Check(os.MkdirAll(run, 0o700))
		cmdArgs = append(cmdArgs, "--user")
		env = append(env, "XDG_RUNTIME_DIR="+run)
	}
	for _, a := range args {
		cmdArgs = append(cmdArgs, ts.MkAbs(a))
	}
	cmd := exec.Command(bin, cmdArgs...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if err != nil || out.Len() > 0 {
		ts.Fatalf("systemd-analyze %s: %v\n%s", strings.Join(cmdArgs, " "), err, out.String())
	}
}

// nomadjob FILE [ENV...] decodes a Nomad job written as {"Job": {...}} into
// Nomad's own api types, refusing a field they do not have, and prints what
// the scripts check: the job, each group's count, network and policies, its
// task's driver, command, arguments, stop settings, and the variables ENV
// of its environment (all of them when none is named).
func cmdNomadjob(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: nomadjob FILE [ENV...]")
	}
	dec := json.NewDecoder(strings.NewReader(ts.ReadFile(args[0])))
	dec.DisallowUnknownFields()
	var w struct{ Job *api.Job }
	ts.Check(dec.Decode(&w))
	j := w.Job
	if j == nil {
		ts.Fatalf("%s: no Job", args[0])
	}
	out := ts.Stdout()
	fmt.Fprintf(out, "job %s type=%s datacenters=%s meta=%v\n", str(j.ID), str(j.Type), strings.Join(j.Datacenters, ","), j.Meta)
	for _, g := range j.TaskGroups {
		fmt.Fprintf(out, "group %s count=%d\n", str(g.Name), *g.Count)
		for _, n := range g.Networks {
			for _, p := range n.ReservedPorts {
				fmt.Fprintf(out, "  static port %s=%d\n", p.Label, p.Value)
			}
			for _, p := range n.DynamicPorts {
				fmt.Fprintf(out, "  dynamic port %s\n", p.Label)
			}
		}
		if r := g.RestartPolicy; r != nil {
			fmt.Fprintf(out, "  restart attempts=%d interval=%v delay=%v mode=%s\n", *r.Attempts, *r.Interval, *r.Delay, *r.Mode)
		}
		if r := g.ReschedulePolicy; r != nil {
			if r.Unlimited != nil && *r.Unlimited {
				fmt.Fprintf(out, "  reschedule unlimited delay=%v function=%s max=%v\n", *r.Delay, *r.DelayFunction, *r.MaxDelay)
			} else {
				fmt.Fprintf(out, "  reschedule attempts=%d\n", *r.Attempts)
			}
		}
		for _, t := range g.Tasks {
			fmt.Fprintf(out, "  task %s driver=%s kill_signal=%s kill_timeout=%v\n", t.Name, t.Driver, t.KillSignal, *t.KillTimeout)
			fmt.Fprintf(out, "    command %v\n", t.Config["command"])
			if as, ok := t.Config["args"].([]any); ok {
				for _, a := range as {
					fmt.Fprintf(out, "    arg %v\n", a)
				}
			}
			keys := args[1:]
			if len(keys) == 0 {
				for k := range t.Env {
					keys = append(keys, k)
				}
				slices.Sort(keys)
			}
			for _, k := range keys {
				if v, ok := t.Env[k]; ok {
					fmt.Fprintf(out, "    env %s=%s\n", k, v)
				} else {
					fmt.Fprintf(out, "    env %s unset\n", k)
				}
			}
		}
	}
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// lookpath VAR NAME sets VAR to the absolute path of the program NAME on
// the script's PATH.
func cmdLookpath(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: lookpath VAR NAME")
	}
	for _, d := range filepath.SplitList(ts.Getenv("PATH")) {
		p := filepath.Join(d, args[1])
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			abs, err := filepath.Abs(p)
			ts.Check(err)
			ts.Setenv(args[0], abs)
			return
		}
	}
	ts.Fatalf("%s is not on PATH", args[1])
}
