package stopcmd

// Model returns what tpm-stop parses its arguments with: a new zero grammar and
// the description its --help prints. The man page generator
// (internal/mangen) builds tpm-stop(1) from them, so that the page and --help
// cannot say different things.
func Model() (any, string) { return &grammar{}, description }
