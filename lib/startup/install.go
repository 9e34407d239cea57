package startup

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/state"
)

// Report is what an install or a removal did: Lines for stdout (one per
// file or block: "installed PATH", "unchanged PATH", "removed PATH",
// "nothing to remove"), Notes for stderr (what the user must still do).
type Report struct {
	Lines []string
	Notes []string
}

// NothingToRemove is the report of a removal that found nothing.
const NothingToRemove = "nothing to remove"

// Install puts the setup in place with method m. Running it twice changes
// nothing the second time.
func Install(m Method, s *Setup) (*Report, error) {
	switch m {
	case Systemd:
		return installSystemd(s)
	case Launchd:
		return installLaunchd(s)
	case Cron:
		return installCron(s)
	}
	return nil, fmt.Errorf("unknown method %q", m)
}

// Remove takes out what Install put in place.
func Remove(m Method, s *Setup) (*Report, error) {
	switch m {
	case Systemd:
		return removeSystemd(s)
	case Launchd:
		return removeLaunchd(s)
	case Cron:
		return removeCron(s)
	}
	return nil, fmt.Errorf("unknown method %q", m)
}

// Content is what Install would write: the unit, the plist, or the
// crontab block.
func Content(m Method, s *Setup) ([]byte, error) {
	switch m {
	case Systemd:
		return s.SystemdUnit()
	case Launchd:
		return s.LaunchdPlist(), nil
	case Cron:
		return s.CronBlock(), nil
	}
	return nil, fmt.Errorf("unknown method %q", m)
}

// marker is in the first lines of every file tpm-startup writes; a file
// without it is not replaced or removed.
const marker = "Written by tpm-startup"

// place writes data to path unless it holds data already. A file there
// that tpm-startup did not write is left alone (exit 73).
func place(path string, data []byte) (changed bool, err error) {
	old, err := os.ReadFile(path)
	switch {
	case err == nil && bytes.Equal(old, data):
		return false, nil
	case err == nil && !ours(old):
		return false, exit.Errorf(exit.CantCreate, "%s exists and was not written by tpm-startup: not replacing it", path)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return false, exit.With(fileCode(err), err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return false, writeErr(path, err)
	}
	if err := state.WriteFileMode(path, data, 0o644); err != nil {
		return false, writeErr(path, err)
	}
	return true, nil
}

// writeErr names the file that could not be written, not the temporary
// file or folder the system call was about.
func writeErr(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return exit.With(fileCode(err), fmt.Errorf("cannot write %s: %w", path, err))
}

// unplace removes path if tpm-startup wrote it; gone is false when there
// was nothing.
func unplace(path string) (gone bool, err error) {
	old, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, exit.With(fileCode(err), err)
	case !ours(old):
		return false, exit.Errorf(exit.CantCreate, "%s was not written by tpm-startup: not removing it", path)
	}
	if err := os.Remove(path); err != nil {
		return false, exit.With(fileCode(err), err)
	}
	return true, nil
}

func ours(data []byte) bool {
	head := data[:min(len(data), 512)]
	return bytes.Contains(head, []byte(marker))
}

func fileCode(err error) int {
	if errors.Is(err, fs.ErrPermission) {
		return exit.NoPerm
	}
	return exit.CantCreate
}

// run runs a command and returns its output; the error carries the first
// line of what it said on stderr.
func run(stdin []byte, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		msg := strings.TrimSpace(errb.String())
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		if msg != "" {
			err = fmt.Errorf("%w: %s", err, msg)
		}
	}
	return out.String(), err
}

func (s *Setup) systemctl(args ...string) []string {
	if s.System {
		return args
	}
	return append([]string{"--user"}, args...)
}

// SystemctlCommand is the command line a person runs to enable the unit.
func (s *Setup) SystemctlCommand(verb string) string {
	if s.System {
		return "sudo systemctl " + verb + " " + s.SystemdName()
	}
	return "systemctl --user " + verb + " " + s.SystemdName()
}

func installSystemd(s *Setup) (*Report, error) {
	text, err := s.SystemdUnit()
	if err != nil {
		return nil, exit.With(exit.DataErr, err)
	}
	path, name := s.SystemdPath(), s.SystemdName()
	changed, err := place(path, text)
	if err != nil {
		if s.System && exit.Code(err) == exit.NoPerm {
			return nil, &Hinted{err, fmt.Sprintf("as root: tpm-startup --print --systemd --system | sudo tee %s && %s", path, s.SystemctlCommand("enable"))}
		}
		return nil, err
	}
	r := &Report{}
	enabled := false
	if !changed {
		out, err := run(nil, "systemctl", s.systemctl("is-enabled", name)...)
		enabled = err == nil && strings.TrimSpace(out) == "enabled"
	}
	if changed || !enabled {
		if changed {
			// A failure here shows again, better said, at enable.
			run(nil, "systemctl", s.systemctl("daemon-reload")...)
		}
		if _, err := run(nil, "systemctl", s.systemctl("enable", name)...); err != nil {
			return nil, &Hinted{exit.Errorf(exit.Unavailable, "wrote %s, but %s failed (%v)", path, strings.TrimPrefix(s.SystemctlCommand("enable"), "sudo "), err),
				fmt.Sprintf("once systemd answers, run: %s", s.SystemctlCommand("enable"))}
		}
		r.Lines = append(r.Lines, "installed "+path)
	} else {
		r.Lines = append(r.Lines, "unchanged "+path)
	}
	if !s.System && !lingering(s.User) {
		r.Notes = append(r.Notes, fmt.Sprintf("%s starts when %s logs in, not at boot, until lingering is on: sudo loginctl enable-linger %s", name, s.User, s.User))
	}
	return r, nil
}

// lingering reports whether the user's manager starts at boot rather than
// at the first login: logind keeps a file per such user, and says so.
func lingering(user string) bool {
	if _, err := os.Stat(filepath.Join("/var/lib/systemd/linger", user)); err == nil {
		return true
	}
	out, err := run(nil, "loginctl", "show-user", user, "--property=Linger", "--value")
	return err == nil && strings.TrimSpace(out) == "yes"
}

func removeSystemd(s *Setup) (*Report, error) {
	path, name := s.SystemdPath(), s.SystemdName()
	old, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Report{Lines: []string{NothingToRemove}}, nil
	}
	if err == nil && !ours(old) {
		return nil, exit.Errorf(exit.CantCreate, "%s was not written by tpm-startup: not removing it", path)
	}
	r := &Report{}
	if _, err := run(nil, "systemctl", s.systemctl("disable", name)...); err != nil {
		r.Notes = append(r.Notes, fmt.Sprintf("%s failed (%v): its link under %s may remain", strings.TrimPrefix(s.SystemctlCommand("disable"), "sudo "), err, filepath.Dir(path)))
	}
	if _, err := unplace(path); err != nil {
		return nil, err
	}
	run(nil, "systemctl", s.systemctl("daemon-reload")...)
	r.Lines = append(r.Lines, "removed "+path)
	return r, nil
}

func installLaunchd(s *Setup) (*Report, error) {
	path := s.LaunchdPath()
	changed, err := place(path, s.LaunchdPlist())
	if err != nil {
		return nil, err
	}
	if !changed {
		return &Report{Lines: []string{"unchanged " + path}}, nil
	}
	return &Report{Lines: []string{"installed " + path}}, nil
}

func removeLaunchd(s *Setup) (*Report, error) {
	path := s.LaunchdPath()
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return &Report{Lines: []string{NothingToRemove}}, nil
	}
	// Unload it if launchd has it (after a login); an error means it had
	// not, which is fine.
	domain := fmt.Sprintf("gui/%d/%s", s.UID, Label)
	if s.System {
		domain = "system/" + Label
	}
	run(nil, "launchctl", "bootout", domain)
	if _, err := unplace(path); err != nil {
		return nil, err
	}
	return &Report{Lines: []string{"removed " + path}}, nil
}

// readCrontab returns the user's crontab, empty when there is none.
func readCrontab() ([]byte, error) {
	cmd := exec.Command("crontab", "-l")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		// "no crontab for USER": exit 1 and nothing to read.
		if strings.Contains(strings.ToLower(errb.String()), "no crontab") {
			return nil, nil
		}
		msg := strings.TrimSpace(errb.String())
		return nil, exit.Errorf(exit.Unavailable, "crontab -l: %v %s", err, msg)
	}
	return out.Bytes(), nil
}

func writeCrontab(tab []byte) error {
	if _, err := run(tab, "crontab", "-"); err != nil {
		return exit.Errorf(exit.Unavailable, "crontab -: %v", err)
	}
	return nil
}

func installCron(s *Setup) (*Report, error) {
	tab, err := readCrontab()
	if err != nil {
		return nil, err
	}
	out, changed, err := PutCron(tab, s.CronBlock())
	if err != nil {
		return nil, &Hinted{exit.With(exit.DataErr, err), "fix it with crontab -e"}
	}
	if !changed {
		return &Report{Lines: []string{"unchanged crontab block"}}, nil
	}
	if err := writeCrontab(out); err != nil {
		return nil, err
	}
	return &Report{Lines: []string{"installed crontab block"}}, nil
}

func removeCron(s *Setup) (*Report, error) {
	tab, err := readCrontab()
	if err != nil {
		return nil, err
	}
	out, changed, err := DropCron(tab)
	if err != nil {
		return nil, &Hinted{exit.With(exit.DataErr, err), "fix it with crontab -e"}
	}
	if !changed {
		return &Report{Lines: []string{NothingToRemove}}, nil
	}
	if err := writeCrontab(out); err != nil {
		return nil, err
	}
	return &Report{Lines: []string{"removed crontab block"}}, nil
}

// Hinted is an error with a hint line: the command prints it after the
// error (lib/cli reads it through its Hint method).
type Hinted struct {
	Err      error
	HintLine string
}

func (h *Hinted) Error() string { return h.Err.Error() }
func (h *Hinted) Unwrap() error { return h.Err }

// Hint is the line lib/cli prints as "tpm-startup: hint: ...".
func (h *Hinted) Hint() string { return h.HintLine }
