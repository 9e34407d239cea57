// Package startupcmd is tpm-startup: it installs what runs `tpm-start
// --stale` at boot or login (a systemd unit, a launchd agent or an @reboot
// crontab line), prints it, or removes it. The work is lib/startup's.
package startupcmd

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/startup"
	"github.com/tetra-toolkit/tpm/lib/state"
)

type grammar struct {
	Systemd bool `help:"Use systemd: a unit running tpm-start --stale." xor:"method"`
	Launchd bool `help:"Use launchd (macOS): an agent running tpm-start --stale at login." xor:"method"`
	Cron    bool `help:"Use cron: an @reboot line in your crontab, between marker lines." xor:"method"`
	Print   bool `help:"Print what would be installed; change nothing." xor:"action"`
	Remove  bool `help:"Remove what tpm-startup installed." xor:"action"`
	User    bool `help:"systemd, launchd: for your own manager, at login (or at boot once lingering is on); the default, except for root." xor:"scope"`
	System  bool `help:"systemd, launchd: for the system's manager, at boot, as you (needs root to install; the default for root)." xor:"scope"`
}

const description = `Start tpm's processes again when the machine starts: install what runs
"tpm-start --stale" (every process that was running when the machine went down)
at boot or login, with the absolute path of tpm-start and the TETRA_DIR in force.

Without --systemd, --launchd or --cron it uses what the machine has: launchd on
macOS; systemd when it runs the machine and answers systemctl; else cron when
crontab is on PATH. It says on stderr what it chose.

  systemd  a user unit ~/.config/systemd/user/tpm.service (enabled with
           systemctl --user; at boot only once "loginctl enable-linger" is on:
           it says so), or with --system (root's default) the system unit
           /etc/systemd/system/tpm-USER.service with User=USER, as pm2 startup
  launchd  ~/Library/LaunchAgents/com.github.tetra-toolkit.tpm.plist (at
           login), or with --system a LaunchDaemon (at boot)
  cron     a block "# tpm-startup begin" ... "# tpm-startup end" holding an
           @reboot line, in your crontab; the rest of it is left alone

Running it again changes nothing ("unchanged ..."). --remove undoes it: with a
method, that one; without, wherever tpm-startup writes (the unit or agent, and
the crontab block).

Exit codes: 0 ok, 64 usage, 65 a broken crontab block, 69 no way to start at
boot found, or systemctl/crontab failed, 73 a file in the way, 77 permission
denied.`

// Main runs tpm-startup and returns its exit status.
func Main(e *cli.Env) int {
	var g grammar
	return e.Run(&g, description, func() error { return run(e, &g) })
}

func run(e *cli.Env, g *grammar) error {
	s, err := setup(g)
	if err != nil {
		return err
	}
	if g.Remove && !g.Systemd && !g.Launchd && !g.Cron {
		return removeAll(e, g, s)
	}
	m, err := method(e, g, s)
	if err != nil {
		return err
	}
	if m == startup.Cron && (g.User || g.System) {
		return cli.Usagef("--user and --system are for systemd and launchd: a crontab is your own")
	}
	if g.Print {
		data, err := startup.Content(m, s)
		if err != nil {
			return exit.With(exit.DataErr, err)
		}
		_, err = e.Stdout.Write(data)
		return err
	}
	if m == startup.Launchd && runtime.GOOS != "darwin" {
		return exit.Errorf(exit.Unavailable, "launchd is macOS's: use --print to see the agent")
	}
	var r *startup.Report
	if g.Remove {
		r, err = startup.Remove(m, s)
	} else {
		r, err = startup.Install(m, s)
	}
	if err != nil {
		return err
	}
	for _, l := range r.Lines {
		fmt.Fprintln(e.Stdout, l)
	}
	for _, n := range r.Notes {
		e.Warnf("%s", n)
	}
	return nil
}

// removeAll takes out what tpm-startup installed with any method this
// machine has: one may have been chosen by hand (--cron on a systemd
// machine), and --remove should not need to be told which.
func removeAll(e *cli.Env, g *grammar, s *startup.Setup) error {
	ms := []startup.Method{startup.Systemd}
	if runtime.GOOS == "darwin" {
		ms = []startup.Method{startup.Launchd}
	}
	if _, err := exec.LookPath("crontab"); err == nil {
		ms = append(ms, startup.Cron)
	}
	var lines []string
	for _, m := range ms {
		r, err := startup.Remove(m, s)
		if err != nil {
			return err
		}
		for _, n := range r.Notes {
			e.Warnf("%s", n)
		}
		for _, l := range r.Lines {
			if l != startup.NothingToRemove {
				lines = append(lines, l)
			}
		}
	}
	if len(lines) == 0 {
		lines = []string{startup.NothingToRemove}
	}
	for _, l := range lines {
		fmt.Fprintln(e.Stdout, l)
	}
	return nil
}

// setup gathers who and what: the account, the tree (trusted, as every
// command checks it) and tpm-start's absolute path.
func setup(g *grammar) (*startup.Setup, error) {
	dir, err := state.Dir()
	if err != nil {
		return nil, err
	}
	if _, err := state.Open(); err != nil {
		return nil, err
	}
	start, err := cli.Companion("tpm-start")
	if err != nil {
		return nil, err
	}
	if start, err = filepath.Abs(start); err != nil {
		return nil, err
	}
	u, err := user.Current()
	if err != nil {
		return nil, fmt.Errorf("who am i: %w", err)
	}
	home := os.Getenv("HOME")
	if home == "" {
		home = u.HomeDir
	}
	cfg := os.Getenv("XDG_CONFIG_HOME")
	if cfg == "" || !filepath.IsAbs(cfg) {
		cfg = filepath.Join(home, ".config")
	}
	uid, _ := strconv.Atoi(u.Uid)
	return &startup.Setup{
		TetraDir:   filepath.Dir(dir),
		Start:      start,
		User:       u.Username,
		UID:        uid,
		Home:       home,
		ConfigHome: cfg,
		System:     g.System || (!g.User && os.Geteuid() == 0),
	}, nil
}

// method is the one asked for, or the one the machine has, said on stderr.
func method(e *cli.Env, g *grammar, s *startup.Setup) (startup.Method, error) {
	switch {
	case g.Systemd:
		return startup.Systemd, nil
	case g.Launchd:
		return startup.Launchd, nil
	case g.Cron:
		return startup.Cron, nil
	}
	p := startup.Probe{GOOS: runtime.GOOS}
	if fi, err := os.Stat("/run/systemd/system"); err == nil && fi.IsDir() {
		p.SystemdBooted = true
		args := []string{"show-environment"}
		if !s.System {
			args = append([]string{"--user"}, args...)
		}
		p.SystemctlAnswers = exec.Command("systemctl", args...).Run() == nil
	}
	if _, err := exec.LookPath("crontab"); err == nil {
		p.Crontab = true
	}
	m, why, err := startup.Choose(p)
	if err != nil {
		return "", cli.WithHint(exit.With(exit.Unavailable, err),
			"have whatever starts programs at boot run: TETRA_DIR=%s %s --stale", s.TetraDir, s.Start)
	}
	what := string(m)
	switch {
	case m == startup.Systemd && s.System:
		what = "systemd, a system unit"
	case m == startup.Systemd:
		what = "systemd, a user unit"
	}
	e.Warnf("using %s (%s)", what, why)
	return m, nil
}
