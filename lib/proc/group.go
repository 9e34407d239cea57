package proc

import "errors"

// A GroupMeter sums the resident memory of one program's process group, as
// tpm-ls does (GroupUsage: every live member of the group the program
// leads; the program alone when it leads none), for a supervisor that
// checks it every few seconds. Reading every process of the system each
// time would cost a millisecond or more per check on a busy machine; the
// meter reads only the group: the members it knows, and their children, found
// from the leader down (Linux: /proc/PID/task/TID/children). A member
// whose parent ends stays known, by its PID and token, wherever it is
// reparented; one that was never seen before its parent ended (a daemon
// that forks twice) is found by a full scan of the processes, made at the
// first measure and then every FullScanEvery measures.
type GroupMeter struct {
	pgid    int
	members map[int]bool // the PIDs of the members seen last time
	since   int          // measures since the last full scan
	scratch
}

// scratch holds what a GroupMeter reuses from one measure to the next.
type scratch struct {
	buf       []byte // a file's content
	path, dir []byte
	dents     []byte // directory entries
	ids       []int
	queue     []int
	seen      map[int]bool
}

// FullScanEvery is how many measures a GroupMeter makes between two full
// scans of the system's processes.
const FullScanEvery = 30

// ErrNoMemory is returned where the system does not tell a process's
// memory without cgo (macOS).
var ErrNoMemory = errors.New("resident memory is not measured on this system")

// NewGroupMeter returns a meter of the group pgid leads.
func NewGroupMeter(pgid int) *GroupMeter {
	return &GroupMeter{pgid: pgid, members: map[int]bool{}, since: FullScanEvery}
}
