// Tpm-export writes a systemd unit per process, or a Nomad job, from tpm's
// records or an ecosystem file.
//
// Usage:
//
//	tpm-export systemd [--user|--system] [--write DIR] NAME|PATTERN...|CONFIG
//	tpm-export nomad [--job ID] [--driver raw_exec|exec] [--dynamic-ports] [--write DIR] NAME|PATTERN...|CONFIG
//
// See tpm-export --help and the README.
package main

import (
	"os"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/cmd/exportcmd"
)

func main() { os.Exit(exportcmd.Main(cli.Std("tpm-export"))) }
