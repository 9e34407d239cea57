package remote

import (
	"bytes"
	"io"
	"os"
)

// spoolMem is what a Spool keeps in memory before it moves to a file.
const spoolMem = 1 << 20

// Spool keeps what a host printed: in memory up to spoolMem, then in an
// unlinked temporary file, so that tpm-log -n all from many hosts costs
// bounded memory. Write it, then read it with Reader; Close frees it.
type Spool struct {
	mem  bytes.Buffer
	file *os.File
	err  error // the file could not be written: what follows is lost
}

// Write keeps p.
func (s *Spool) Write(p []byte) (int, error) {
	if s.err != nil {
		return len(p), nil
	}
	if s.file == nil && s.mem.Len()+len(p) <= spoolMem {
		return s.mem.Write(p)
	}
	if s.file == nil {
		f, err := os.CreateTemp("", "tpm-remote-")
		if err != nil {
			s.err = err
			return len(p), nil
		}
		// Nobody else needs its name: the file goes when it is closed,
		// whatever happens to this process.
		os.Remove(f.Name())
		s.file = f
		if _, err := s.mem.WriteTo(f); err != nil {
			s.err = err
			return len(p), nil
		}
	}
	if _, err := s.file.Write(p); err != nil {
		s.err = err
	}
	return len(p), nil
}

// Reader reads what was kept from its start.
func (s *Spool) Reader() io.Reader {
	if s.file == nil {
		return bytes.NewReader(s.mem.Bytes())
	}
	return io.NewSectionReader(s.file, 0, 1<<62)
}

// Bytes returns what was kept when it is small (in memory), or its first
// spoolMem bytes.
func (s *Spool) Bytes() []byte {
	if s.file == nil {
		return s.mem.Bytes()
	}
	b := make([]byte, spoolMem)
	n, _ := s.file.ReadAt(b, 0)
	return b[:n]
}

// Err says what could not be kept (the temporary file failed).
func (s *Spool) Err() error { return s.err }

// Close frees the spool.
func (s *Spool) Close() {
	if s == nil {
		return
	}
	if s.file != nil {
		s.file.Close()
		s.file = nil
	}
	s.mem = bytes.Buffer{}
}
