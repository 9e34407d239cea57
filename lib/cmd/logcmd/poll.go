package logcmd

import "time"

// pollEvery wakes its reader every 250 ms: the fallback where the kernel
// cannot tell us about changes.
func pollEvery(string) <-chan struct{} {
	ch := make(chan struct{}, 1)
	go func() {
		for range time.Tick(250 * time.Millisecond) {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	return ch
}
