// Package cli holds what every tpm command shares: flag parsing with kong,
// the one way errors are printed, name patterns, and terminal output.
//
// Output rules (after age's tui.go): stdout carries data only. Diagnostics go
// to stderr as "tpm-xxx: message", lower case, one line, no final period; a
// hint may follow as "tpm-xxx: hint: ...". Only a command's main exits.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/tetra-toolkit/tpm/lib/exit"
)

// Env is what a command runs with: its name, arguments and streams.
type Env struct {
	Name           string
	Args           []string
	Stdout, Stderr io.Writer
}

// Std returns the Env of the running process for the command name.
func Std(name string) *Env {
	return &Env{Name: name, Args: os.Args[1:], Stdout: os.Stdout, Stderr: os.Stderr}
}

// Warnf prints a warning line on stderr.
func (e *Env) Warnf(format string, args ...any) {
	fmt.Fprintf(e.Stderr, "%s: %s\n", e.Name, fmt.Sprintf(format, args...))
}

// Hint is an error that carries a hint line to print after it.
type Hint struct {
	Err  error
	Hint string
}

func (h *Hint) Error() string { return h.Err.Error() }
func (h *Hint) Unwrap() error { return h.Err }

// WithHint attaches a hint to err.
func WithHint(err error, format string, args ...any) error {
	return &Hint{Err: err, Hint: fmt.Sprintf(format, args...)}
}

// Report prints err (and its hint) the one way and returns the exit code.
func (e *Env) Report(err error) int {
	if err == nil {
		return exit.OK
	}
	if !errors.Is(err, errSilent) {
		msg := strings.ReplaceAll(err.Error(), "\n", " ")
		fmt.Fprintf(e.Stderr, "%s: %s\n", e.Name, msg)
		if hint := hintOf(err); hint != "" {
			fmt.Fprintf(e.Stderr, "%s: hint: %s\n", e.Name, hint)
		}
	}
	return exit.Code(err)
}

// hintOf returns the hint err carries: one attached with WithHint, or one
// a library error gives by a Hint method (state.TreeError), "" for none.
func hintOf(err error) string {
	var h *Hint
	if errors.As(err, &h) {
		return h.Hint
	}
	var lib interface{ Hint() string }
	if errors.As(err, &lib) {
		return lib.Hint()
	}
	return ""
}

// errSilent marks an error already reported in full.
var errSilent = errors.New("reported")

// Silent returns an error with exit code code that prints nothing more: the
// command has already said what went wrong.
func Silent(code int) error { return exit.With(code, errSilent) }

type exitPanic struct{ code int }

// Parse parses e.Args into cli (a kong grammar). It returns done=true when
// there is nothing left to do (help was printed) and an error with exit code
// 64 for bad usage.
func (e *Env) Parse(cli any, description string, opts ...kong.Option) (ctx *kong.Context, code int, done bool) {
	defer func() {
		if r := recover(); r != nil {
			p, ok := r.(exitPanic)
			if !ok {
				panic(r)
			}
			ctx, code, done = nil, p.code, true
		}
	}()
	opts = append([]kong.Option{
		kong.Name(e.Name),
		kong.Description(description),
		kong.Writers(e.Stdout, e.Stderr),
		kong.Exit(func(code int) { panic(exitPanic{code}) }),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true, NoExpandSubcommands: true}),
	}, opts...)
	parser, err := kong.New(cli, opts...)
	if err != nil {
		panic(err) // a grammar error is a bug
	}
	ctx, err = parser.Parse(e.Args)
	if err != nil {
		return nil, e.Report(WithHint(exit.With(exit.Usage, err), "see %s --help", e.Name)), true
	}
	return ctx, 0, false
}

// Run is a command's whole life: parse e.Args into grammar, run fn, report
// what went wrong, return the exit status.
func (e *Env) Run(grammar any, description string, fn func() error) int {
	if _, code, done := e.Parse(grammar, description); done {
		return code
	}
	return e.Report(fn())
}

// Usagef returns a usage error (64).
func Usagef(format string, args ...any) error {
	return exit.Errorf(exit.Usage, format, args...)
}
