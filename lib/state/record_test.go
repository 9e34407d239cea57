package state

import "testing"

// The status table of SPEC §4 and §12: what the record says is believed
// only as far as what is alive allows.
func TestDerive(t *testing.T) {
	for _, tc := range []struct {
		name               string
		recorded           string
		prog, sup, pidFile bool
		want               string
	}{
		{"running", Online, true, true, true, Online},
		{"starting", Launching, true, true, true, Launching},
		{"just ended, supervisor deciding", Online, false, true, true, Restarting},
		{"waiting to restart", Restarting, false, true, true, Restarting},
		{"being stopped", Stopping, true, true, true, Stopping},
		{"supervisor recording the end", Exited, false, true, false, Exited},
		{"no state recorded, program alive", "", true, true, true, Online},
		{"no state recorded, starting", "", false, true, true, Launching},
		{"failing its health check", Unhealthy, true, true, true, Unhealthy},
		{"unhealthy, ended, being restarted", Unhealthy, false, true, true, Restarting},
		{"supervisor killed, program runs", Online, true, false, true, Unsupervised},
		{"bash TPM record, program runs", "", true, false, true, Unsupervised},
		{"both gone, pid file left", Online, false, false, true, Stale},
		{"record says online about the dead", Online, false, false, false, Stopped},
		{"stopped", Stopped, false, false, false, Stopped},
		{"exited", Exited, false, false, false, Exited},
		{"errored", Errored, false, false, false, Errored},
		{"errored, pid file left by a crash", Errored, false, false, true, Stale},
	} {
		if got := derive(tc.recorded, tc.prog, tc.sup, tc.pidFile); got != tc.want {
			t.Errorf("%s: derive(%q, prog=%v, sup=%v, pid=%v) = %s, want %s", tc.name, tc.recorded, tc.prog, tc.sup, tc.pidFile, got, tc.want)
		}
	}
}
