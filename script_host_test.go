// The host scripts (testdata/scripts/host_*.txtar): real OpenSSH servers on
// 127.0.0.1, one per "host", each with a TETRA_DIR of its own, reached by
// tpm's --host through the system's ssh.
package tpm_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/tetra-toolkit/tpm/lib/remote/sshdtest"
)

func init() {
	scriptCmds["needsshd"] = cmdNeedSSHD
	scriptCmds["sshd"] = cmdSSHD
	scriptCmds["hostprocs"] = cmdHostprocs
}

// needsshd fails the script when CI=true, and otherwise says why it is
// about to be skipped: a script begins with
//
//	[!exec:sshd] needsshd
//	[!exec:sshd] skip 'no sshd'
//
// so that a CI machine without OpenSSH fails rather than passing quietly.
func cmdNeedSSHD(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: needsshd")
	}
	_, _, _, err := sshdtest.Find()
	if err == nil {
		err = errorString("sshd is not on PATH (add /usr/sbin)")
	}
	if os.Getenv("CI") == "true" {
		ts.Fatalf("CI=true and %v", err)
	}
	ts.Logf("skipped: %v", err)
}

type errorString string

func (e errorString) Error() string { return string(e) }

// sshd HOST... starts one OpenSSH server per HOST on 127.0.0.1, whose
// sessions run with TETRA_DIR=$WORK/HOST/tetra, HOME=$WORK/HOST/home and the
// script's PATH (a
// HOST named bare* gets PATH=/usr/bin:/bin: tpm is not installed there),
// and sets TPM_SSH to reach them by name (and the host "down", which does
// not answer). sshd stop ends them, and fails if a process of theirs or of
// their trees is still running; the end of the script ends them too.
func cmdSSHD(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: sshd HOST... | sshd stop")
	}
	work := ts.Getenv("WORK")
	if args[0] == "stop" {
		v, ok := servers.LoadAndDelete(work)
		if !ok {
			ts.Fatalf("sshd stop: no servers")
		}
		if left := v.(*sshdtest.Servers).Stop(); len(left) > 0 {
			ts.Fatalf("processes left running on the hosts (killed): %s", strings.Join(left, "; "))
		}
		return
	}
	var hosts []sshdtest.Host
	for _, name := range args {
		tetra := filepath.Join(work, name, "tetra")
		path := ts.Getenv("PATH")
		if strings.HasPrefix(name, "bare") {
			path = "/usr/bin:/bin"
		}
		// A home of its own: the sessions' shell reads no rc file of
		// the machine's user.
		home := filepath.Join(work, name, "home")
		ts.Check(os.MkdirAll(home, 0o700))
		hosts = append(hosts, sshdtest.Host{Name: name, Env: []string{"TETRA_DIR=" + tetra, "PATH=" + path, "HOME=" + home}})
	}
	s, err := sshdtest.Start(filepath.Join(work, "ssh"), hosts)
	ts.Check(err)
	servers.Store(work, s)
	ts.Defer(func() {
		if _, ok := servers.LoadAndDelete(work); ok {
			s.Stop()
		}
	})
	ts.Setenv("TPM_SSH", s.SSH)
}

// servers are the running servers of each script, by $WORK (scripts run in
// parallel).
var servers sync.Map

// hostprocs [-wait] N REGEXP checks that exactly N live processes run with
// one of the hosts' TETRA_DIR and a command line that matches REGEXP (with
// -wait: polls until they do, or a deadline passes).
func cmdHostprocs(ts *testscript.TestScript, neg bool, args []string) {
	wait := len(args) > 0 && args[0] == "-wait"
	if wait {
		args = args[1:]
	}
	if neg || len(args) != 2 {
		ts.Fatalf("usage: hostprocs [-wait] N REGEXP")
	}
	v, ok := servers.Load(ts.Getenv("WORK"))
	if !ok {
		ts.Fatalf("hostprocs: no servers (sshd HOST... first)")
	}
	s := v.(*sshdtest.Servers)
	want := atoi(ts, args[0])
	re := regexp.MustCompile(args[1])
	deadline := time.Now()
	if wait {
		deadline = deadline.Add(defaultWait)
	}
	for {
		found := s.Marked(re.MatchString)
		if len(found) == want {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%d processes on the hosts match %q, want %d: %s", len(found), args[1], want, strings.Join(found, "; "))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
