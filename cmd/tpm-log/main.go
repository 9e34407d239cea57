// Tpm-log prints and follows the logs of tpm's processes.
//
// Usage:
//
//	tpm-log [-n N] [-f] [--out|--err] [--since D|TIME] [--no-prefix] NAME|PATTERN... | --all
//
// See tpm-log --help and the README.
package main

import (
	"os"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/cmd/logcmd"
)

func main() { os.Exit(logcmd.Main(cli.Std("tpm-log"))) }
