package state

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A wait that timed out leaves nothing behind that takes the lock later: it
// once left a goroutine blocked in flock, which took a shared lock when the
// holder let go, and so kept every tpm-start of the name out.
func TestWaitUnlockedLeavesNothingBehind(t *testing.T) {
	tr := &Tree{Root: t.TempDir()}
	if err := os.MkdirAll(filepath.Join(tr.Root, RunDir), 0o700); err != nil {
		t.Fatal(err)
	}
	held, err := tr.TryLock("api")
	if err != nil {
		t.Fatal(err)
	}
	if tr.WaitUnlocked("api", 50*time.Millisecond) {
		t.Fatal("WaitUnlocked reported a held lock free")
	}
	held.Close()
	// Give a stray waiter every chance to take the lock first.
	time.Sleep(50 * time.Millisecond)
	f, err := tr.TryLock("api")
	if errors.Is(err, ErrLocked) {
		t.Fatal("the lock is held after the timed-out wait and its holder let go")
	}
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if !tr.WaitUnlocked("api", time.Second) {
		t.Fatal("WaitUnlocked on a free lock")
	}
}
