package tpm_test

import (
	"os"
	"os/exec"

	"github.com/rogpeppe/go-internal/testscript"
)

func init() {
	scriptCmds["ciwants"] = cmdCiwants
}

// cmdCiwants: ciwants PROGRAM...
// fails the script when CI=true and a PROGRAM is not on PATH. Elsewhere it
// does nothing: the script follows it with [!exec:PROGRAM] skip, so that a
// developer without zsh runs the rest, while CI never skips the zsh half of
// a test in silence.
func cmdCiwants(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: ciwants PROGRAM...")
	}
	if os.Getenv("CI") != "true" {
		return
	}
	for _, p := range args {
		if _, err := exec.LookPath(p); err != nil {
			ts.Fatalf("CI=true and %s is not installed: the CI machine must have it", p)
		}
	}
}
