// Tpm-stop stops tpm's processes and their whole process groups.
//
// Usage:
//
//	tpm-stop [--timeout D] [--signal SIG] NAME|PATTERN...
//	tpm-stop --all | --port PORT
//
// It prints "NAME stopped" (or "NAME not running") for each. See
// tpm-stop --help and the README.
package main

import (
	"os"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/cmd/stopcmd"
)

func main() { os.Exit(stopcmd.Main(cli.Std("tpm-stop"))) }
