// Tpm-meta prints and sets the fields of a tpm process's meta line.
//
// Usage:
//
//	tpm-meta NAME [KEY... | KEY=VALUE...]
//	tpm-meta --json NAME
//	tpm-meta --path NAME [meta|env|pid|out|err]
//	tpm-meta --check FILE...
//
// See tpm-meta --help and the README.
package main

import (
	"os"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/cmd/metacmd"
)

func main() { os.Exit(metacmd.Main(cli.Std("tpm-meta"))) }
