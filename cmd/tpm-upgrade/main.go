// Tpm-upgrade moves running supervisors to the installed tpm-supervise
// binary, in place: same supervisor PIDs, programs untouched, no output
// lost.
//
// Usage:
//
//	tpm-upgrade [NAME|PATTERN...]
//
// It prints "NAME upgraded FROM -> TO" for each. See tpm-upgrade --help and
// the README.
package main

import (
	"os"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/cmd/upgradecmd"
)

func main() { os.Exit(upgradecmd.Main(cli.Std("tpm-upgrade"))) }
