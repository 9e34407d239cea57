package startcmd

// The models of the three commands of this package: what each parses its
// arguments with (a new zero grammar) and the description its --help
// prints. The man page generator (internal/mangen) builds tpm-start(1),
// tpm-restart(1) and tpm-reload(1) from them, so that a page and --help
// cannot say different things.

// Model is tpm-start's.
func Model() (any, string) { return &grammar{}, description }

// RestartModel is tpm-restart's.
func RestartModel() (any, string) { return &restartGrammar{}, restartDescription }

// ReloadModel is tpm-reload's.
func ReloadModel() (any, string) { return &reloadGrammar{}, reloadDescription }
