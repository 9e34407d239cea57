package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/names"
	"github.com/tetra-toolkit/tpm/lib/state"
)

// Resolve turns NAME and PATTERN arguments into known process names, in the
// order given, each once. A pattern is a shell glob matched against the names
// of the tree; one that matches nothing is an error (66), as is an unknown
// plain name. A plain argument that cannot be a name is a data error (65).
func Resolve(t *state.Tree, args []string) ([]string, error) {
	var known []string
	var loaded bool
	var out []string
	for _, a := range args {
		if names.IsPattern(a) {
			if !loaded {
				var err error
				if known, err = t.Names(); err != nil {
					return nil, err
				}
				loaded = true
			}
			n := 0
			for _, k := range known {
				if names.Match(a, k) {
					n++
					if !slices.Contains(out, k) {
						out = append(out, k)
					}
				}
			}
			if n == 0 {
				return nil, exit.Errorf(exit.NoInput, "no process matches %q", a)
			}
			continue
		}
		if err := names.Check(a); err != nil {
			return nil, exit.With(exit.DataErr, err)
		}
		if err := exists(t, a); err != nil {
			return nil, err
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out, nil
}

// exists says whether name has a meta file: nil when it has, the error for
// "no process" (66) when it has not, and a folder that cannot be read is a
// permission error (77), never "no process".
func exists(t *state.Tree, name string) error {
	_, err := os.Lstat(t.Meta(name))
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return state.NoProcess(name)
	case errors.Is(err, fs.ErrPermission):
		return exit.With(exit.NoPerm, err)
	}
	return exit.With(exit.Failure, err)
}

// One resolves a single NAME or PATTERN that must name exactly one process.
func One(t *state.Tree, arg string) (string, error) {
	ns, err := Resolve(t, []string{arg})
	if err != nil {
		return "", err
	}
	if len(ns) != 1 {
		return "", exit.Errorf(exit.Usage, "%q matches %d processes (%s); give one name", arg, len(ns), fmt.Sprint(ns))
	}
	return ns[0], nil
}
