package lscmd

import (
	"bytes"
	"io"
	"time"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/proc"
	"github.com/tetra-toolkit/tpm/lib/state"
)

// What tpm-serve shows is what tpm-ls shows: these give it tpm-ls's own
// measures and JSON, so that the API and the command cannot drift apart.

// Process is a record with what tpm-ls measures of it.
type Process struct {
	*state.Record
	Uptime time.Duration
	// Usage is the CPU time and resident memory of the program's group
	// (zero when it does not run).
	Usage proc.Usage
}

// Measure measures recs as tpm-ls does: uptime, and the CPU and memory of
// each live program's group. When the processes cannot be read, the error
// says so and the records come back unmeasured.
func Measure(recs []*state.Record) ([]Process, error) {
	now := time.Now()
	out := make([]Process, len(recs))
	alive := false
	for i, r := range recs {
		out[i] = Process{Record: r, Uptime: r.Uptime(now)}
		alive = alive || r.ProgAlive
	}
	if !alive {
		return out, nil
	}
	usage, err := proc.GroupUsage()
	for i := range out {
		out[i].Usage = usageOf(out[i].Record, usage)
	}
	return out, err
}

// JSON returns the array tpm-ls --json prints for ps, byte for byte.
func JSON(t *state.Tree, ps []Process) ([]byte, error) {
	rows := make([]row, len(ps))
	for i, p := range ps {
		rows[i] = row{r: p.Record, uptime: p.Uptime, usage: p.Usage}
	}
	var b bytes.Buffer
	err := writeJSON(&cli.Env{Name: "tpm-ls", Stdout: &b, Stderr: io.Discard}, t, rows)
	return b.Bytes(), err
}
