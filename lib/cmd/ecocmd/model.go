package ecocmd

// Model returns what tpm-ecosystem parses its arguments with: a new zero grammar and
// the description its --help prints. The man page generator
// (internal/mangen) builds tpm-ecosystem(1) from them, so that the page and --help
// cannot say different things.
func Model() (any, string) { return &grammar{}, description }
