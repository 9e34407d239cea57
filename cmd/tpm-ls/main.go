// Tpm-ls lists tpm's processes with their status, PID, PORT, uptime,
// restarts, CPU and memory.
//
// Usage:
//
//	tpm-ls [-q] [--json] [--status S] [PATTERN...]
//
// See tpm-ls --help and the README.
package main

import (
	"os"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/cmd/lscmd"
)

func main() { os.Exit(lscmd.Main(cli.Std("tpm-ls"))) }
