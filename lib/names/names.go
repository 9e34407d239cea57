// Package names derives and checks process names (SPEC §3).
//
// A name is {base}-{PORT}: base is the script's basename without its
// extension, or the --name given; with no port the suffix is left off.
// A name is 1 to 128 bytes of [A-Za-z0-9._@+-], never starts with '.' or '-',
// and is never "." or "..": it is a file name in three folders, and tpm's
// own files there start with a dot.
package names

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// MaxLen is the longest name tpm accepts.
const MaxLen = 128

// Check returns an error saying why s is not a valid process name.
func Check(s string) error {
	switch {
	case s == "":
		return errors.New("empty process name")
	case len(s) > MaxLen:
		return fmt.Errorf("process name %q is longer than %d characters", s[:20]+"...", MaxLen)
	case s == "." || s == "..":
		return fmt.Errorf("bad process name %q", s)
	case s[0] == '.' || s[0] == '-':
		return fmt.Errorf("bad process name %q: it may not start with %q", s, s[:1])
	}
	for i := 0; i < len(s); i++ {
		if !nameByte(s[i]) {
			return fmt.Errorf("bad process name %q: %q is not allowed (use letters, digits and . _ @ + -)", s, s[i:i+1])
		}
	}
	return nil
}

func nameByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return c == '.' || c == '_' || c == '@' || c == '+' || c == '-'
}

// Valid reports whether s is a valid process name.
func Valid(s string) bool { return Check(s) == nil }

// Base returns the base of a name for script: its basename without the
// extension (server.sh → server, api/backend.js → backend, app.test.js →
// app.test).
func Base(script string) string {
	b := filepath.Base(script)
	if ext := filepath.Ext(b); ext != "" && ext != b {
		b = strings.TrimSuffix(b, ext)
	}
	return b
}

// Join makes the name {base}-{port}, or base alone when port is 0.
func Join(base string, port int) string {
	if port == 0 {
		return base
	}
	return base + "-" + strconv.Itoa(port)
}

// Instance makes the name of instance i of name.
func Instance(name string, i int) string { return name + "-" + strconv.Itoa(i) }

// Spaced replaces runs of white space in an ecosystem app's name with '-'
// (real configs name apps "limit worker") and reports whether it did.
func Spaced(s string) (string, bool) {
	f := strings.Fields(s)
	out := strings.Join(f, "-")
	return out, out != s
}

// IsPattern reports whether s holds shell glob characters.
func IsPattern(s string) bool { return strings.ContainsAny(s, "*?[") }

// Match reports whether name matches the glob pattern (a plain name matches
// only itself). A malformed pattern matches nothing.
func Match(pattern, name string) bool {
	ok, err := path.Match(pattern, name)
	return err == nil && ok
}
