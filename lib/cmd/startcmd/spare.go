package startcmd

import "github.com/tetra-toolkit/tpm/lib/spare"

// A Go program takes a few milliseconds to come up, most of a start's time:
// tpm-start starts the first spare supervisor before it parses its flags,
// and the next one while the current one starts its program, so that each
// comes up in parallel with tpm-start's own work (see package spare).

// spares holds the one spare started and not yet used. tpm-start runs once
// per process, so it is the package's own.
var spares struct {
	next *spare.Spare
	err  error // why the last one could not be started
}

// primeSpare starts a spare, unless one is waiting already.
func primeSpare() {
	if spares.next == nil && spares.err == nil {
		spares.next, spares.err = spare.Start()
	}
}

// takeSpare returns the waiting spare, or starts one.
func takeSpare() (*spare.Spare, error) {
	primeSpare()
	s, err := spares.next, spares.err
	spares.next, spares.err = nil, nil
	return s, err
}

// discardSpare ends a spare nobody needed, so that nothing is left running
// when tpm-start returns.
func discardSpare() {
	if s := spares.next; s != nil {
		spares.next = nil
		s.Discard()
	}
}
