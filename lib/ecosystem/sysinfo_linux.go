package ecosystem

import "golang.org/x/sys/unix"

// memory returns the machine's total and free memory in bytes, for
// os.totalmem() and os.freemem().
func memory() (total, free int64) {
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil {
		return 0, 0
	}
	unit := int64(si.Unit)
	if unit == 0 {
		unit = 1
	}
	return int64(si.Totalram) * unit, int64(si.Freeram) * unit
}
