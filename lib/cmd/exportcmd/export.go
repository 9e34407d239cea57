// Package exportcmd is tpm-export: it writes a systemd unit per process, or
// a Nomad job, from tpm's records or from an ecosystem file, so that
// programs run under tpm can move to an engine that runs them instead. The
// work is lib/export's; nothing is started or changed.
package exportcmd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tetra-toolkit/tpm/lib/app"
	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/envfile"
	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/export"
	"github.com/tetra-toolkit/tpm/lib/spec"
	"github.com/tetra-toolkit/tpm/lib/state"
	"github.com/tetra-toolkit/tpm/lib/systemd"
)

type grammar struct {
	Write        string   `placeholder:"DIR" help:"Write the files into DIR (created if missing) instead of printing them."`
	User         bool     `help:"systemd: user units, for systemctl --user (the default, except for root)." xor:"kind"`
	System       bool     `help:"systemd: system units, started at boot, with User= (the default for root)." xor:"kind"`
	All          bool     `help:"Export every process."`
	Env          string   `placeholder:"ENVNAME" help:"Ecosystem files: merge env_ENVNAME over env."`
	Only         string   `placeholder:"A,B" help:"Ecosystem files: export only these apps."`
	Job          string   `placeholder:"ID" help:"nomad: the job's ID (default: the app's name for one app, else tpm)."`
	Datacenter   []string `placeholder:"DC" sep:"," help:"nomad: datacenters to run in (default *, every one: Nomad 1.5 and later)."`
	Driver       string   `placeholder:"DRIVER" default:"raw_exec" enum:"raw_exec,exec" help:"nomad: task driver, raw_exec (as under tpm) or exec (isolated in a chroot)."`
	DynamicPorts bool     `help:"nomad: let Nomad choose each allocation's port (PORT is then NOMAD_PORT_http) instead of reserving the fixed PORT."`
	Engine       string   `arg:"" name:"ENGINE" enum:"systemd,nomad" help:"systemd or nomad."`
	Targets      []string `arg:"" optional:"" name:"NAME|PATTERN|CONFIG" help:"Processes (names or shell globs), or one ecosystem file."`
}

const description = `Write what another engine needs to run tpm's processes instead of tpm.

  tpm-export systemd NAME|PATTERN...|CONFIG   a systemd unit per process
  tpm-export nomad NAME|PATTERN...|CONFIG     one Nomad job, a task group per app

From records (the meta line and the saved NAME.env: what a restart runs) or
from an ecosystem file (as tpm-start would start it, without starting it).
Units are printed one after another, the environment in Environment= lines
(which any user can read with systemctl show); with --write DIR each is
DIR/NAME.service, its environment in DIR/NAME.env (readable by its owner only). The Nomad job
is JSON for "nomad job run -json" or POST /v1/jobs (--write: DIR/ID.nomad.json).

What does not carry over (health checks, watch, log rotation, ...) is said on
stderr; see the README.

Exit codes: 0 ok, 64 usage, 65 bad record or config, 66 no such process, file
or interpreter, 73 a file in DIR cannot be written (or is not tpm-export's),
77 permission denied.`

// Main runs tpm-export and returns its exit status.
func Main(e *cli.Env) int {
	var g grammar
	return e.Run(&g, description, func() error { return run(e, &g) })
}

func run(e *cli.Env, g *grammar) error {
	if g.Engine == "systemd" && (g.Job != "" || len(g.Datacenter) > 0 || g.DynamicPorts || g.Driver != export.DriverRawExec) {
		return cli.Usagef("--job, --datacenter, --driver and --dynamic-ports are for nomad")
	}
	if g.Engine == "nomad" && (g.User || g.System) {
		return cli.Usagef("--user and --system are for systemd")
	}
	ps, err := processes(e, g)
	if err != nil {
		return err
	}
	if g.Engine == "systemd" {
		return units(e, g, ps)
	}
	return nomad(e, g, ps)
}

// processes reads what to export: the apps of one ecosystem file, or known
// processes.
func processes(e *cli.Env, g *grammar) ([]*export.Process, error) {
	if len(g.Targets) > 0 && spec.IsConfig(g.Targets[0]) {
		if len(g.Targets) > 1 || g.All {
			return nil, cli.Usagef("give one ecosystem file, or process names")
		}
		return fromConfig(e, g, g.Targets[0])
	}
	if g.Env != "" || g.Only != "" {
		return nil, cli.Usagef("--env and --only are for ecosystem files")
	}
	t, err := state.Open()
	if err != nil {
		return nil, err
	}
	var ns []string
	switch {
	case g.All && len(g.Targets) > 0:
		return nil, cli.Usagef("give names or --all, not both")
	case g.All:
		if ns, err = t.Names(); err != nil {
			return nil, err
		}
		if len(ns) == 0 {
			return nil, exit.Errorf(exit.NoInput, "no processes to export")
		}
	case len(g.Targets) == 0:
		return nil, cli.WithHint(cli.Usagef("nothing to export"), "tpm-export %s NAME..., --all, or an ecosystem file", g.Engine)
	default:
		if ns, err = cli.Resolve(t, g.Targets); err != nil {
			return nil, err
		}
	}
	var ps []*export.Process
	for _, n := range ns {
		p, err := export.FromRecord(t, n)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// fromConfig reads an ecosystem file through tpm-ecosystem, as tpm-start
// does, and turns its apps into processes with tpm-export's environment as
// the base (the one tpm-start would save).
func fromConfig(e *cli.Env, g *grammar, config string) ([]*export.Process, error) {
	eco, err := app.ReadConfig(e, config, os.Environ(), g.Env, g.Only)
	if err != nil {
		return nil, err
	}
	for _, w := range eco.Warnings {
		e.Warnf("%s: %s", config, w)
	}
	env := os.Environ()
	for _, k := range eco.EnvUnset {
		env = envfile.Unset(env, k)
	}
	for _, k := range slices.Sorted(maps.Keys(eco.EnvSet)) {
		env = envfile.Set(env, k, eco.EnvSet[k])
	}
	var ps []*export.Process
	for _, a := range eco.Apps {
		some, err := export.FromApp(a, env)
		if err != nil {
			label := fmt.Sprintf("apps[%d]", a.Index)
			if a.Name != "" {
				label = fmt.Sprintf("app %q", a.Name)
			}
			return nil, exit.With(exit.Code(err), fmt.Errorf("%s: %s: %w", config, label, err))
		}
		ps = append(ps, some...)
	}
	if len(ps) == 0 {
		return nil, exit.Errorf(exit.NoInput, "%s: no apps to export", config)
	}
	return ps, nil
}

// file is one file to print or write.
type file struct {
	path string // in DIR; "" when printed
	data []byte
	mode os.FileMode
}

func units(e *cli.Env, g *grammar, ps []*export.Process) error {
	system := g.System || (!g.User && os.Geteuid() == 0)
	o := export.UnitOptions{System: system}
	if system {
		u, err := user.Current()
		if err != nil {
			return fmt.Errorf("who am i: %w", err)
		}
		o.User = u.Username
	}
	dir, err := outDir(g.Write)
	if err != nil {
		return err
	}
	var files []file
	for _, p := range ps {
		if dir != "" {
			o.EnvFile = filepath.Join(dir, strings.TrimSuffix(systemd.UnitName(p.Spec.Name, ".service"), ".service")+".env")
		}
		u, err := export.SystemdUnit(p, o)
		if err != nil {
			return err
		}
		for _, w := range append(p.Warnings, u.Warnings...) {
			e.Warnf("%s: %s", p.Spec.Name, w)
		}
		if dir == "" {
			files = append(files, file{data: u.Text})
			continue
		}
		files = append(files, file{filepath.Join(dir, u.Name), u.Text, 0o644}, file{o.EnvFile, u.Env, 0o600})
	}
	if err := emit(e, files); err != nil {
		return err
	}
	if dir != "" {
		e.Warnf("hint: %s", runHint(ps, dir, system))
	}
	return nil
}

// runHint is the command line that moves the processes to systemd: stop
// them under tpm (a config's apps were never started), link the written
// units where systemd looks, enable and start them.
func runHint(ps []*export.Process, dir string, system bool) string {
	ctl := "systemctl --user"
	if system {
		ctl = "sudo systemctl"
	}
	var names, paths, units []string
	for _, p := range ps {
		u := systemd.UnitName(p.Spec.Name, ".service")
		names = append(names, p.Spec.Name)
		paths = append(paths, filepath.Join(dir, u))
		units = append(units, u)
	}
	var b strings.Builder
	if ps[0].Meta != nil {
		b.WriteString("tpm-stop " + strings.Join(names, " ") + " && ")
	}
	fmt.Fprintf(&b, "%s link %s && %s enable --now %s", ctl, strings.Join(paths, " "), ctl, strings.Join(units, " "))
	return b.String()
}

func nomad(e *cli.Env, g *grammar, ps []*export.Process) error {
	o := export.JobOptions{ID: g.Job, Datacenters: g.Datacenter, Driver: g.Driver, DynamicPorts: g.DynamicPorts}
	if len(o.Datacenters) == 0 {
		o.Datacenters = []string{"*"}
	}
	if o.ID == "" {
		o.ID = "tpm"
		if gs := export.Groups(ps); len(gs) == 1 {
			o.ID = gs[0].Name
		}
	}
	job, warnings, err := export.NomadJob(ps, o)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		e.Warnf("%s", w)
	}
	data, err := export.EncodeJob(job)
	if err != nil {
		return err
	}
	dir, err := outDir(g.Write)
	if err != nil {
		return err
	}
	if dir == "" {
		return emit(e, []file{{data: data}})
	}
	// It holds the environment, secrets included.
	path := filepath.Join(dir, o.ID+".nomad.json")
	if err := emit(e, []file{{path, data, 0o600}}); err != nil {
		return err
	}
	e.Warnf("hint: nomad job run -json %s (or POST it to /v1/jobs)", path)
	return nil
}

// outDir returns DIR made absolute (a unit names its environment file by
// an absolute path), created when missing; "" when printing.
func outDir(dir string) (string, error) {
	if dir == "" {
		return "", nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", exit.With(exit.CantCreate, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", exit.With(writeCode(err), fmt.Errorf("--write: %w", err))
	}
	return abs, nil
}

// emit prints the files (a blank line between two), or writes them, each
// atomically, after checking that none would replace a file tpm-export did
// not write.
func emit(e *cli.Env, files []file) error {
	if len(files) > 0 && files[0].path == "" {
		for i, f := range files {
			if i > 0 {
				fmt.Fprintln(e.Stdout)
			}
			if _, err := e.Stdout.Write(f.data); err != nil {
				return err
			}
		}
		return nil
	}
	for _, f := range files {
		if err := ours(f.path); err != nil {
			return err
		}
	}
	for _, f := range files {
		if err := export.WriteFile(f.path, f.data, f.mode); err != nil {
			return exit.With(writeCode(err), err)
		}
		fmt.Fprintln(e.Stdout, f.path)
	}
	return nil
}

// ours refuses to replace a file that tpm-export did not write: a unit
// named like a process (nginx.service) may be the system's own.
func ours(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return exit.With(writeCode(err), err)
	}
	defer f.Close()
	data, _ := io.ReadAll(io.LimitReader(f, 1<<20))
	first, _, _ := bytes.Cut(data, []byte("\n"))
	mine := bytes.Contains(first, []byte(export.Marker))
	if strings.HasSuffix(path, ".json") {
		mine = bytes.Contains(data, []byte(`"exported_by": "tpm-export"`))
	}
	if !mine {
		return cli.WithHint(exit.Errorf(exit.CantCreate, "%s exists and was not written by tpm-export: not replacing it", path),
			"remove it, or give another --write folder")
	}
	return nil
}

func writeCode(err error) int {
	if errors.Is(err, fs.ErrPermission) {
		return exit.NoPerm
	}
	return exit.CantCreate
}
