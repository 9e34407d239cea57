//go:build !linux

package serve

import "context"

// watchDir polls where inotify is not available (macOS).
func watchDir(ctx context.Context, dir string) <-chan struct{} { return pollDir(ctx) }
