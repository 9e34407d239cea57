package startup

import (
	"errors"
	"strings"
	"testing"
)

var block = []byte(CronBegin + ": x\n@reboot tpm-start --stale\n" + CronEnd + "\n")

func TestPutCron(t *testing.T) {
	for _, c := range []struct {
		name, in, want string
		changed        bool
	}{
		{"empty crontab gets the block", "", string(block), true},
		{"appended after the user's lines", "MAILTO=x\n0 3 * * * backup\n", "MAILTO=x\n0 3 * * * backup\n" + string(block), true},
		{"a last line without newline is ended", "0 3 * * * backup", "0 3 * * * backup\n" + string(block), true},
		{"same block: unchanged", "a\n" + string(block) + "b\n", "a\n" + string(block) + "b\n", false},
		{"old block replaced in place", "a\n" + CronBegin + ": old\n@reboot old\n" + CronEnd + "\nb\n", "a\n" + string(block) + "b\n", true},
		{"a second block is dropped", string(block) + "a\n" + string(block), string(block) + "a\n", true},
		{"end marker with trailing blanks still ends it", CronBegin + "\nold\n" + CronEnd + "  \n", string(block), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, changed, err := PutCron([]byte(c.in), block)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != c.want || changed != c.changed {
				t.Errorf("PutCron = %q, %v; want %q, %v", out, changed, c.want, c.changed)
			}
		})
	}
}

func TestDropCron(t *testing.T) {
	for _, c := range []struct {
		name, in, want string
		changed        bool
	}{
		{"no block: unchanged", "a\nb\n", "a\nb\n", false},
		{"block alone: empty crontab", string(block), "", true},
		{"only the block goes", "a\n" + string(block) + "b\n", "a\nb\n", true},
		{"every block goes", string(block) + "a\n" + string(block), "a\n", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, changed, err := DropCron([]byte(c.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != c.want || changed != c.changed {
				t.Errorf("DropCron = %q, %v; want %q, %v", out, changed, c.want, c.changed)
			}
		})
	}
}

func TestBrokenBlock(t *testing.T) {
	tab := []byte("a\n" + CronBegin + "\n@reboot x\n")
	if _, _, err := PutCron(tab, block); !errors.Is(err, ErrBrokenBlock) {
		t.Errorf("PutCron: %v", err)
	}
	if _, _, err := DropCron(tab); !errors.Is(err, ErrBrokenBlock) {
		t.Errorf("DropCron: %v", err)
	}
}

func TestCronBlockQuoting(t *testing.T) {
	s := &Setup{TetraDir: "/home/a b/50%", Start: "/opt/tpm/bin/tpm-start"}
	got := string(s.CronBlock())
	// Shell-quoted for /bin/sh, and % escaped for cron even inside quotes.
	if !strings.Contains(got, `@reboot TETRA_DIR='/home/a b/50\%' /opt/tpm/bin/tpm-start --stale >/dev/null`) {
		t.Errorf("block:\n%s", got)
	}
}

func TestChoose(t *testing.T) {
	for _, c := range []struct {
		name string
		p    Probe
		want Method
	}{
		{"macOS: launchd", Probe{GOOS: "darwin", Crontab: true}, Launchd},
		{"systemd running and answering", Probe{GOOS: "linux", SystemdBooted: true, SystemctlAnswers: true, Crontab: true}, Systemd},
		{"systemd booted but no user manager: cron", Probe{GOOS: "linux", SystemdBooted: true, Crontab: true}, Cron},
		{"a container with cron", Probe{GOOS: "linux", Crontab: true}, Cron},
		{"nothing", Probe{GOOS: "linux"}, ""},
		{"systemd without answer and no cron", Probe{GOOS: "linux", SystemdBooted: true}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, why, err := Choose(c.p)
			if m != c.want || (err == nil) != (c.want != "") {
				t.Errorf("Choose = %q (%s), %v; want %q", m, why, err, c.want)
			}
		})
	}
}

func TestSystemUnitRunsAsTheUser(t *testing.T) {
	s := &Setup{TetraDir: "/home/ann/tetra", Start: "/usr/local/bin/tpm-start", User: "ann", System: true}
	if s.SystemdName() != "tpm-ann.service" || s.SystemdPath() != "/etc/systemd/system/tpm-ann.service" {
		t.Errorf("name %s path %s", s.SystemdName(), s.SystemdPath())
	}
	u, err := s.SystemdUnit()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\nUser=ann\n", "\nWantedBy=multi-user.target\n", "\nExecStart=/usr/local/bin/tpm-start --stale\n", "\nEnvironment=TETRA_DIR=/home/ann/tetra\n"} {
		if !strings.Contains(string(u), want) {
			t.Errorf("unit lacks %q:\n%s", want, u)
		}
	}
	s.User = "root"
	if u, _ := s.SystemdUnit(); strings.Contains(string(u), "User=") {
		t.Errorf("root's unit names a User=:\n%s", u)
	}
}
