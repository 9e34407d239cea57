// Package startup is tpm-startup: what brings tpm's processes back when the
// machine starts. After a reboot every process that was running shows as
// stale (its pid file is there, nothing of it is alive); `tpm-start --stale`
// starts exactly those again. This package writes the one thing that runs
// it at boot or login, for one account and one TETRA_DIR:
//
//   - systemd: a oneshot unit, tpm.service for the user's manager (at login,
//     or at boot once lingering is on), or tpm-USER.service for the system
//     manager (at boot, User=USER: what `pm2 startup` writes);
//   - launchd: an agent in ~/Library/LaunchAgents (at login), or a daemon
//     in /Library/LaunchDaemons (at boot);
//   - cron: an @reboot line in the user's crontab, between marker lines, so
//     that it can be replaced and removed without touching the rest.
//
// Each names tpm-start by its absolute path and sets TETRA_DIR, since none
// of them runs a login shell. Nothing is stopped at shutdown on purpose:
// systemd (or the system going down) sends TERM to the supervisors, which
// stop their programs and keep their pid files (lib/supervise), so the
// processes show as stale and come back at the next start.
package startup

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/tetra-toolkit/tpm/lib/meta"
	"github.com/tetra-toolkit/tpm/lib/systemd"
)

// Method is a way to run a command at boot or login.
type Method string

// The methods tpm-startup knows.
const (
	Systemd Method = "systemd"
	Launchd Method = "launchd"
	Cron    Method = "cron"
)

// Setup is what to install, for whom.
type Setup struct {
	TetraDir string // TETRA_DIR, absolute
	Start    string // tpm-start, absolute
	User     string // the account's login name
	UID      int
	Home     string
	// ConfigHome is $XDG_CONFIG_HOME, or ~/.config: where a user's units
	// live.
	ConfigHome string
	// System installs for the system's manager (at boot, as User) rather
	// than the user's own (at login).
	System bool
}

// Label is the launchd label, and the plist's base name.
const Label = "com.github.tetra-toolkit.tpm"

// SystemdName is the unit's name: tpm.service for a user's manager;
// tpm-USER.service for the system's, one per account, as PM2's
// pm2-USER.service.
func (s *Setup) SystemdName() string {
	if s.System {
		return systemd.UnitName("tpm-"+s.User, ".service")
	}
	return "tpm.service"
}

// SystemdPath is where the unit goes.
func (s *Setup) SystemdPath() string {
	if s.System {
		return filepath.Join("/etc/systemd/system", s.SystemdName())
	}
	return filepath.Join(s.ConfigHome, "systemd", "user", s.SystemdName())
}

// SystemdUnit is the unit's text.
func (s *Setup) SystemdUnit() ([]byte, error) {
	dir, err := systemd.Setting(s.TetraDir)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("# Written by tpm-startup (tpm-startup --remove takes it out): it starts again")
	line("# tpm's processes that were running when the machine went down (tpm-start")
	line("# --stale). Their supervisors stay in this unit; at shutdown systemd sends them")
	line("# TERM, they stop their programs and keep their pid files, so the processes")
	line("# show as stale and come back at the next start.")
	line("[Unit]")
	line("Description=tpm: start again the processes of %s", dir)
	if s.System {
		line("Wants=network-online.target")
		line("After=network-online.target")
	}
	line("")
	line("[Service]")
	line("Type=oneshot")
	line("RemainAfterExit=yes")
	if s.System && s.User != "root" {
		u, err := systemd.Setting(s.User)
		if err != nil {
			return nil, err
		}
		line("User=%s", u)
	}
	line("Environment=%s", systemd.Assignment("TETRA_DIR", s.TetraDir))
	line("ExecStart=%s", systemd.ExecLine([]string{s.Start, "--stale"}))
	line("")
	line("[Install]")
	if s.System {
		line("WantedBy=multi-user.target")
	} else {
		line("WantedBy=default.target")
	}
	return b.Bytes(), nil
}

// LaunchdPath is where the plist goes.
func (s *Setup) LaunchdPath() string {
	if s.System {
		return filepath.Join("/Library/LaunchDaemons", Label+".plist")
	}
	return filepath.Join(s.Home, "Library", "LaunchAgents", Label+".plist")
}

// LaunchdPlist is the agent's (or daemon's) property list: tpm-start
// --stale once when it is loaded, at login (or boot). Its own errors go to
// ~/Library/Logs/tpm-startup.log (not the tree's logs folder, where
// tpm-clean removes what belongs to no process).
func (s *Setup) LaunchdPlist() []byte {
	esc := func(v string) string {
		var b strings.Builder
		xml.EscapeText(&b, []byte(v))
		return b.String()
	}
	var b bytes.Buffer
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line(`<?xml version="1.0" encoding="UTF-8"?>`)
	line(`<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">`)
	line(`<!-- Written by tpm-startup, which also removes it. -->`)
	line(`<plist version="1.0">`)
	line(`<dict>`)
	line("\t<key>Label</key>")
	line("\t<string>%s</string>", Label)
	line("\t<key>ProgramArguments</key>")
	line("\t<array>")
	line("\t\t<string>%s</string>", esc(s.Start))
	line("\t\t<string>--stale</string>")
	line("\t</array>")
	line("\t<key>EnvironmentVariables</key>")
	line("\t<dict>")
	line("\t\t<key>TETRA_DIR</key>")
	line("\t\t<string>%s</string>", esc(s.TetraDir))
	line("\t</dict>")
	if s.System && s.User != "root" {
		line("\t<key>UserName</key>")
		line("\t<string>%s</string>", esc(s.User))
	}
	line("\t<key>RunAtLoad</key>")
	line("\t<true/>")
	// The supervisors start sessions of their own; this says again that
	// launchd must not take them down when tpm-start ends.
	line("\t<key>AbandonProcessGroup</key>")
	line("\t<true/>")
	line("\t<key>StandardOutPath</key>")
	line("\t<string>/dev/null</string>")
	line("\t<key>StandardErrorPath</key>")
	line("\t<string>%s</string>", esc(filepath.Join(s.Home, "Library", "Logs", "tpm-startup.log")))
	line(`</dict>`)
	line(`</plist>`)
	return b.Bytes()
}

// The crontab block's marker lines.
const (
	CronBegin = "# tpm-startup begin"
	CronEnd   = "# tpm-startup end"
)

// CronBlock is the crontab block: an @reboot line between the markers.
// Its standard output is dropped (one line per process started); cron
// mails what tpm-start says on stderr.
func (s *Setup) CronBlock() []byte {
	// cron turns an unescaped % into a newline, even inside quotes.
	word := func(v string) string { return strings.ReplaceAll(meta.Quote(v), "%", `\%`) }
	return []byte(CronBegin + ": tpm's processes come back at boot (tpm-startup --remove takes this block out)\n" +
		"@reboot TETRA_DIR=" + word(s.TetraDir) + " " + word(s.Start) + " --stale >/dev/null\n" +
		CronEnd + "\n")
}

// ErrBrokenBlock is returned for a crontab with a begin marker and no end.
var ErrBrokenBlock = errors.New("the crontab has a '" + CronBegin + "' line without its '" + CronEnd + "' line")

// findBlocks returns the line ranges [begin, end] of tpm-startup's blocks.
func findBlocks(lines []string) ([][2]int, error) {
	var out [][2]int
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], CronBegin) {
			continue
		}
		j := i + 1
		for j < len(lines) && strings.TrimRight(lines[j], " \t") != CronEnd {
			j++
		}
		if j == len(lines) {
			return nil, ErrBrokenBlock
		}
		out = append(out, [2]int{i, j})
		i = j
	}
	return out, nil
}

func splitLines(tab []byte) []string {
	s := strings.TrimSuffix(string(tab), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func joinLines(lines []string) []byte {
	if len(lines) == 0 {
		return nil
	}
	return []byte(strings.Join(lines, "\n") + "\n")
}

// PutCron returns tab with block in it: in place of tpm-startup's block
// when there is one (a second one is dropped), else at the end. changed is
// false when tab had it already.
func PutCron(tab, block []byte) (out []byte, changed bool, err error) {
	lines := splitLines(tab)
	blocks, err := findBlocks(lines)
	if err != nil {
		return nil, false, err
	}
	add := splitLines(block)
	var res []string
	if len(blocks) == 0 {
		res = append(lines, add...)
	} else {
		res = append(res, lines[:blocks[0][0]]...)
		res = append(res, add...)
		prev := blocks[0][1] + 1
		for _, b := range blocks[1:] {
			res = append(res, lines[prev:b[0]]...)
			prev = b[1] + 1
		}
		res = append(res, lines[prev:]...)
	}
	out = joinLines(res)
	return out, !bytes.Equal(out, tab), nil
}

// DropCron returns tab without tpm-startup's blocks; changed is false when
// it had none.
func DropCron(tab []byte) (out []byte, changed bool, err error) {
	lines := splitLines(tab)
	blocks, err := findBlocks(lines)
	if err != nil {
		return nil, false, err
	}
	if len(blocks) == 0 {
		return tab, false, nil
	}
	var res []string
	prev := 0
	for _, b := range blocks {
		res = append(res, lines[prev:b[0]]...)
		prev = b[1] + 1
	}
	res = append(res, lines[prev:]...)
	return joinLines(res), true, nil
}

// Probe is what the machine has, as Choose needs it.
type Probe struct {
	GOOS string
	// SystemdBooted: systemd runs as init (/run/systemd/system exists).
	SystemdBooted bool
	// SystemctlAnswers: the manager tpm-startup would install into (the
	// user's, or the system's for --system) answers systemctl.
	SystemctlAnswers bool
	// Crontab: a crontab command is on PATH.
	Crontab bool
}

// Choose picks the method for the machine, and says why.
func Choose(p Probe) (Method, string, error) {
	switch {
	case p.GOOS == "darwin":
		return Launchd, "macOS: launchd", nil
	case p.SystemdBooted && p.SystemctlAnswers:
		return Systemd, "systemd runs this machine", nil
	case p.Crontab && p.SystemdBooted:
		return Cron, "systemd runs this machine but its manager does not answer systemctl; crontab is there", nil
	case p.Crontab:
		return Cron, "no systemd or launchd; crontab is there", nil
	}
	return "", "", errors.New("found no systemd, launchd or crontab to start tpm at boot")
}
