package lscmd

import (
	"testing"
	"time"

	"github.com/tetra-toolkit/tpm/lib/proc"
	"github.com/tetra-toolkit/tpm/lib/state"
)

// CPU and MEM count the program's whole group only when the program leads
// it: a program that shares its group (one the bash TPM started in its
// shell's group) counts alone, never with its neighbours.
func TestUsageOf(t *testing.T) {
	groups := map[int]proc.Usage{100: {CPU: 5 * time.Second, RSS: 5000, N: 3}, 200: {CPU: time.Hour, RSS: 1 << 30, N: 40}}
	for _, tc := range []struct {
		name string
		r    state.Record
		want proc.Usage
	}{
		{"leads its group", state.Record{ProgAlive: true, Prog: proc.Info{PID: 100, PGID: 100, CPU: time.Second, RSS: 10}}, groups[100]},
		{"in another's group", state.Record{ProgAlive: true, Prog: proc.Info{PID: 150, PGID: 200, CPU: time.Second, RSS: 10}}, proc.Usage{CPU: time.Second, RSS: 10, N: 1}},
		{"not running", state.Record{Prog: proc.Info{PID: 100, PGID: 100}}, proc.Usage{}},
	} {
		if got := usageOf(&tc.r, groups); got != tc.want {
			t.Errorf("%s: usage %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
