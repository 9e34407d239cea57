// Package export turns tpm's processes into what another process manager
// runs: a systemd unit per process (systemd.go) or a Nomad job with a group
// per app (nomad.go). It reads the same facts a restart from records uses
// (the meta line through spec.FromMeta, and the saved NAME.env), or the apps
// of an ecosystem file as tpm-start would start them (config.go), and never
// starts or changes anything.
//
// What has no equivalent is said, once per process and key, as a warning:
// an exported unit that silently dropped a health check would look right
// and behave wrongly.
package export

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/tetra-toolkit/tpm/lib/envfile"
	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/meta"
	"github.com/tetra-toolkit/tpm/lib/spec"
	"github.com/tetra-toolkit/tpm/lib/state"
)

// Process is one process to export.
type Process struct {
	Spec *spec.Spec
	// Env is the environment the program runs with under tpm, PORT and
	// NODE_APP_INSTANCE included, as NAME=VALUE entries.
	Env []string
	// Meta is the record, for the keys beyond the Spec; nil for an app of
	// an ecosystem file that was never started.
	Meta *meta.Meta
	// Warnings say what of this process does not carry over.
	Warnings []string
}

// FromRecord reads the process name of tree t: its meta line, and its saved
// environment (tpm-export's own for a record of the bash TPM, which saved
// none, as a restart from records would do).
func FromRecord(t *state.Tree, name string) (*Process, error) {
	m, err := t.ReadMeta(name)
	if err != nil {
		return nil, err
	}
	s, err := spec.FromMeta(name, m)
	if err != nil {
		return nil, exit.Errorf(exit.DataErr, "%s: %v", t.Meta(name), err)
	}
	p := &Process{Spec: s, Meta: m}
	env, err := envfile.Read(t.Env(name))
	switch {
	case err == nil:
		p.Env = env
	case errors.Is(err, fs.ErrNotExist):
		p.Env = programEnv(s, os.Environ())
		p.Warnings = append(p.Warnings, "no saved environment: exporting tpm-export's own")
	case errors.Is(err, fs.ErrPermission):
		return nil, exit.With(exit.NoPerm, err)
	default:
		return nil, exit.With(exit.DataErr, err)
	}
	p.Warnings = append(p.Warnings, unmapped(m)...)
	return p, nil
}

// programEnv is env as the supervisor gives it to the program of s: with
// its PORT (or none), and its instance number.
func programEnv(s *spec.Spec, env []string) []string {
	if s.Port > 0 {
		env = envfile.Set(env, "PORT", strconv.Itoa(s.Port))
	} else {
		env = envfile.Unset(env, "PORT")
	}
	if s.Instance >= 0 {
		env = envfile.Set(env, "NODE_APP_INSTANCE", strconv.Itoa(s.Instance))
	}
	return env
}

// sessionVars describe the shell that ran tpm-start rather than the
// program: PWD would contradict the working folder the unit sets, and the
// others are the shell's own bookkeeping. They are not exported.
var sessionVars = []string{"_", "OLDPWD", "PWD", "SHLVL"}

// Environ returns the environment to export: p.Env without the shell's
// bookkeeping, sorted by name.
func (p *Process) Environ() []string {
	out := slices.DeleteFunc(slices.Clone(p.Env), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return slices.Contains(sessionVars, k)
	})
	slices.Sort(out)
	return out
}

// unmappedKeys are the policy keys of SPEC §12 that neither systemd nor
// Nomad has a setting for, each with what a user can do instead.
var unmappedKeys = []struct{ key, why string }{
	{"watch", "systemd restarts on file changes only through a path unit; Nomad on a new job version"},
	{"health_http", "systemd has no health check; Nomad has service checks"},
	{"health_cmd", "systemd has no health check; Nomad has service checks"},
	{"cron_restart", "a timed restart is a systemd timer running systemctl restart"},
	{"wait_log", "readiness by a log line has no equivalent; systemd has Type=notify"},
	{"depends_on", "start order is After= and Wants= in the unit, a lifecycle block in Nomad"},
	{"on_event", "hooks are ExecStartPost=, ExecStopPost= or OnFailure= units"},
	{"listen", "tpm's socket is a NAME.socket unit, which passes fd 3 by the same protocol"},
}

// unmapped lists what of the record m does not carry over.
func unmapped(m *meta.Meta) []string {
	var out []string
	for _, u := range unmappedKeys {
		v, ok := m.Get(u.key)
		if !ok || v == "" || v == "0" || v == "no" {
			continue
		}
		out = append(out, fmt.Sprintf("%s=%s is not exported: %s", u.key, meta.Quote(v), u.why))
	}
	if v, ok := m.Get("max_memory"); ok && v != "" && v != "0" {
		if n, err := spec.ParseSize(v); err != nil || n <= 0 {
			out = append(out, fmt.Sprintf("max_memory=%s is not exported: not a size tpm-export reads", meta.Quote(v)))
		}
	}
	return out
}

// WriteFile writes data to path with mode, atomically (state.WriteFileMode):
// systemd or Nomad never read half a unit, and a failed write leaves the
// old file.
func WriteFile(path string, data []byte, mode os.FileMode) error {
	return state.WriteFileMode(path, data, mode)
}
