// Package meta reads and writes the meta line of SPEC §2: one line of
// space-separated key=value fields that is greppable and safe to eval.
//
// The rules:
//   - keys match [a-z_][a-z0-9_]*;
//   - a value made only of [A-Za-z0-9_@%+=:,./-] is written bare (unless
//     zsh would expand an '=' in it, see Quote), any other value in single
//     quotes, each quote inside it written as the shell idiom quote,
//     backslash, quote, quote; so bash and zsh read back the same string and
//     run nothing;
//   - no key is a name zsh keeps for itself (Reserved);
//   - no value holds a newline or a NUL byte;
//   - the required fields come first, in the order of Required; every other
//     field keeps its place, so annotations by other tools survive a rewrite;
//   - a reader takes what the older bash TPM wrote as it is: bare or quoted
//     values, no type field, trailing blanks, no final newline; CheckLine
//     tells whether such a file is also safe to eval as it stands.
package meta

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Required lists the fields every meta line starts with, in order.
var Required = []string{"script", "pid", "port", "start_time", "type"}

// Field is one key=value pair.
type Field struct {
	Key, Value string
}

// Meta is a parsed meta line: its fields in the order they are written.
type Meta struct {
	Fields []Field
}

// Get returns the value of key and whether it is present.
func (m *Meta) Get(key string) (string, bool) {
	for _, f := range m.Fields {
		if f.Key == key {
			return f.Value, true
		}
	}
	return "", false
}

// Value returns the value of key, or "" when it is absent.
func (m *Meta) Value(key string) string {
	v, _ := m.Get(key)
	return v
}

// Int returns the value of key as an integer, or 0 when it is absent or not
// a number.
func (m *Meta) Int(key string) int64 {
	n, err := strconv.ParseInt(m.Value(key), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// Set gives key the value v, in place when key is present, at the end
// otherwise.
func (m *Meta) Set(key, v string) {
	for i := range m.Fields {
		if m.Fields[i].Key == key {
			m.Fields[i].Value = v
			return
		}
	}
	m.Fields = append(m.Fields, Field{key, v})
}

// SetInt is Set for an integer value.
func (m *Meta) SetInt(key string, n int64) { m.Set(key, strconv.FormatInt(n, 10)) }

// Del removes key.
func (m *Meta) Del(key string) {
	m.Fields = slices.DeleteFunc(m.Fields, func(f Field) bool { return f.Key == key })
}

// Clone returns a copy of m that shares nothing with it.
func (m *Meta) Clone() *Meta {
	return &Meta{Fields: slices.Clone(m.Fields)}
}

// ValidKey reports whether k may be a meta key.
func ValidKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c == '_', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// CheckKey returns an error when k cannot be a key of a meta line written by
// tpm: a bad name, or a name that zsh would not take as a plain variable
// (see Reserved).
func CheckKey(k string) error {
	if !ValidKey(k) {
		return fmt.Errorf("bad key %q: keys match [a-z_][a-z0-9_]*", k)
	}
	if Reserved(k) {
		return fmt.Errorf("bad key %q: zsh reserves that name, so the line would not be safe to eval", k)
	}
	return nil
}

// CheckValue returns an error when v cannot be stored in a meta line.
func CheckValue(v string) error {
	if i := strings.IndexAny(v, "\n\x00"); i >= 0 {
		what := "a newline"
		if v[i] == 0 {
			what = "a NUL byte"
		}
		return fmt.Errorf("value %q holds %s", v, what)
	}
	return nil
}

// Check validates m for writing: good keys, no duplicates, storable values.
func (m *Meta) Check() error {
	seen := make(map[string]bool, len(m.Fields))
	for _, f := range m.Fields {
		if !ValidKey(f.Key) {
			return fmt.Errorf("bad key %q", f.Key)
		}
		if seen[f.Key] {
			return fmt.Errorf("duplicate key %q", f.Key)
		}
		seen[f.Key] = true
		if err := CheckValue(f.Value); err != nil {
			return fmt.Errorf("%s: %w", f.Key, err)
		}
	}
	return nil
}

// Validate checks that m is a usable record: the fields tpm needs are there
// and the numbers are numbers. type may be missing (the older bash TPM did
// not always write it).
func (m *Meta) Validate() error {
	for _, k := range Required[:4] {
		if _, ok := m.Get(k); !ok {
			return fmt.Errorf("missing required field %q", k)
		}
	}
	for _, k := range []string{"pid", "port", "start_time"} {
		v := m.Value(k)
		if n, err := strconv.ParseInt(v, 10, 64); err != nil || n < 0 {
			return fmt.Errorf("field %s=%q is not a number", k, v)
		}
	}
	if p := m.Int("pid"); p == 1 {
		// PID 1 is init; and kill(-1) would be every process.
		return errors.New("field pid=1 cannot name a program")
	}
	if p := m.Int("port"); p > 65535 {
		return fmt.Errorf("field port=%d is out of range", p)
	}
	if t, ok := m.Get("type"); ok && t != "cli" && t != "ecosystem" {
		return fmt.Errorf("field type=%q is neither cli nor ecosystem", t)
	}
	return nil
}

// Format returns the meta line, newline included: the required fields that
// are present first, in order, then the others in their order.
func (m *Meta) Format() []byte {
	var b strings.Builder
	write := func(f Field) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f.Key)
		b.WriteByte('=')
		b.WriteString(Quote(f.Value))
	}
	for _, k := range Required {
		if v, ok := m.Get(k); ok {
			write(Field{k, v})
		}
	}
	for _, f := range m.Fields {
		if !slices.Contains(Required, f.Key) {
			write(f)
		}
	}
	b.WriteByte('\n')
	return []byte(b.String())
}

// String is Format without the newline.
func (m *Meta) String() string {
	return strings.TrimSuffix(string(m.Format()), "\n")
}

func safeByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("_@%+=:,./-", c) >= 0
}

// Quote returns v as a shell word: bare when it is made only of safe bytes,
// in single quotes otherwise.
//
// Safe bytes are not always enough: zsh expands an unquoted =cmd to the
// path of cmd at the start of a word and, in an assignment, after each ':'
// (x=a:=ls gives a:/usr/bin/ls; x==nosuchcmd makes the eval fail), and with
// magic_equal_subst after the '=' of a word like k==ls too. So a value that
// starts with '=' or holds ":=" or "==" is quoted as well.
func Quote(v string) string {
	if v == "" {
		return "''"
	}
	safe := v[0] != '=' && !strings.Contains(v, ":=") && !strings.Contains(v, "==")
	for i := 0; safe && i < len(v); i++ {
		safe = safeByte(v[i])
	}
	if safe {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}

// ErrEmpty is returned by Parse for a file with no fields.
var ErrEmpty = errors.New("empty meta file")

// Parse reads a meta line. It accepts trailing blanks and newlines, and
// refuses a second line, a field without '=', a bad key, a duplicate key and
// an unterminated quote.
func Parse(data []byte) (*Meta, error) {
	s := strings.TrimRight(string(data), " \t\r\n")
	if s == "" {
		return nil, ErrEmpty
	}
	if strings.IndexByte(s, 0) >= 0 {
		return nil, errors.New("holds a NUL byte")
	}
	words, err := splitWords(s, false)
	if err != nil {
		return nil, err
	}
	m := &Meta{Fields: make([]Field, 0, len(words))}
	seen := make(map[string]bool, len(words))
	for _, w := range words {
		k, v, ok := strings.Cut(w.text, "=")
		if !ok || w.quotedKey {
			return nil, fmt.Errorf("field %d %q is not key=value", len(m.Fields)+1, w.text)
		}
		if !ValidKey(k) {
			return nil, fmt.Errorf("bad key %q", k)
		}
		if seen[k] {
			return nil, fmt.Errorf("duplicate key %q", k)
		}
		seen[k] = true
		m.Fields = append(m.Fields, Field{k, v})
	}
	return m, nil
}

type word struct {
	text string
	// quotedKey is set when a quote opened before the first '=': then the
	// word is not an assignment for a shell either.
	quotedKey bool
}

// splitWords splits s as a POSIX shell splits a line of words, without any
// expansion: blanks separate words, '...' is literal, "..." takes backslash
// escapes of $ ` " \ and newline, and a backslash outside quotes escapes the
// next byte. With multiline, newlines inside quotes are kept and a newline
// outside quotes separates words like a blank; without it, a newline outside
// quotes is an error.
func splitWords(s string, multiline bool) ([]word, error) {
	var (
		words   []word
		cur     strings.Builder
		inWord  bool
		sawEq   bool
		qKey    bool
		i       int
		lineErr = errors.New("holds more than one line")
	)
	end := func() {
		if inWord {
			words = append(words, word{cur.String(), qKey})
		}
		cur.Reset()
		inWord, sawEq, qKey = false, false, false
	}
	for i < len(s) {
		c := s[i]
		switch c {
		case ' ', '\t':
			end()
			i++
		case '\n':
			if !multiline {
				return nil, lineErr
			}
			end()
			i++
		case '\'':
			if !sawEq {
				qKey = true
			}
			inWord = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated single quote")
			}
			seg := s[i+1 : i+1+j]
			if !multiline && strings.IndexByte(seg, '\n') >= 0 {
				return nil, lineErr
			}
			cur.WriteString(seg)
			i += j + 2
		case '"':
			if !sawEq {
				qKey = true
			}
			inWord = true
			i++
			closed := false
			for i < len(s) {
				d := s[i]
				if d == '"' {
					closed = true
					i++
					break
				}
				if d == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0 {
					if s[i+1] != '\n' {
						cur.WriteByte(s[i+1])
					}
					i += 2
					continue
				}
				if d == '\n' && !multiline {
					return nil, lineErr
				}
				cur.WriteByte(d)
				i++
			}
			if !closed {
				return nil, errors.New("unterminated double quote")
			}
		case '\\':
			inWord = true
			if i+1 >= len(s) {
				return nil, errors.New("backslash at end of line")
			}
			if s[i+1] == '\n' {
				if !multiline {
					return nil, lineErr
				}
			} else {
				cur.WriteByte(s[i+1])
			}
			i += 2
		default:
			if c == '=' {
				sawEq = true
			}
			inWord = true
			cur.WriteByte(c)
			i++
		}
	}
	end()
	return words, nil
}

// SplitWords splits s into words as a shell would, with quotes and
// backslashes but no expansion. It is how tpm reads list fields such as args.
func SplitWords(s string) ([]string, error) {
	ws, err := splitWords(s, true)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.text
	}
	return out, nil
}

// JoinWords quotes each word and joins them with spaces: the inverse of
// SplitWords.
func JoinWords(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = Quote(w)
	}
	return strings.Join(q, " ")
}
