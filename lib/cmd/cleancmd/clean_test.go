package cleancmd

import (
	"testing"
	"time"
)

func TestKeepForReboot(t *testing.T) {
	boot := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		pid, now time.Time
		keep     bool
	}{
		{"running at the shutdown, booted 2 minutes ago", boot.Add(-time.Hour), boot.Add(2 * time.Minute), true},
		{"running at the shutdown, booted an hour ago", boot.Add(-time.Hour), boot.Add(time.Hour), false},
		{"died since this boot (kill -9)", boot.Add(time.Minute), boot.Add(2 * time.Minute), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := keepForReboot(tc.pid, boot, tc.now); got != tc.keep {
				t.Errorf("keepForReboot = %v, want %v", got, tc.keep)
			}
		})
	}
}

func TestLogName(t *testing.T) {
	for in, want := range map[string]string{"api-3000.out": "api-3000", "api-3000.err.3": "api-3000", "x.out.1": "x", "notes.txt": "", ".hidden.out": ""} {
		got, ok := logName(in)
		if !ok {
			got = ""
		}
		if got != want {
			t.Errorf("logName(%q) = %q, want %q", in, got, want)
		}
	}
}
