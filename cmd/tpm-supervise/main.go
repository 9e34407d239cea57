// Tpm-supervise is the supervisor tpm-start leaves behind for each program:
// it keeps the program alive by its restart policy, writes its logs, and
// stops it on request. It is started by tpm-start only.
//
// Usage (by tpm-start):
//
//	tpm-supervise PLACEHOLDER (which becomes TREE NAME once it knows them)
//
// It links no flag parser and no JavaScript engine, so that each supervisor
// stays a few MiB of memory.
package main

import (
	"os"

	"github.com/tetra-toolkit/tpm/lib/supervise"
)

func main() { os.Exit(supervise.Main()) }
