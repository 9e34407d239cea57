package serve

import (
	"context"
	"time"
)

// pollDir wakes its reader every 250 ms until ctx ends: the fallback where
// the kernel cannot tell about changes (as tpm-log -f's). It runs only while
// a client follows a log.
func pollDir(ctx context.Context) <-chan struct{} {
	ch := make(chan struct{}, 1)
	go func() {
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				select {
				case ch <- struct{}{}:
				default:
				}
			}
		}
	}()
	return ch
}
