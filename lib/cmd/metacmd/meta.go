// Package metacmd is tpm-meta: it prints and sets the fields of a process's
// meta line.
//
// Usage:
//
//	tpm-meta NAME                         print the meta line, in canonical form
//	tpm-meta NAME KEY...                  print each value on its own line
//	tpm-meta NAME KEY=VALUE...            set fields, atomically
//	tpm-meta --json NAME                  the fields as a JSON object
//	tpm-meta --path NAME [meta|env|pid|out|err]   print file paths
//	tpm-meta --check FILE...              validate meta files
//
// The printed line is always formatted anew, never the file's bytes, so that
// eval "$(tpm-meta NAME)" is safe whatever a hand edit put in the file;
// --check also refuses a file whose bytes would not be safe to eval.
package metacmd

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/meta"
	"github.com/tetra-toolkit/tpm/lib/spec"
	"github.com/tetra-toolkit/tpm/lib/state"
)

type grammar struct {
	JSON  bool     `help:"Print the fields as a JSON object."`
	Path  bool     `help:"Print the paths of the process's files: all, or those named (meta, env, pid, out, err)."`
	Check bool     `help:"Validate meta FILEs; exit 65 naming each bad one."`
	Args  []string `arg:"" optional:"" name:"NAME [KEY|KEY=VALUE...]" help:"A process name (or a pattern matching one), then keys to print or key=value pairs to set."`
}

const description = `Print or set the fields of a process's meta line.

  tpm-meta NAME                  print the meta line, quoted so that eval of it is safe
  tpm-meta NAME KEY...           print each value on its own line (exit 1 if a key is missing)
  tpm-meta NAME KEY=VALUE...     set fields, atomically; other fields are kept
  tpm-meta --json NAME           the fields as a JSON object
  tpm-meta --path NAME [KIND...] print file paths (KIND: meta env pid out err)
  tpm-meta --check FILE...       validate meta files: well formed and safe to eval as they are

Exit codes: 0 ok, 1 a key is missing, 64 usage, 65 bad data, 66 no such process or file, 73 cannot write, 75 locked.`

// Main runs tpm-meta and returns its exit status.
func Main(e *cli.Env) int {
	var g grammar
	return e.Run(&g, description, func() error { return run(e, &g) })
}

func run(e *cli.Env, g *grammar) error {
	modes := 0
	for _, b := range []bool{g.JSON, g.Path, g.Check} {
		if b {
			modes++
		}
	}
	if modes > 1 {
		return cli.Usagef("--json, --path and --check go alone")
	}
	if g.Check {
		if len(g.Args) == 0 {
			return cli.Usagef("--check needs FILEs")
		}
		return check(e, g.Args)
	}
	if len(g.Args) == 0 {
		return cli.Usagef("missing NAME")
	}
	t, err := state.Open()
	if err != nil {
		return err
	}
	name, err := cli.One(t, g.Args[0])
	if err != nil {
		return err
	}
	rest := g.Args[1:]
	switch {
	case g.Path:
		return paths(e, t, name, rest)
	case g.JSON:
		if len(rest) > 0 {
			return cli.Usagef("--json takes only NAME")
		}
		m, err := t.ReadMeta(name)
		if err != nil {
			return err
		}
		var o cli.Object
		o.Meta(m)
		_, err = fmt.Fprintln(e.Stdout, o.String())
		return err
	case len(rest) == 0:
		return printLine(e, t, name)
	}
	sets := 0
	for _, a := range rest {
		if strings.Contains(a, "=") {
			sets++
		}
	}
	switch sets {
	case 0:
		return get(e, t, name, rest)
	case len(rest):
		return set(t, name, rest)
	}
	return cli.Usagef("either print KEYs or set KEY=VALUE pairs, not both")
}

// printLine prints the meta line of name in its canonical form, never the
// file's bytes: scripts eval it, and a file edited by hand may hold $(...) or
// a glob outside quotes. A reserved key cannot be quoted away, so such a line
// is refused; its values can still be read one by one or with --json.
func printLine(e *cli.Env, t *state.Tree, name string) error {
	m, err := t.ReadMeta(name)
	if err != nil {
		return err
	}
	for _, f := range m.Fields {
		if meta.Reserved(f.Key) {
			return exit.Errorf(exit.DataErr, "%s: key %q is not safe to eval: zsh reserves that name", t.Meta(name), f.Key)
		}
	}
	_, err = e.Stdout.Write(m.Format())
	return err
}

func get(e *cli.Env, t *state.Tree, name string, keys []string) error {
	m, err := t.ReadMeta(name)
	if err != nil {
		return err
	}
	var b strings.Builder
	var missing []string
	for _, k := range keys {
		v, ok := m.Get(k)
		if !ok {
			missing = append(missing, k)
		}
		b.WriteString(v)
		b.WriteByte('\n')
	}
	if _, err := fmt.Fprint(e.Stdout, b.String()); err != nil {
		return err
	}
	if len(missing) > 0 {
		return exit.Errorf(exit.Failure, "%s has no field %s", name, strings.Join(quoteAll(missing), ", "))
	}
	return nil
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

func set(t *state.Tree, name string, pairs []string) error {
	var fields []meta.Field
	for _, p := range pairs {
		k, v, _ := strings.Cut(p, "=")
		if err := meta.CheckKey(k); err != nil {
			return exit.With(exit.DataErr, err)
		}
		if err := meta.CheckValue(v); err != nil {
			return exit.With(exit.DataErr, fmt.Errorf("%s: %w", k, err))
		}
		fields = append(fields, meta.Field{Key: k, Value: v})
	}
	return t.EditMeta(name, func(m *meta.Meta) error {
		for _, f := range fields {
			m.Set(f.Key, f.Value)
		}
		if err := m.Validate(); err != nil {
			return exit.Errorf(exit.DataErr, "refused: %v", err)
		}
		// A policy field is checked as the supervisor will read it (it
		// takes the record's policy again at the program's next end).
		for _, f := range fields {
			if slices.Contains(spec.Keys, f.Key) {
				if _, err := spec.FromMeta(name, m); err != nil {
					return exit.Errorf(exit.DataErr, "refused: %v", err)
				}
				break
			}
		}
		return nil
	})
}

func paths(e *cli.Env, t *state.Tree, name string, kinds []string) error {
	if len(kinds) == 0 {
		kinds = []string{"meta", "env", "pid", "out", "err"}
	}
	var b strings.Builder
	for _, k := range kinds {
		p, ok := t.Path(name, k)
		if !ok {
			return cli.Usagef("unknown file kind %q: want meta, env, pid, out or err", k)
		}
		b.WriteString(p)
		b.WriteByte('\n')
	}
	_, err := fmt.Fprint(e.Stdout, b.String())
	return err
}

func check(e *cli.Env, files []string) error {
	code := exit.OK
	for _, f := range files {
		data, err := state.ReadFile(f, state.MaxMeta) // never a FIFO's wait, nor /dev/urandom's flood
		if err != nil {
			c := exit.Failure
			if errors.Is(err, os.ErrNotExist) {
				c = exit.NoInput
			}
			e.Warnf("%s: %v", f, errors.Unwrap(err))
			code = max(code, c)
			continue
		}
		// Parse and validate as every reader does, then ask what only
		// --check asks: would eval of these bytes be safe.
		_, err = state.ParseMetaFile(f, data)
		if err == nil {
			if err = meta.CheckLine(data); err != nil {
				err = fmt.Errorf("%s: %w", f, err)
			}
		}
		if err != nil {
			e.Warnf("%v", err)
			code = max(code, exit.DataErr)
		}
	}
	if code != exit.OK {
		return cli.Silent(code)
	}
	return nil
}
