// Tpm-startup installs what starts tpm's processes again at boot or login:
// a systemd unit, a launchd agent, or an @reboot line in the crontab, each
// running tpm-start --stale.
//
// Usage:
//
//	tpm-startup [--systemd|--launchd|--cron] [--user|--system] [--print|--remove]
//
// See tpm-startup --help and the README.
package main

import (
	"os"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/cmd/startupcmd"
)

func main() { os.Exit(startupcmd.Main(cli.Std("tpm-startup"))) }
