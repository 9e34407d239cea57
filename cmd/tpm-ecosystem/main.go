// Tpm-ecosystem reads a PM2 ecosystem file without Node.js and prints its
// apps, normalized and validated, as JSON. tpm-start runs it for ecosystem
// files; run it yourself to see what tpm makes of a config.
//
// Usage:
//
//	tpm-ecosystem [--env ENVNAME] [--only A,B] CONFIG
package main

import (
	"os"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/cmd/ecocmd"
)

func main() { os.Exit(ecocmd.Main(cli.Std("tpm-ecosystem"))) }
