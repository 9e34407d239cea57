// Package ecocmd is tpm-ecosystem: it reads a PM2 ecosystem file, or PM2's
// saved process list (dump.pm2), without Node.js and prints its apps,
// normalized and validated, as JSON.
//
// tpm-start runs it for an ecosystem file, so that the JavaScript engine is
// loaded only when a config needs it; a person can run it to see what tpm
// makes of a config before starting anything.
package ecocmd

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/ecosystem"
	"github.com/tetra-toolkit/tpm/lib/spec"
)

type grammar struct {
	Env    string `placeholder:"ENVNAME" help:"Merge env_ENVNAME over env."`
	Only   string `placeholder:"A,B" help:"Keep only these apps."`
	Config string `arg:"" name:"CONFIG" help:"An ecosystem file (.config.js, .cjs, .mjs, .json, .yaml or .yml), or PM2's saved process list (~/.pm2/dump.pm2)."`
}

const description = `Read a PM2 ecosystem file without Node.js and print its apps as JSON: what
tpm-start would start, after --env and --only. JavaScript configs are evaluated
by an embedded engine, bounded in time and memory; console output of the config
goes to stderr.

A PM2 dump (dump.pm2, written by pm2 save; or the output of pm2 jlist in a .json
file) gives one app per process, as an ecosystem file would: PM2's own fields
and variables left out, the instances of a name folded into one app, and the
processes PM2 had stopped left out (--only NAME keeps one).

The policy fields (PM2's max_memory_restart, cron_restart, watch, ignore_watch,
watch_delay; tpm's health_http, health_cmd, health_every, health_fails,
wait_log, depends_on, on_event) come out under "policy" as record keys, checked
as tpm-meta checks them; depends_on must name apps of the file, without a cycle,
whatever --only keeps.

Exit codes: 0 ok, 64 usage, 65 the file does not parse or an app is invalid
(a bad policy value, an unknown depends_on name, a cycle), 66 no such file or
app.`

// Main runs tpm-ecosystem and returns its exit status.
func Main(e *cli.Env) int {
	var g grammar
	return e.Run(&g, description, func() error { return run(e, &g) })
}

func run(e *cli.Env, g *grammar) error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	opt := ecosystem.Options{Env: os.Environ(), Cwd: wd, EnvName: g.Env, Console: e.Stderr}
	if g.Only != "" {
		for _, n := range strings.Split(g.Only, ",") {
			if n = strings.TrimSpace(n); n != "" {
				opt.Only = append(opt.Only, n)
			}
		}
	}
	cfg, err := ecosystem.Load(g.Config, opt)
	if err != nil {
		return err
	}
	out := spec.Ecosystem{Path: cfg.Path, Warnings: cfg.Warnings, EnvSet: cfg.EnvSet, EnvUnset: cfg.EnvUnset}
	for _, a := range cfg.Apps {
		out.Apps = append(out.Apps, wire(a))
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.Stdout, "%s\n", b)
	return err
}

func wire(a ecosystem.App) spec.App {
	dur := func(d *time.Duration) string {
		if d == nil {
			return ""
		}
		return spec.FormatDuration(*d)
	}
	return spec.App{
		Index: a.Index, Name: a.Name, Script: a.Script, Args: a.Args, Interpreter: a.Interpreter,
		InterpreterArgs: a.InterpreterArgs, Cwd: a.Cwd, Instances: a.Instances, Env: a.Env, NodeEnv: a.NodeEnv,
		IncrementVar: a.IncrementVar, Autorestart: a.Autorestart, MaxRestarts: a.MaxRestarts,
		MinUptime: dur(a.MinUptime), RestartDelay: dur(a.RestartDelay), ExpBackoff: dur(a.ExpBackoff),
		StopExitCodes: a.StopExitCodes, KillTimeout: dur(a.KillTimeout), Signal: a.Signal, ClusterMode: a.ClusterMode,
		Listen: a.Listen, Policy: a.Policy,
	}
}
