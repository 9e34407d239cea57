package meta

import (
	"fmt"
	"strings"
)

// The policy of CheckLine: scripts read a meta file with
// eval "$(cat NAME.meta)", so a file is good only when bash and zsh, reading
// its bytes as they are, set exactly the values Parse reads and do nothing
// else. tpm's own lines pass (Format writes safe bytes bare and everything
// else in single quotes), and so do the plain lines the older bash TPM wrote
// (bare paths and numbers, single-quoted paths); a line edited by hand to
// hold $(...), backticks, a glob or a ';' outside quotes does not, even
// though tpm-ls still reads it. Each value is a run of:
//   - bare bytes of the safe set of SPEC §2, where '=' may not come first nor
//     after ':' (zsh turns =cmd into a path there);
//   - single-quoted text, anything but a quote;
//   - \' (the quote inside a quoted value, as Format writes it);
//   - double-quoted text with no $, backtick, backslash or '!' (older
//     writers' "/srv/my app").

// CheckLine returns nil when the raw meta line data is safe to eval in bash
// and zsh, and otherwise the first reason it is not: a line Parse refuses, a
// key zsh reserves, or a value that a shell would expand, run or read in
// another way than Parse does.
func CheckLine(data []byte) error {
	m, err := Parse(data)
	if err != nil {
		return err
	}
	for _, f := range m.Fields {
		if Reserved(f.Key) {
			return fmt.Errorf("key %q is not safe to eval: zsh reserves that name", f.Key)
		}
	}
	s := strings.TrimRight(string(data), " \t\r\n")
	for i := 0; i < len(s); {
		if s[i] == ' ' || s[i] == '\t' {
			i++
			continue
		}
		// Parse accepted the line: each word is an unquoted key, '=', a value.
		eq := strings.IndexByte(s[i:], '=')
		key := s[i : i+eq]
		if !ValidKey(key) {
			// Parse read it as key=value through a backslash (\a=1), but a
			// shell would run it as a command.
			return fmt.Errorf("field %q is not an assignment for a shell", s[i:i+eq+1])
		}
		n, err := checkValue(s[i+eq+1:])
		if err != nil {
			return fmt.Errorf("value of %s is not safe to eval: %v", key, err)
		}
		i += eq + 1 + n
	}
	return nil
}

// What the byte before a bare '=' was, for zsh's =cmd expansion.
const (
	afterStart = iota // the value's first byte, or after a quote: =cmd expands
	afterColon        // after an unquoted ':': expands too
	afterBare         // after any other bare byte: a plain '='
)

// checkValue checks the raw value at the start of s, up to the first
// unquoted blank, and returns its length in bytes.
func checkValue(s string) (int, error) {
	prev := afterStart
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			return i, nil
		case c == '\'':
			i += strings.IndexByte(s[i+1:], '\'') + 2
			prev = afterStart
		case c == '\\':
			if i+1 >= len(s) || s[i+1] != '\'' {
				return 0, fmt.Errorf(`unquoted "\\" escapes the next character (only \' is written outside quotes)`)
			}
			i += 2
			prev = afterStart
		case c == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if k := strings.IndexAny(s[i+1:], "$`\\!"); k >= 0 && (j < 0 || k < j) {
				return 0, fmt.Errorf("%q inside double quotes %s", s[i+1+k:i+2+k], why(s[i+1+k]))
			}
			i += j + 2
			prev = afterStart
		case c == '=' && prev != afterBare:
			return 0, fmt.Errorf(`unquoted "=" at its start or after ":" is expanded by zsh to a command's path`)
		case safeByte(c):
			prev = afterBare
			if c == ':' {
				prev = afterColon
			}
			i++
		default:
			return 0, fmt.Errorf("unquoted %q %s", s[i:i+1], why(c))
		}
	}
	return i, nil
}

// why says what a shell makes of an unquoted byte outside the safe set.
func why(c byte) string {
	switch c {
	case '$':
		return "starts an expansion"
	case '`':
		return "runs a command"
	case '\\':
		return "escapes the next character"
	case '~':
		return "expands to a home folder"
	case '*', '?', '[', ']':
		return "is a glob"
	case '{', '}':
		return "is a brace expansion"
	case '!':
		return "is a history expansion"
	case ';', '&', '|':
		return "ends the command"
	case '<', '>':
		return "is a redirection"
	case '(', ')':
		return "makes a subshell or an array"
	case '#', '^':
		return "is a comment or a zsh glob operator"
	}
	switch {
	case c < 0x20 || c == 0x7f:
		return "is a control character"
	case c >= 0x80:
		return "is not ASCII (quote it)"
	}
	return "is special to the shell (quote it)"
}
