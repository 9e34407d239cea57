// Package exit holds tpm's one table of exit codes (SPEC §10, after sysexits.h)
// and the error type that carries a code up to main.
//
// Library code returns errors; only a command's main turns one into an exit
// status. An error that does not carry a code is a plain failure (1).
package exit

import (
	"errors"
	"fmt"
)

// The exit codes of every tpm command.
const (
	OK          = 0  // success
	Failure     = 1  // the operation failed: not ready, already running, a stop failed
	Usage       = 64 // bad flag or arguments
	DataErr     = 65 // malformed meta, bad name, unparsable ecosystem file, no PORT
	NoInput     = 66 // no such process, script or file
	Unavailable = 69 // a resource is unavailable (the PORT is taken)
	CantCreate  = 73 // the state tree cannot be created or written
	TempFail    = 75 // another tpm command holds the lock; retry later
	NoPerm      = 77 // permission denied
)

// Error is an error with an exit code. It satisfies kong's ExitCoder.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// ExitCode implements kong.ExitCoder.
func (e *Error) ExitCode() int { return e.Code }

// Errorf formats an error that exits with code.
func Errorf(code int, format string, args ...any) error {
	return &Error{Code: code, Err: fmt.Errorf(format, args...)}
}

// With gives err the exit code code, unless err is nil.
func With(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}

// Code is the exit status for err: 0 for nil, the carried code when there is
// one (the outermost wins), and 1 otherwise.
func Code(err error) int {
	if err == nil {
		return OK
	}
	var c interface{ ExitCode() int }
	if errors.As(err, &c) {
		return c.ExitCode()
	}
	return Failure
}
