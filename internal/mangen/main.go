// Mangen writes tpm's man pages: tpm-VERB(1) for each binary of cmd/, built
// from the flag parser's own model of the command (kong's grammar and the
// description --help prints), and tpm(7) for the whole, from tpm.7.txt.
// So a page cannot drift from --help: change a flag's help and regenerate.
//
// Usage, from the root of the repository:
//
//	go run ./internal/mangen [-dir man]
//
// It writes man/man1/tpm-*.1 and man/man7/tpm.7, removes the page of a
// binary that is gone, and prints the path of each file it changed. The
// test of this package fails while the pages in the tree are not what it
// would write. A new binary needs one line in commands.go (and a Model
// function beside its Main).
package main

//go:generate go run . -dir ../../man

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

func main() {
	dir := flag.String("dir", "", "the folder to write man1/ and man7/ into (default: man/ at the module's root)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "mangen: no arguments expected (usage: go run ./internal/mangen [-dir DIR])")
		os.Exit(64)
	}
	if *dir == "" {
		root, err := moduleRoot()
		if err != nil {
			fmt.Fprintf(os.Stderr, "mangen: %v\n", err)
			os.Exit(1)
		}
		*dir = filepath.Join(root, "man")
	}
	changed, err := generate(*dir)
	wd, _ := os.Getwd()
	for _, c := range changed {
		if rel, err := filepath.Rel(wd, c); err == nil && !strings.HasPrefix(rel, "..") {
			c = rel
		}
		fmt.Println(c)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "mangen: %v\n", err)
		os.Exit(1)
	}
}

// moduleRoot is the nearest folder up from the current one that holds
// go.mod: go run and go generate may run from anywhere in the module.
func moduleRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		up := filepath.Dir(d)
		if up == d {
			return "", errors.New("no go.mod here or above: run it from the repository")
		}
		d = up
	}
}

// pages returns every page by its path under the man folder.
func pages() (map[string][]byte, error) {
	names := make([]string, 0, len(commands))
	for _, c := range commands {
		names = append(names, c.name)
	}
	slices.Sort(names)
	out := map[string][]byte{}
	for _, c := range commands {
		data, err := commandPage(c, names)
		if err != nil {
			return nil, err
		}
		out[filepath.Join("man1", c.name+".1")] = data
	}
	data, err := overviewPage(names)
	if err != nil {
		return nil, err
	}
	out[filepath.Join("man7", "tpm.7")] = data
	return out, nil
}

// generate writes the pages under dir, removes pages of tpm's that it no
// longer makes, and returns the paths it changed. A file already holding
// what it should is left alone (its time too).
func generate(dir string) (changed []string, err error) {
	all, err := pages()
	if err != nil {
		return nil, err
	}
	paths := make([]string, 0, len(all))
	for p := range all {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		full := filepath.Join(dir, p)
		if old, err := os.ReadFile(full); err == nil && bytes.Equal(old, all[p]) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return changed, err
		}
		if err := os.WriteFile(full, all[p], 0o644); err != nil {
			return changed, err
		}
		changed = append(changed, full)
	}
	old, err := ours(dir)
	if err != nil {
		return changed, err
	}
	for _, p := range old {
		if _, ok := all[p]; !ok {
			if err := os.Remove(filepath.Join(dir, p)); err != nil {
				return changed, err
			}
			changed = append(changed, filepath.Join(dir, p))
		}
	}
	return changed, nil
}

// ours lists the pages under dir that this generator makes or made: tpm's
// own, by name, so that a page put there by hand for something else stays.
func ours(dir string) ([]string, error) {
	var out []string
	for _, pat := range []string{"man1/tpm-*.1", "man7/tpm.7"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			return nil, err
		}
		for _, f := range m {
			rel, err := filepath.Rel(dir, f)
			if err != nil {
				return nil, err
			}
			out = append(out, rel)
		}
	}
	if _, err := os.Stat(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	slices.Sort(out)
	return out, nil
}
