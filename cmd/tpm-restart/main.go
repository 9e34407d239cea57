// Tpm-restart stops processes and starts them again from their records.
//
// Usage:
//
//	tpm-restart [--update-env] [--wait[=D]] [POLICY FLAGS] NAME|PATTERN... | --all
//
// It prints "NAME restarted pid=PID" for each. See tpm-restart --help and
// the README.
package main

import (
	"os"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/cmd/startcmd"
)

func main() { os.Exit(startcmd.RestartMain(cli.Std("tpm-restart"))) }
