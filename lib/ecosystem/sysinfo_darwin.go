package ecosystem

import (
	"os"

	"golang.org/x/sys/unix"
)

// memory returns the machine's total and free memory in bytes, for
// os.totalmem() and os.freemem().
func memory() (total, free int64) {
	t, err := unix.SysctlUint64("hw.memsize")
	if err != nil {
		return 0, 0
	}
	pages, err := unix.SysctlUint32("vm.page_free_count")
	if err != nil {
		return int64(t), 0
	}
	return int64(t), int64(pages) * int64(os.Getpagesize())
}
