// Tpm-start starts programs under tpm's supervision: a script or command, the
// apps of a PM2 ecosystem file, or known processes again from their records.
//
// Usage:
//
//	tpm-start [flags] SCRIPT [ARGS...]
//	tpm-start [flags] CONFIG
//	tpm-start [flags] NAME...
//	tpm-start --stale
//
// It prints "NAME pid=PID port=PORT" for each process started. See
// tpm-start --help and the README.
package main

import (
	"os"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/cmd/startcmd"
)

func main() { os.Exit(startcmd.Main(cli.Std("tpm-start"))) }
