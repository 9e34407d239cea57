package logfile

import (
	"bytes"
	"errors"
	"io"
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
// n <= 0 means every line. Missing files count as empty, and so do files that
// are not regular files.
func TailSeries(path string, n int) ([]byte, error) {
	return TailStream(path, nil, 0, n, nil)
}

// TailStream is TailSeries for a reader that already holds the current file
// open: cur, read up to size (nil: path is opened here). A file of the
// stream that is not a regular file is left out and handed to skip (when not
// nil), which may warn about it.
//
// A rotation may fall inside a line (one longer than the writer's MaxSize):
// a rotated file that ends without a newline goes on in the next file, and
// the line counts once, read whole from the files it spans.
func TailStream(path string, cur io.ReaderAt, size int64, n int, skip func(error)) ([]byte, error) {
	var parts [][]byte // newest first
	got := 0
	// whole: the oldest part held is a whole file, so it may start inside
	// a line that began in the file before it.
	whole := false
	for i, p := range Series(path) {
		var f *os.File
		r, sz := cur, size
		if i > 0 || cur == nil {
			var err error
			if f, sz, err = openSized(p); err != nil {
				if errors.Is(err, ErrNotRegular) && skip != nil {
					skip(err)
				}
				if errors.Is(err, ErrNotRegular) || errors.Is(err, fs.ErrNotExist) {
					whole = false // a gap: what is before it does not join
					continue
				}
				return nil, err
			}
			r = f
		}
		b, joined, err := tailPart(r, sz, n, got, len(parts) > 0 && whole)
		if f != nil {
			f.Close()
		}
		if err != nil {
			return nil, err
		}
		if b == nil {
			if sz == 0 {
				continue
			}
			break
		}
		lines := CountLines(b)
		if joined {
			lines--
		} else if len(parts) > 0 && b[len(b)-1] != '\n' {
			// A file that ends inside a line with a gap after it: keep its
			// last line apart.
			b = append(b, '\n')
		}
		got += lines
		whole = int64(len(b)) == sz
		parts = append(parts, b)
	}
	slices.Reverse(parts)
	return bytes.Join(parts, nil), nil
}

// tailPart reads what one file adds to a tail of n lines (n <= 0: all) of
// which got are held already: nil when nothing (an empty file, or enough
// lines held). follows says the part held starts with this file's successor
// whole; if this file ends inside a line, that line goes on there (joined),
// and is read whole even when enough lines are held.
func tailPart(r io.ReaderAt, size int64, n, got int, follows bool) (b []byte, joined bool, err error) {
	if size == 0 {
		return nil, false, nil
	}
	joined = follows && !endsLine(r, size)
	if n <= 0 {
		b, err = io.ReadAll(io.NewSectionReader(r, 0, size))
		return b, joined, err
	}
	k := n - got
	if joined {
		k++ // its last line is the first one held already
	}
	if k <= 0 {
		return nil, false, nil
	}
	b, err = TailAt(r, size, k)
	return b, joined, err
}

func openSized(path string) (*os.File, int64, error) {
	f, err := OpenRead(path)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

// endsLine reports whether the first size bytes of r end with a newline.
func endsLine(r io.ReaderAt, size int64) bool {
	var b [1]byte
	if _, err := r.ReadAt(b[:], size-1); err != nil && err != io.EOF {
		return true
	}
	return b[0] == '\n'
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
