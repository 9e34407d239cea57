package proc

// Who tpm may signal (SPEC §12). This file is the only place that decides
// it; the supervisor and the stop library both go through it.
//
//   - A supervisor's own unreaped child, and that child's process group: the
//     child's PID (which is also the group's ID) cannot be reused while the
//     child is unreaped, so the group is provably the program's.
//   - A recorded program whose PID and start-time token both match the
//     record (SPEC §5): the process alone, or its group when it leads one.
//   - What is left of a recorded program's group after its leader ended:
//     only members that are in the session of the program's supervisor,
//     that started no earlier than the program, in the boot the record was
//     written in, and only when no process of another identity leads the
//     group. A record without a supervisor's session (one of the bash TPM)
//     has no leftovers tpm could prove its own.
//
// Nothing else, ever: not a PID of 1 or less (kill(-1) is every process),
// not a group whose leader is a stranger, not a record whose state says it
// ended (no /proc scan at all for those).

import (
	"errors"
	"strconv"
	"syscall"
	"time"
)

// A Claim is what a record, or a supervisor, knows of a program it may
// signal.
type Claim struct {
	// PID is the program's PID, which is also its group's ID when it leads
	// one.
	PID int
	// Token is the start-time token recorded for PID; "" for a record
	// without one, which falls back on Start.
	Token string
	// Start is the record's start_time (Unix seconds).
	Start int64
	// Session is the session its supervisor leads (the supervisor's PID),
	// 0 when unknown.
	Session int
	// Child is set by a supervisor for its own unreaped child.
	Child bool
}

// ErrNotOurs is returned for a claim that proves no process tpm may signal.
var ErrNotOurs = errors.New("not a process of ours")

// valid refuses PIDs that name no single process: 0 is the caller's own
// group and -1 (and kill(-1)) every process.
func valid(pid int) bool { return pid > 1 }

// SignalGroup sends sig to the claimed program: to its whole group when it
// leads one, else to it alone. It returns ErrNotOurs, and signals nothing,
// when the claim does not hold; a program that ended meanwhile is not an
// error.
func (c Claim) SignalGroup(sig syscall.Signal) error {
	if !valid(c.PID) {
		return ErrNotOurs
	}
	if c.Child {
		return ignoreGone(syscall.Kill(-c.PID, sig))
	}
	in, ok := Ours(c.PID, c.Token, c.Start)
	if !ok {
		return ErrNotOurs
	}
	if in.PGID == c.PID {
		return ignoreGone(syscall.Kill(-c.PID, sig))
	}
	_, err := Signal(c.PID, c.Token, c.Start, sig)
	return err
}

func ignoreGone(err error) error {
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// Leftovers returns the members of the claimed program's group that tpm may
// still signal after the program itself ended (see the rules above): a
// shell script's children, say. It reads every process, so callers first
// make sure the group is not empty, or that the record says the program
// should be running.
func (c Claim) Leftovers() []Info {
	if !valid(c.PID) || c.Session <= 1 {
		return nil
	}
	// An empty group, the common case, needs no look at every process. (A
	// probe with signal 0 delivers nothing.)
	if errors.Is(syscall.Kill(-c.PID, 0), syscall.ESRCH) {
		return nil
	}
	if !c.Child {
		// A token of another boot: the record is from before a reboot,
		// and nothing of it can be alive.
		if _, ok := tokenStart(c.Token); c.Token != "" && !ok {
			return nil
		}
		// A leader of another identity: the group is a stranger's.
		if leader, err := Stat(c.PID); err == nil && !leader.Zombie {
			if _, ok := Ours(c.PID, c.Token, c.Start); !ok {
				return nil
			}
		}
	}
	since := c.since()
	all, err := All()
	if err != nil {
		return nil
	}
	var out []Info
	for _, in := range all {
		if c.member(in, since) {
			out = append(out, in)
		}
	}
	return out
}

// member is the rule for one process found in the program's group.
func (c Claim) member(in Info, since time.Time) bool {
	return valid(in.PID) && in.PID != c.PID && in.PGID == c.PID && in.SID == c.Session &&
		!in.Zombie && !in.Started().Before(since)
}

// since is the earliest start a member may have: the program's own start
// (the token's, to the tick, when the record has one).
func (c Claim) since() time.Time {
	if in, ok := Ours(c.PID, c.Token, c.Start); ok {
		return in.Started()
	}
	if t, ok := tokenStart(c.Token); ok {
		return t
	}
	return time.Unix(c.Start, 0).Add(-legacyWindow)
}

// SignalMember sends sig to one process Leftovers returned, after checking
// again, under a handle that pins its PID, that it is the same process and
// still a member.
func (c Claim) SignalMember(in Info, sig syscall.Signal) error {
	if !valid(in.PID) {
		return ErrNotOurs
	}
	return signalPinned(in.PID, func() bool {
		now, err := Stat(in.PID)
		return err == nil && now.Token == in.Token && c.member(now, time.Time{})
	}, sig)
}

// ClearLeftovers stops what Leftovers finds: sig (unless 0: the group had
// it already) and CONT, up to grace for them to end, then KILL. It returns
// how many there were, and an error when some outlived the KILL.
func (c Claim) ClearLeftovers(sig syscall.Signal, grace time.Duration) (int, error) {
	found := -1
	for _, round := range []struct {
		sig  syscall.Signal
		wait time.Duration
	}{{sig, grace}, {syscall.SIGKILL, KillWait}} {
		ms := c.Leftovers()
		if found < 0 {
			found = len(ms)
		}
		if len(ms) == 0 {
			return found, nil
		}
		if round.sig != 0 {
			for _, in := range ms {
				c.SignalMember(in, round.sig)
				c.SignalMember(in, syscall.SIGCONT)
			}
		}
		PollUntil(time.Now().Add(round.wait), func() bool { return len(c.Leftovers()) == 0 })
	}
	if ms := c.Leftovers(); len(ms) > 0 {
		return found, errors.New(strconv.Itoa(len(ms)) + " processes of its group did not end after KILL")
	}
	return found, nil
}

// KillWait bounds the wait for processes to end after KILL.
const KillWait = 5 * time.Second
