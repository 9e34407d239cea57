package proc

import (
	"errors"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// Every test here sends signal 0, which delivers nothing: a rule that let
// PID 1 through must fail the test, never signal the machine.

func TestNoPIDOneOrBelow(t *testing.T) {
	for _, pid := range []int{-1, 0, 1} {
		for _, c := range []Claim{{PID: pid}, {PID: pid, Child: true}, {PID: pid, Token: "", Start: time.Now().Unix(), Session: 5}} {
			if err := c.SignalGroup(0); !errors.Is(err, ErrNotOurs) {
				t.Errorf("%+v: SignalGroup = %v, want ErrNotOurs", c, err)
			}
			if ms := c.Leftovers(); ms != nil {
				t.Errorf("%+v: leftovers %v", c, ms)
			}
		}
		if ok, _ := Signal(pid, "", time.Now().Unix(), 0); ok {
			t.Errorf("Signal(%d) went through", pid)
		}
		if err := (Claim{PID: 4242, Session: 4000}).SignalMember(Info{PID: pid, PGID: 4242, SID: 4000}, 0); !errors.Is(err, ErrNotOurs) {
			t.Errorf("SignalMember(pid %d) = %v", pid, err)
		}
		if _, ok := Ours(pid, "", time.Now().Unix()); ok {
			t.Errorf("Ours(%d) claims it", pid)
		}
	}
}

func TestMemberRule(t *testing.T) {
	c := Claim{PID: 4242, Session: 4000}
	since := Info{start: 1000}.Started()
	for _, tc := range []struct {
		name string
		in   Info
		want bool
	}{
		{"a child of the program", Info{PID: 4300, PGID: 4242, SID: 4000, start: 1001}, true},
		{"started with the program", Info{PID: 4301, PGID: 4242, SID: 4000, start: 1000}, true},
		{"the leader itself", Info{PID: 4242, PGID: 4242, SID: 4000, start: 1000}, false},
		{"another session", Info{PID: 4302, PGID: 4242, SID: 4302, start: 1001}, false},
		{"another group", Info{PID: 4303, PGID: 4303, SID: 4000, start: 1001}, false},
		{"started before the program", Info{PID: 4304, PGID: 4242, SID: 4000, start: 999}, false},
		{"a zombie", Info{PID: 4305, PGID: 4242, SID: 4000, start: 1001, Zombie: true}, false},
		{"PID 1", Info{PID: 1, PGID: 4242, SID: 4000, start: 1001}, false},
	} {
		if got := c.member(tc.in, since); got != tc.want {
			t.Errorf("%s: member = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A group whose leader is alive with another identity is a stranger's,
// even when the claim names its session: nothing of it is a leftover.
func TestLeftoversOfAStrangersGroup(t *testing.T) {
	cmd := exec.Command("sh", "-c", "sleep 60 & wait")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	defer func() {
		syscall.Kill(-pid, syscall.SIGKILL)
		cmd.Wait()
	}()
	leader, err := Stat(pid)
	if err != nil {
		t.Fatal(err)
	}
	if !PollUntil(time.Now().Add(10*time.Second), func() bool {
		return len(Claim{PID: pid, Token: leader.Token, Session: pid}.Leftovers()) == 1
	}) {
		t.Fatal("the sleep never showed as a member of a group whose leader matches the claim")
	}
	for _, c := range []Claim{
		{PID: pid, Token: "1@" + bootID(), Session: pid},    // another token of this boot
		{PID: pid, Token: leader.Token + "0", Session: pid}, // another start
		{PID: pid, Token: "1@00000000", Session: pid},       // another boot
		{PID: pid, Start: 1000000000, Session: pid},         // a legacy record of long ago
		{PID: pid, Token: leader.Token, Session: pid + 1},   // another session
		{PID: pid, Token: leader.Token},                     // no session known
	} {
		if ms := c.Leftovers(); len(ms) != 0 {
			t.Errorf("%+v: leftovers %v", c, ms)
		}
		if err := c.SignalGroup(0); c.Token != leader.Token && !errors.Is(err, ErrNotOurs) {
			t.Errorf("%+v: SignalGroup = %v, want ErrNotOurs", c, err)
		}
	}
}
