// Tpm-reload replaces running programs with no moment when nothing answers
// on their PORT.
//
// Usage:
//
//	tpm-reload [--timeout D] NAME|PATTERN...
//
// It prints "NAME reloaded pid=PID" for each. See tpm-reload --help and the
// README.
package main

import (
	"os"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/cmd/startcmd"
)

func main() { os.Exit(startcmd.ReloadMain(cli.Std("tpm-reload"))) }
