package state

import "path/filepath"

// Events returns the path of NAME's lifecycle events file (lib/events),
// which lives and is rotated with its logs.
func (t *Tree) Events(name string) string { return filepath.Join(t.Root, LogsDir, name+".events") }
