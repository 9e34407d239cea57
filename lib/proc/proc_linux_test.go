package proc

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// A command name may hold spaces and ')': fields count from the last ')'.
	line := "4242 (a) b) (c) S 1 4242 4242 0 -1 4194560 100 0 0 0 7 3 2 1 20 0 1 0 123456 1000 25 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0"
	in, err := parseStat(4242, []byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if in.PPID != 1 || in.PGID != 4242 || in.SID != 4242 {
		t.Errorf("ppid/pgid/sid = %d/%d/%d", in.PPID, in.PGID, in.SID)
	}
	if !strings.HasPrefix(in.Token, "123456@") {
		t.Errorf("token %q does not start with the start ticks", in.Token)
	}
	if in.CPU != 130*time.Millisecond {
		t.Errorf("cpu = %v, want 130ms (7+3+2+1 ticks)", in.CPU)
	}
	if in.RSS != 25*pageSize {
		t.Errorf("rss = %d", in.RSS)
	}
	zombie := strings.Replace(line, ") S ", ") Z ", 1)
	if in, _ := parseStat(4242, []byte(zombie)); !in.Zombie {
		t.Error("state Z is not a zombie")
	}
	if _, err := parseStat(1, []byte("1 (x S 1")); err == nil {
		t.Error("truncated stat parsed")
	}
}

func TestOurs(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	pid := cmd.Process.Pid
	in, err := Stat(pid)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := Ours(pid, in.Token, 0); !ok {
		t.Error("a process is not ours under its own token")
	}
	if _, ok := Ours(pid, "1@00000000", 0); ok {
		t.Error("a wrong token matched: a stranger would be signalled")
	}
	if _, ok := Ours(pid, "", time.Now().Unix()); !ok {
		t.Error("a legacy record started now does not match a process started now")
	}
	if _, ok := Ours(pid, "", time.Now().Add(-time.Hour).Unix()); ok {
		t.Error("a legacy record an hour old matched a process started now")
	}
	if sent, _ := Signal(pid, "1@00000000", 0, syscall.SIGKILL); sent {
		t.Error("Signal sent to a process whose token does not match")
	}
	if _, err := Stat(pid); err != nil {
		t.Fatal("the stranger died")
	}
	if sent, err := Signal(pid, in.Token, 0, syscall.SIGKILL); !sent || err != nil {
		t.Fatalf("Signal to our process: %v %v", sent, err)
	}
	if !WaitGone(pid, in.Token, 0, 5*time.Second) {
		t.Error("WaitGone did not see the exit")
	}
	cmd.Wait()
	if _, err := Stat(pid); err != ErrGone {
		t.Errorf("Stat of a reaped process = %v", err)
	}
}

func TestWaitGoneTimesOut(t *testing.T) {
	self, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if WaitGone(os.Getpid(), self.Token, 0, 50*time.Millisecond) {
		t.Error("the test process is gone?")
	}
	if time.Since(start) < 50*time.Millisecond {
		t.Error("returned before the timeout")
	}
}
