package cli

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mattn/go-isatty"
)

// Terminal reports whether w is a terminal, the test for human output
// (aligned tables, units, colour). TPM_TERMINAL=1 forces it on and
// TPM_TERMINAL=0 off, for tests and for watch(1).
func Terminal(w io.Writer) bool {
	switch os.Getenv("TPM_TERMINAL") {
	case "1":
		return true
	case "0":
		return false
	}
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// Colour reports whether human output to w may be coloured: on a terminal,
// when NO_COLOR is not set and TERM is not dumb.
func Colour(w io.Writer) bool {
	return Terminal(w) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}

// ANSI colours by name.
var colours = map[string]string{
	"red": "31", "green": "32", "yellow": "33", "blue": "34", "magenta": "35", "cyan": "36", "grey": "90",
}

// Paint wraps s in the colour when on is set.
func Paint(on bool, colour, s string) string {
	c, ok := colours[colour]
	if !on || !ok || s == "" {
		return s
	}
	return "\x1b[" + c + "m" + s + "\x1b[0m"
}

// Palette is the cycle of colours given to processes in a merged view.
var Palette = []string{"cyan", "yellow", "green", "magenta", "blue", "red"}

// Table writes rows as a table: aligned columns separated by two spaces on a
// terminal, single tabs otherwise. Cells may hold colour codes; widths count
// what is visible.
type Table struct {
	rows [][]string
}

// Row adds a row.
func (t *Table) Row(cells ...string) { t.rows = append(t.rows, cells) }

// Write writes the table; aligned selects the terminal form.
func (t *Table) Write(w io.Writer, aligned bool) error {
	var b strings.Builder
	if !aligned {
		for _, r := range t.rows {
			b.WriteString(strings.Join(r, "\t"))
			b.WriteByte('\n')
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], visible(c))
		}
	}
	for _, r := range t.rows {
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-visible(c)+2))
			}
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// visible is the width of s without colour codes.
func visible(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] == 0x1b {
			j := strings.IndexByte(s[i:], 'm')
			if j < 0 {
				break
			}
			i += j + 1
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return n
}

// Duration writes d for people: 45s, 12m, 2h, 3d.
func Duration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + "d"
}

// CPUTime writes processor time for people: 0.4s, 12s, 3m, 2h.
func CPUTime(d time.Duration) string {
	if d < 10*time.Second {
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	}
	return Duration(d)
}

// Bytes writes a size for people in binary units: 512B, 12.3K, 4.0M, 1.2G.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + "B"
	}
	f := float64(n)
	for _, u := range []string{"K", "M", "G", "T"} {
		f /= unit
		if f < unit || u == "T" {
			return fmt.Sprintf("%.1f%s", f, u)
		}
	}
	return ""
}
