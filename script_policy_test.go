package tpm_test

import (
	"os"
	"strconv"
	"time"

	"github.com/tetra-toolkit/tpm/lib/spec"
)

func init() {
	commands["memhog"] = memhog
}

// memhog STEP EVERY [MAX] allocates STEP bytes (a size: 8M) of memory it
// touches every EVERY, until it holds MAX (default 256M), then sleeps: a
// program whose memory grows, for the memory limit's tests.
func memhog() {
	if len(os.Args) < 3 {
		os.Stderr.WriteString("usage: memhog STEP EVERY [MAX]\n")
		os.Exit(2)
	}
	step, err1 := spec.ParseSize(os.Args[1])
	every, err2 := time.ParseDuration(os.Args[2])
	limit := int64(256 << 20)
	if len(os.Args) > 3 {
		limit, _ = spec.ParseSize(os.Args[3])
	}
	if err1 != nil || err2 != nil || step <= 0 {
		os.Stderr.WriteString("memhog: bad STEP or EVERY\n")
		os.Exit(2)
	}
	for total := int64(0); total+step <= limit; total += step {
		b := make([]byte, step)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1 // touched: resident, not only reserved
		}
		hogHeld = append(hogHeld, b)
		os.Stdout.WriteString("holding " + strconv.FormatInt(total+step, 10) + "\n")
		time.Sleep(every)
	}
	for {
		time.Sleep(time.Hour)
	}
}

// hogHeld keeps what memhog allocated reachable.
var hogHeld [][]byte
