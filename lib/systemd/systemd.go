// Package systemd writes what systemd reads: unit names, the words of an
// ExecStart= line, Environment= assignments, environment files and time
// spans, each quoted by the rules of systemd.syntax(7) and systemd.exec(5),
// so that a path or value with spaces, quotes, '%' or '$' comes back as the
// same string in the program.
//
// Three syntaxes differ, and each helper writes one:
//   - command lines (ExecStart=) expand $VAR and ${VAR} and specifiers (%n),
//     and take C escapes inside quotes: $ is written $$, % is %%;
//   - other unit settings (Environment=, WorkingDirectory=) expand
//     specifiers but not variables: % is %%;
//   - environment files (EnvironmentFile=) expand nothing, and read
//     "double quoted" values with \" \\ \` \$ escapes, as a POSIX shell does.
package systemd

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// UnitName returns the unit name for a tpm process name and a suffix
// (".service"): tpm names may hold '@' and '+', which unit names may not
// ('@' marks a template instance), so they are escaped as systemd-escape
// does, \x40 and \x2b.
func UnitName(name, suffix string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if unitByte(c) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, `\x%02x`, c)
		}
	}
	return b.String() + suffix
}

func unitByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return c == ':' || c == '_' || c == '.' || c == '-'
}

// MaxUnitName is the longest unit name systemd accepts.
const MaxUnitName = 255

// ExecWord quotes one word of a command line: bare when it is made of bytes
// that mean nothing to systemd, in double quotes with C escapes otherwise.
// A lone ";" (which separated commands in older versions) is quoted too.
func ExecWord(w string) string {
	return word(w, true)
}

// ExecLine joins the words of a command line.
func ExecLine(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = ExecWord(w)
	}
	return strings.Join(q, " ")
}

// Assignment quotes a NAME=VALUE assignment for Environment=.
func Assignment(name, value string) string {
	return word(name+"="+value, false)
}

// Setting escapes the value of a setting that takes the rest of its line
// as it is (WorkingDirectory=, EnvironmentFile=, Description=): only
// specifiers are expanded there. A value with a newline cannot be written.
func Setting(v string) (string, error) {
	if strings.ContainsAny(v, "\n\r") {
		return "", fmt.Errorf("%q: a unit setting cannot hold a line break", v)
	}
	if strings.TrimSpace(v) != v {
		return "", fmt.Errorf("%q: systemd drops white space around a setting", v)
	}
	return strings.ReplaceAll(v, "%", "%%"), nil
}

func word(w string, exec bool) string {
	if w != "" && w != ";" && bareWord(w) {
		return w
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(w); {
		r, size := utf8.DecodeRuneInString(w[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, w[i])
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '%':
			b.WriteString("%%")
		case r == '$' && exec:
			b.WriteString("$$")
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	b.WriteByte('"')
	return b.String()
}

// bareWord reports whether w can stand unquoted in a unit file. '$' and
// '%' are left for the quoted form, which escapes them.
func bareWord(w string) bool {
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("/._+:,=@-", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// EnvFile writes an environment file as systemd reads it: a header of
// comment lines, then NAME="VALUE" per entry in the order given. Values are
// double-quoted with \ " ` $ escaped, the form systemd writes itself and a
// POSIX shell reads alike; a newline stays inside the quotes. Entries whose
// name systemd would refuse are returned in skipped and left out.
func EnvFile(header []string, env []string) (data []byte, skipped []string) {
	var b strings.Builder
	for _, h := range header {
		b.WriteString("# ")
		b.WriteString(h)
		b.WriteByte('\n')
	}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if !EnvName(k) || !utf8.ValidString(v) {
			skipped = append(skipped, k)
			continue
		}
		b.WriteString(k)
		b.WriteString(`="`)
		for i := 0; i < len(v); i++ {
			if strings.IndexByte("\\\"`$", v[i]) >= 0 {
				b.WriteByte('\\')
			}
			b.WriteByte(v[i])
		}
		b.WriteString("\"\n")
	}
	return []byte(b.String()), skipped
}

// EnvName reports whether systemd takes k as a variable name: a letter or
// '_' first, then letters, digits and '_' (what a shell can assign).
func EnvName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// Span writes a duration as a systemd time span in one unit ("10s",
// "100ms", "250us"), which every version reads the same way.
func Span(d time.Duration) string {
	switch {
	case d <= 0:
		return "0"
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	case d%time.Millisecond == 0:
		return strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
	}
	return strconv.FormatInt(int64((d+time.Microsecond-1)/time.Microsecond), 10) + "us"
}
