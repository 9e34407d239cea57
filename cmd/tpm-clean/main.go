// Tpm-clean tidies tpm's state tree (the safe default for cron), deletes the
// files of named processes, and maintains the logs of processes whose
// supervisor is gone.
//
// Usage:
//
//	tpm-clean [-n] [-v] [--logs [--max-size SIZE] [--keep N] [--older-than D]]
//	tpm-clean [-n] [-v] [--stop] NAME|PATTERN...
//
// See tpm-clean --help and the README.
package main

import (
	"os"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/cmd/cleancmd"
)

func main() { os.Exit(cleancmd.Main(cli.Std("tpm-clean"))) }
