//go:build !linux

package logcmd

// watch polls where inotify is not available (macOS): a wake-up every 250 ms,
// as tail -f does without kernel help.
func watch(dir string) (<-chan struct{}, error) { return pollEvery(dir), nil }
