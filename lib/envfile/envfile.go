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
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"syscall"

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
	if line, ok := nul(data); ok {
		return nil, fmt.Errorf("line %d: %s", line, errNUL)
	}
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

// Read reads a snapshot file. It lives in the state tree, written by tpm:
// it must be a regular file, reached without a symbolic link, and no
// larger than MaxSnapshot.
func Read(path string) ([]string, error) {
	data, err := readFile(path, MaxSnapshot, false)
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
	// exec cannot pass a NUL byte (the kernel would cut the value short, Go
	// refuses with "invalid argument"): refuse the file here, by its line.
	if line, ok := nul(data); ok {
		return nil, fmt.Errorf("line %d: %s", line, errNUL)
	}
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

// ReadDotenv reads a dotenv file the user named (--env-file): a regular
// file, through symbolic links as any tool follows them, or a pipe reached
// through a descriptor link (bash's <(...), /dev/stdin); no larger than
// MaxDotenv.
func ReadDotenv(path string) ([]string, error) {
	data, err := readFile(path, MaxDotenv, true)
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

// errNUL says why a line with a NUL byte is refused.
var errNUL = errors.New("holds a NUL byte, which no environment variable can carry")

// nul returns the line number of the first NUL byte in data.
func nul(data []byte) (int, bool) {
	i := bytes.IndexByte(data, 0)
	if i < 0 {
		return 0, false
	}
	return bytes.Count(data[:i], []byte{'\n'}) + 1, true
}

// Bounds on what is read. No environment is larger: Linux takes arguments
// and environment together up to a quarter of the stack limit (2 MiB with
// the usual 8 MiB), and a snapshot quotes what it holds. They only keep a
// mistaken path (a log, a disk image) from filling memory.
const (
	MaxDotenv   = 1 << 20
	MaxSnapshot = 8 << 20
)

// NotRegularError is returned for a path that names something other than
// a file tpm reads: a named pipe (opening one blocks until a writer comes,
// and none may), a folder, a device (/dev/zero never ends), a socket, or a
// symbolic link where none is followed.
type NotRegularError struct {
	Path string
	What string // "a named pipe", "a folder", ...
}

func (e *NotRegularError) Error() string { return e.Path + ": " + e.What + ", not a regular file" }

// readFile reads at most limit bytes of a regular file. O_NONBLOCK keeps the
// open itself from waiting on a FIFO; O_NOFOLLOW (unless follow) refuses a
// symbolic link in place of the file. With follow, a pipe is read too when
// the path reaches it through a link, as /dev/stdin and bash's <(...) do:
// someone is writing it, as opposed to a FIFO named by its own path.
func readFile(path string, limit int64, follow bool) ([]byte, error) {
	flags := os.O_RDONLY | syscall.O_NONBLOCK | syscall.O_NOCTTY
	if !follow {
		flags |= syscall.O_NOFOLLOW
	}
	f, err := os.OpenFile(path, flags, 0)
	if err != nil {
		var pe *fs.PathError
		if !follow && errors.Is(err, syscall.ELOOP) {
			return nil, &NotRegularError{path, "a symbolic link"}
		}
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	switch mode := fi.Mode(); {
	case mode.IsRegular():
	case follow && mode&fs.ModeNamedPipe != 0 && throughLink(path):
		// Blocking reads from here: the writer may take its time, as with
		// cat. (Go polls a FIFO on Linux but not on macOS.)
		syscall.SetNonblock(int(f.Fd()), false)
	default:
		return nil, &NotRegularError{path, kind(mode)}
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %s", path, sizeText(limit))
	}
	return data, nil
}

// throughLink reports whether path reaches its file through a link of its
// own (/dev/stdin, /proc/self/fd/N), or is a descriptor path (/dev/fd/N is
// no link on macOS).
func throughLink(path string) bool {
	if strings.HasPrefix(path, "/dev/fd/") {
		return true
	}
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode()&fs.ModeSymlink != 0
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "a special file"
}

func sizeText(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
