package stopcmd

import "github.com/tetra-toolkit/tpm/lib/cli"

// tpm-stop --host: tpm-stop runs on every host at once (lib/remote) with
// the same arguments; each line it prints comes back as "HOST: NAME
// stopped", a host's errors as "tpm-stop: HOST: message", and the exit
// code is the worst.

// onHosts runs tpm-stop on the hosts of --host or TPM_HOSTS; done is false
// when there are none (this machine alone).
func onHosts(e *cli.Env, g *grammar) (done bool, err error) {
	hosts, err := g.Hosts()
	if hosts == nil || err != nil {
		return err != nil, err
	}
	return true, e.OnHosts(hosts, cli.RemoteArgs(e.Name, e.Args))
}
