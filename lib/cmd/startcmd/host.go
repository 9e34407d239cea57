package startcmd

import (
	"strings"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/names"
	"github.com/tetra-toolkit/tpm/lib/spec"
)

// tpm-start NAME --host and tpm-restart --host: the command runs on every
// host at once (lib/remote) with the same arguments; each line it prints
// comes back as "HOST: NAME pid=PID ...", a host's errors as "tpm-start:
// HOST: message", and the exit code is the worst.
//
// Only known processes are started on hosts: a script path, an ecosystem
// file or --env-file would be read there while the user means the files
// here, and --update-env or --foreground would take the ssh session's
// environment or terminal. Those are refused before any ssh.

// onHosts runs tpm-start on the hosts of --host or TPM_HOSTS; done is false
// when there are none (this machine alone).
func onHosts(e *cli.Env, g *grammar) (done bool, err error) {
	hosts, err := g.Hosts()
	if hosts == nil || err != nil {
		return err != nil, err
	}
	switch {
	case g.Foreground:
		return true, hostUsage(g.HostFlag, "--foreground runs here only")
	case g.UpdateEnv || len(g.EnvFile) > 0:
		return true, hostUsage(g.HostFlag, "--update-env and --env-file take this machine's environment and files")
	case len(g.Target) == 0 && !g.Stale:
		return true, cli.WithHint(cli.Usagef("nothing to start"), "tpm-start --host HOST NAME...")
	}
	for _, t := range g.Target {
		if strings.HasPrefix(t, "-") {
			// After the first name, tpm-start reads no flags (the
			// arguments of a script would follow).
			return true, cli.Usagef("%q after a name: give tpm-start's flags before the names", t)
		}
		if !names.IsPattern(t) && !names.Valid(t) || spec.IsConfig(t) {
			return true, hostUsage(g.HostFlag, "--host starts known processes by NAME only, not %q (a script or file is read on each host)", t)
		}
	}
	return true, e.OnHosts(hosts, cli.RemoteArgs(e.Name, e.Args))
}

// onRestartHosts runs tpm-restart on the hosts of --host or TPM_HOSTS.
func onRestartHosts(e *cli.Env, rg *restartGrammar) (done bool, err error) {
	hosts, err := rg.Hosts()
	if hosts == nil || err != nil {
		return err != nil, err
	}
	if rg.UpdateEnv || len(rg.EnvFile) > 0 {
		return true, hostUsage(rg.HostFlag, "--update-env and --env-file take this machine's environment and files")
	}
	return true, e.OnHosts(hosts, cli.RemoteArgs(e.Name, e.Args))
}

// hostUsage is a usage error of --host, saying so when the hosts came from
// TPM_HOSTS (the user may not think of it).
func hostUsage(f cli.HostFlag, format string, args ...any) error {
	err := cli.Usagef(format, args...)
	if f.FromEnv() {
		return cli.WithHint(err, "the hosts come from TPM_HOSTS; --host local runs here")
	}
	return err
}
