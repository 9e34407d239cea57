package startcmd

import (
	"strings"

	"github.com/alecthomas/kong"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/meta"
	"github.com/tetra-toolkit/tpm/lib/spec"
)

// watchFlag is --watch[=PATHS]: bare, the working folder.
type watchFlag struct {
	On    bool
	Paths string
}

func (w *watchFlag) Decode(ctx *kong.DecodeContext) error {
	w.On, w.Paths = true, "."
	if ctx.Scan.Peek().Type != kong.FlagValueToken {
		return nil
	}
	w.Paths = ctx.Scan.Pop().String()
	return nil
}

func (w *watchFlag) IsBool() bool { return true }

// policy applies the policy flags (SPEC §12) to s, checked as the record's
// fields are: the rule is the spec's, in one place.
func (g *grammar) policy(s *spec.Spec) error {
	m := &meta.Meta{}
	s.Apply(m)
	if s.Script == "" {
		m.Set("script", "-") // flags checked before there is a program (tpm-restart)
	}
	set := func(k, v string) {
		if v != "" {
			m.Set(k, v)
		}
	}
	if g.MaxMemory != "" {
		n, err := spec.ParseSize(g.MaxMemory)
		if err != nil || n < 1 {
			return cli.Usagef("--max-memory %q: want a size such as 300M", g.MaxMemory)
		}
		m.SetInt(spec.KeyMaxMemory, n)
	}
	set(spec.KeyCronRestart, g.CronRestart)
	if g.Watch.On {
		set(spec.KeyWatch, g.Watch.Paths)
	}
	set(spec.KeyWatchIgnore, g.WatchIgnore)
	// Written out here too: applying s above leaves out a delay or a count
	// at its default, or with its policy not (yet) set.
	set(spec.KeyWatchDelay, g.WatchDelay)
	set(spec.KeyHealthEvery, g.HealthEvery)
	set(spec.KeyHealthFails, g.HealthFails)
	set(spec.KeyHealthHTTP, g.HealthHTTP)
	set(spec.KeyHealthCmd, g.HealthCmd)
	set(spec.KeyWaitLog, g.WaitLog)
	set(spec.KeyOnEvent, g.OnEvent)
	n, err := spec.FromMeta(s.Name, m)
	if err != nil {
		return cli.Usagef("%s", strings.ReplaceAll(err.Error(), "_", "-"))
	}
	s.Policy = n.Policy
	return nil
}
