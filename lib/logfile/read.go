package logfile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Series returns the files of one log stream, newest first: path, then the
// rotated path.1, path.2, ... that exist, in order of their number (a gap in
// the numbers, left by hand, does not hide the files after it).
func Series(path string) []string {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	ents, _ := os.ReadDir(dir)
	var nums []int
	for _, e := range ents {
		if rest, ok := strings.CutPrefix(e.Name(), base+"."); ok {
			if n, err := strconv.Atoi(rest); err == nil && n > 0 && strconv.Itoa(n) == rest {
				nums = append(nums, n)
			}
		}
	}
	slices.Sort(nums)
	out := []string{path}
	for _, n := range nums {
		out = append(out, path+"."+strconv.Itoa(n))
	}
	return out
}

// TailSeries returns the last n lines of a log stream, reaching into the
// rotated files when the current one holds fewer (just after a rotation).
// n <= 0 means every line. Missing files count as empty.
func TailSeries(path string, n int) ([]byte, error) {
	var parts [][]byte
	got := 0
	for _, p := range Series(path) {
		var b []byte
		var err error
		if n > 0 {
			b, err = Tail(p, n-got)
		} else {
			b, err = os.ReadFile(p)
		}
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, err
		}
		if len(b) > 0 && b[len(b)-1] != '\n' && len(parts) > 0 {
			// A rotated file ends between lines; this cannot happen, but a
			// hand-made one might: keep its last line apart.
			b = append(b, '\n')
		}
		parts = append(parts, b)
		got += CountLines(b)
		if n > 0 && got >= n {
			break
		}
	}
	slices.Reverse(parts)
	return bytes.Join(parts, nil), nil
}

// CountLines counts lines, a last line without a newline included.
func CountLines(b []byte) int {
	n := bytes.Count(b, []byte{'\n'})
	if len(b) > 0 && b[len(b)-1] != '\n' {
		n++
	}
	return n
}

// Stamp returns the time stamp a log line starts with ("2006-01-02 15:04:05"),
// or nil when it has none. Stamps have one width and sort as strings.
func Stamp(line []byte) []byte {
	if len(line) < StampLen || line[StampLen-1] != ' ' {
		return nil
	}
	s := line[:StampLen-1]
	for i, c := range s {
		switch i {
		case 4, 7:
			if c != '-' {
				return nil
			}
		case 10:
			if c != ' ' {
				return nil
			}
		case 13, 16:
			if c != ':' {
				return nil
			}
		default:
			if c < '0' || c > '9' {
				return nil
			}
		}
	}
	return s
}
