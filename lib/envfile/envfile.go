// Package envfile reads and writes environments: the NAME.env snapshot a
// program is started and restarted with, and dotenv files (--env-file,
// require('dotenv') in ecosystem files).
//
// A snapshot holds one variable per line, NAME=VALUE, with the value quoted
// as in the meta line (single quotes when needed), so that `set -a; . NAME.env`
// loads it in a shell. A value with a newline keeps it inside its quotes.
package envfile

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/tetra-toolkit/tpm/lib/meta"
)

// Format writes env (NAME=VALUE entries) as a snapshot, sorted by name.
func Format(env []string) []byte {
	sorted := slices.Clone(env)
	slices.Sort(sorted)
	var b bytes.Buffer
	for _, kv := range sorted {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		if identifier(k) {
			b.WriteString(k)
			b.WriteByte('=')
			b.WriteString(meta.Quote(v))
		} else {
			// A name a shell cannot assign (bash's exported functions,
			// BASH_FUNC_f%%): quoted whole, so that sourcing the file cannot
			// run it as anything but an unknown command.
			b.WriteString(meta.Quote(kv))
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func identifier(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Parse reads a snapshot back into NAME=VALUE entries.
func Parse(data []byte) ([]string, error) {
	words, err := meta.SplitWords(string(data))
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(words))
	for _, w := range words {
		if k, _, ok := strings.Cut(w, "="); !ok || k == "" {
			return nil, fmt.Errorf("entry %q is not NAME=VALUE", w)
		}
		out = append(out, w)
	}
	return out, nil
}

// Read reads a snapshot file.
func Read(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	env, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return env, nil
}

// Set returns env with NAME=value set, replacing every earlier NAME.
func Set(env []string, name, value string) []string {
	return append(Unset(env, name), name+"="+value)
}

// Get returns the value of name in env (the last one wins, as for exec).
func Get(env []string, name string) (string, bool) {
	prefix := name + "="
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], prefix); ok {
			return v, true
		}
	}
	return "", false
}

// Merge returns base with every entry of over set on top, in order.
func Merge(base []string, over ...string) []string {
	out := slices.Clone(base)
	for _, kv := range over {
		k, v, _ := strings.Cut(kv, "=")
		out = Set(out, k, v)
	}
	return out
}

// Dotenv parses a dotenv file: KEY=VALUE lines, optionally after export;
// # starts a comment line (or, after a blank, a comment at the end of an
// unquoted value); 'single' quotes are literal, "double" quotes take \n, \t,
// \" and \\ and may span lines; unquoted values are trimmed. No variable is
// expanded. It returns the entries in file order.
func Dotenv(data []byte) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '#' {
			continue
		}
		if rest, ok := strings.CutPrefix(s, "export "); ok {
			s = strings.TrimSpace(rest)
		}
		k, v, ok := strings.Cut(s, "=")
		k = strings.TrimSpace(k)
		if !ok || !identifier(k) {
			return nil, fmt.Errorf("line %d: want KEY=VALUE, got %q", line, truncate(s))
		}
		v = strings.TrimLeft(v, " \t")
		start := line
		switch {
		case strings.HasPrefix(v, `"`) || strings.HasPrefix(v, `'`):
			q := v[0]
			body := v[1:]
			for {
				if end := closing(body, q); end >= 0 {
					if q == '"' {
						body = unescape(body[:end])
					} else {
						body = body[:end]
					}
					v = body
					break
				}
				if !sc.Scan() {
					return nil, fmt.Errorf("line %d: unterminated %c quote", start, q)
				}
				line++
				body += "\n" + sc.Text()
			}
		default:
			if i := strings.Index(v, " #"); i >= 0 {
				v = v[:i]
			}
			v = strings.TrimSpace(v)
		}
		out = append(out, k+"="+v)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// closing finds the quote q that ends body; a double quote may be escaped.
func closing(body string, q byte) int {
	for i := 0; i < len(body); i++ {
		if q == '"' && body[i] == '\\' {
			i++
			continue
		}
		if body[i] == q {
			return i
		}
	}
	return -1
}

func unescape(s string) string {
	r := strings.NewReplacer(`\n`, "\n", `\t`, "\t", `\r`, "\r", `\"`, `"`, `\\`, `\`)
	return r.Replace(s)
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// ReadDotenv reads a dotenv file.
func ReadDotenv(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	env, err := Dotenv(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return env, nil
}

// Unset returns env without name.
func Unset(env []string, name string) []string {
	prefix := name + "="
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, prefix) })
}
