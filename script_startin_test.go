package tpm_test

import (
	"os"
	"os/exec"

	"github.com/rogpeppe/go-internal/testscript"
)

func init() {
	scriptCmds["nodac"] = cmdNodac
}

// nodac CODE PROGRAM ARGS... runs the program as exits does, but without
// root's power to read, write and search every file: as root through setpriv
// with CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH dropped (a script that uses
// it as root skips unless [exec:setpriv]), as anyone else as it is. A test
// of what a plain user is refused then runs the same under root.
func cmdNodac(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: nodac CODE PROGRAM [ARGS...]")
	}
	prog, rest := args[1], args[2:]
	if os.Geteuid() == 0 {
		if _, err := exec.LookPath("setpriv"); err != nil {
			ts.Fatalf("nodac as root needs setpriv: guard the script with [root] [!exec:setpriv] skip")
		}
		rest = append([]string{"--bounding-set=-dac_override,-dac_read_search", prog}, rest...)
		prog = "setpriv"
	}
	want := atoi(ts, args[0])
	err := ts.Exec(prog, rest...)
	got := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}
