package state

import (
	"path/filepath"

	"github.com/tetra-toolkit/tpm/lib/logfile"
)

// Events returns the path of NAME's lifecycle events file (lib/events),
// which lives and is rotated with its logs.
func (t *Tree) Events(name string) string { return filepath.Join(t.Root, LogsDir, name+".events") }

// Files returns every file of NAME: its record, environment, pid file,
// logs and events with their rotated files, and its control FIFOs (not its
// run lock, which whoever removes the others holds). This is the one list
// tpm-clean NAME and a pruned ecosystem app remove.
func (t *Tree) Files(name string) []string {
	out := []string{t.Meta(name), t.Env(name), t.Pid(name)}
	for _, l := range []string{t.Out(name), t.Err(name), t.Events(name)} {
		out = append(out, logfile.Series(l)...)
	}
	return append(out, t.CtlFiles(name)...)
}
