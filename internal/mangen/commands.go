package main

import (
	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/cmd/cleancmd"
	"github.com/tetra-toolkit/tpm/lib/cmd/ecocmd"
	"github.com/tetra-toolkit/tpm/lib/cmd/exportcmd"
	"github.com/tetra-toolkit/tpm/lib/cmd/logcmd"
	"github.com/tetra-toolkit/tpm/lib/cmd/lscmd"
	"github.com/tetra-toolkit/tpm/lib/cmd/metacmd"
	"github.com/tetra-toolkit/tpm/lib/cmd/servecmd"
	"github.com/tetra-toolkit/tpm/lib/cmd/startcmd"
	"github.com/tetra-toolkit/tpm/lib/cmd/startupcmd"
	"github.com/tetra-toolkit/tpm/lib/cmd/stopcmd"
	"github.com/tetra-toolkit/tpm/lib/cmd/upgradecmd"
	"github.com/tetra-toolkit/tpm/lib/supervise"
)

// commands has one line per binary in cmd/: its name, the Model its package
// exports (the grammar and description it parses with), and its Main, which
// the tests run with --help to prove that Model is what Main parses with.
// A binary of cmd/ missing here fails TestEveryBinaryHasAPage.
var commands = []command{
	{"tpm-clean", cleancmd.Model, cleancmd.Main},
	{"tpm-ecosystem", ecocmd.Model, ecocmd.Main},
	{"tpm-export", exportcmd.Model, exportcmd.Main},
	{"tpm-log", logcmd.Model, logcmd.Main},
	{"tpm-ls", lscmd.Model, lscmd.Main},
	{"tpm-meta", metacmd.Model, metacmd.Main},
	{"tpm-reload", startcmd.ReloadModel, startcmd.ReloadMain},
	{"tpm-restart", startcmd.RestartModel, startcmd.RestartMain},
	{"tpm-serve", servecmd.Model, servecmd.Main},
	{"tpm-start", startcmd.Model, startcmd.Main},
	{"tpm-startup", startupcmd.Model, startupcmd.Main},
	{"tpm-stop", stopcmd.Model, stopcmd.Main},
	{"tpm-supervise", supervise.Model, nil}, // no flag parser, so no --help
	{"tpm-upgrade", upgradecmd.Model, upgradecmd.Main},
}

type command struct {
	name  string
	model func() (grammar any, description string)
	main  func(*cli.Env) int // nil: the binary has no --help
}
