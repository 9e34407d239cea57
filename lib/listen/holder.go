package listen

import "github.com/tetra-toolkit/tpm/lib/proc"

// Holder finds the process that listens on TCP port p (see
// proc.ListenHolder); 0 when it cannot tell.
func Holder(p int) (pid int, comm string) { return proc.ListenHolder(p) }
