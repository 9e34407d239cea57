package logfile

import (
	"bytes"
	"io"
	"slices"
)

// Tail returns the last n lines of the file at path, reading backwards from
// its end in blocks: the cost depends on the lines asked for, not on the size
// of the file. A last line without a newline counts as a line.
//
// Only a regular file is read (see OpenRead).
func Tail(path string, n int) ([]byte, error) {
	f, err := OpenRead(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return TailAt(f, fi.Size(), n)
}

// TailAt is Tail for the first size bytes of r.
func TailAt(r io.ReaderAt, size int64, n int) ([]byte, error) {
	if n <= 0 || size == 0 {
		return nil, nil
	}
	const block = 64 << 10
	var chunks [][]byte
	newlines := 0
	end := size
	for end > 0 {
		start := max(end-block, 0)
		chunk := make([]byte, end-start)
		if _, err := r.ReadAt(chunk, start); err != nil && err != io.EOF {
			return nil, err
		}
		if end == size && chunk[len(chunk)-1] == '\n' {
			newlines-- // the final newline ends the last line, it starts none
		}
		newlines += bytes.Count(chunk, []byte{'\n'})
		chunks = append(chunks, chunk)
		end = start
		if newlines >= n {
			break
		}
	}
	slices.Reverse(chunks)
	buf := bytes.Join(chunks, nil)
	body := bytes.TrimSuffix(buf, []byte{'\n'})
	cut := len(body)
	for range n {
		j := bytes.LastIndexByte(body[:cut], '\n')
		if j < 0 {
			return buf, nil // fewer than n lines: all of them
		}
		cut = j
	}
	return buf[cut+1:], nil
}
