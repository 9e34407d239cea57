package supervise

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// ignoredSignals reads which signals are ignored from SigIgn in
// /proc/self/status.
func ignoredSignals() []syscall.Signal {
	ign, _ := statusMask("SigIgn")
	var out []syscall.Signal
	for _, sig := range catchable(64) {
		if ign&(1<<(uint(sig)-1)) != 0 {
			out = append(out, sig)
		}
	}
	return out
}

// statusMask reads a signal mask line of /proc/self/status.
func statusMask(key string) (uint64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	i := bytes.Index(b, []byte("\n"+key+":"))
	if i < 0 {
		return 0, false
	}
	line := b[i+len(key)+2:]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	n, err := strconv.ParseUint(string(bytes.TrimSpace(line)), 16, 64)
	return n, err == nil
}

// reexecEnv marks a supervisor that executed itself again, so that a mask
// that cannot be cleared does not loop.
const reexecEnv = "TPM_SUPERVISE_UNMASKED"

// unblockSignals makes sure the supervisor runs with an empty signal mask,
// which its programs then inherit. The runtime gives forked children the
// mask the process started with, so a supervisor started with a non-empty
// one clears it on this thread and executes itself again: same PID, same
// descriptors, same arguments.
func unblockSignals() {
	if os.Getenv(reexecEnv) != "" {
		os.Unsetenv(reexecEnv)
		return
	}
	if blk, ok := statusMask("SigBlk"); !ok || blk == 0 {
		return
	}
	runtime.LockOSThread()
	var none unix.Sigset_t
	if unix.PthreadSigmask(unix.SIG_SETMASK, &none, nil) != nil {
		return
	}
	os.Setenv(reexecEnv, "1")
	syscall.Exec("/proc/self/exe", os.Args, os.Environ())
	// The exec failed: go on with the mask we have.
	os.Unsetenv(reexecEnv)
	runtime.UnlockOSThread()
}
