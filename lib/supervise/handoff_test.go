package supervise

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// pair returns a connected pair of stream sockets, closed at the test's end.
func pair(t *testing.T) (ours, theirs int) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fds[0]); syscall.Close(fds[1]) })
	return fds[0], fds[1]
}

func TestReceive(t *testing.T) {
	ours, theirs := pair(t)
	lock, err := os.Create(filepath.Join(t.TempDir(), "x.lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Sendmsg(ours, Handoff("/tree with space", "api-3000", 5*time.Second, true), syscall.UnixRights(int(lock.Fd())), nil, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := syscall.Write(ours, []byte("script=/a/b pid=0 port=3000\n")); err != nil {
		t.Fatal(err)
	}
	syscall.Shutdown(ours, syscall.SHUT_WR)
	h, err := receive(theirs)
	if err != nil || h == nil {
		t.Fatalf("receive: %v, %v", h, err)
	}
	defer h.lock.Close()
	if h.tree != "/tree with space" || h.name != "api-3000" || h.hold != 5*time.Second || h.mode != modeAdopt || string(h.line) != "script=/a/b pid=0 port=3000\n" {
		t.Errorf("got %+v", h)
	}
	// The received descriptor is the same open file.
	var a, b syscall.Stat_t
	syscall.Fstat(int(lock.Fd()), &a)
	syscall.Fstat(int(h.lock.Fd()), &b)
	if a.Ino != b.Ino || a.Dev != b.Dev {
		t.Errorf("received fd is another file")
	}
}

func TestReceiveNothing(t *testing.T) {
	ours, theirs := pair(t)
	syscall.Shutdown(ours, syscall.SHUT_WR)
	if h, err := receive(theirs); h != nil || err != nil {
		t.Fatalf("an unused spare got %v, %v", h, err)
	}
}

func TestReceiveWithoutLock(t *testing.T) {
	ours, theirs := pair(t)
	syscall.Write(ours, append(Handoff("/t", "n", 0, false), "pid=0\n"...))
	syscall.Shutdown(ours, syscall.SHUT_WR)
	if h, err := receive(theirs); h != nil || err == nil {
		t.Fatalf("a handoff without its lock was taken: %v, %v", h, err)
	}
}
