// Package logfile writes one stream of a program's output to its log file,
// as the supervisor's single writer of that file.
//
// The invariant: the stream's files, oldest first, joined, with the stamp at
// the start of each line removed are, byte for byte, what the program wrote,
// with the one exception of a loss notice. So:
//   - each line is stamped once, "YYYY-MM-DD HH:MM:SS " in local time, when
//     its first byte arrives; a line that arrives in pieces (a prompt with no
//     newline, a line of several MiB) is written piece by piece and never
//     stamped twice;
//   - the file is rotated (NAME.out → NAME.out.1 → ...) by this writer, once
//     it has reached MaxSize, between lines; only a line that has itself
//     grown to MaxSize in the file (a progress bar redrawn with carriage
//     returns and no newline, for hours) is cut, so that no file grows without
//     bound: the next file then starts with the rest of that line, without a
//     stamp. A line shorter than MaxSize is never split across files, and a
//     file never holds much more than twice MaxSize;
//   - a failing write (a full disk) never blocks or fails the caller: the
//     bytes are counted, and once writing works again one line
//     "tpm: N bytes of output lost (REASON)" says so before the output goes on.
//
// Log paths are not trusted (see open.go): a symbolic link, a FIFO or a device
// where a log file should be is refused, for writing and for reading.
package logfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Options set how a Writer writes.
type Options struct {
	// MaxSize rotates the file once it reaches this many bytes; 0 never.
	MaxSize int64
	// Keep is the number of rotated files kept (NAME.1 ... NAME.Keep).
	Keep int
	// Stamps prefixes each line with the local time.
	Stamps bool
	// Lost, when set, is told of each loss notice written: how many bytes
	// the notice says were lost, and why. It runs with the writer locked,
	// and must not write to this writer.
	Lost func(n int64, reason string)
}

// StampLen is the length of a line's time stamp, blank included.
const StampLen = len("2006-01-02 15:04:05 ")

// flushAt bounds the bytes a Writer holds before it writes them.
const flushAt = 256 << 10

// Writer appends one output stream to a log file. It is safe for one writer
// goroutine plus occasional Note and Reopen calls from another.
type Writer struct {
	mu   sync.Mutex
	path string
	opt  Options
	f    io.WriteCloser
	size int64

	lineStart bool  // the next byte from the program starts a line
	fileClean bool  // the stream ends between lines: a line of tpm's needs no newline first
	run       int64 // bytes of the line in progress (stamp included) in the current file

	lost       int64
	lostReason string

	buf   []byte
	sec   int64
	stamp [StampLen]byte

	// dir is the log's folder, held open for the rotation lock (see
	// LockDir).
	dir *os.File

	// Seams for tests.
	now  func() time.Time
	open func(path string) (io.WriteCloser, int64, error)
}

// Open opens path for appending (creating it 0600) and returns its Writer.
func Open(path string, opt Options) (*Writer, error) {
	w := &Writer{
		path: path, opt: opt, lineStart: true, fileClean: true, sec: -1,
		now: time.Now, open: openAppend,
	}
	if err := w.reopen(); err != nil {
		return nil, err
	}
	w.dir, _ = openDir(filepath.Dir(path))
	return w, nil
}

func openAppend(path string) (io.WriteCloser, int64, error) {
	f, err := openWrite(path)
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

func (w *Writer) reopen() error {
	f, size, err := w.open(w.path)
	if err != nil {
		return err
	}
	if w.f != nil {
		w.f.Close()
	}
	w.f, w.size, w.run = f, size, 0
	// An empty file goes on with the stream where it stands: inside a line
	// after a rotation within one.
	w.fileClean = w.lineStart
	if size > 0 {
		w.fileClean = lastByteIsNewline(w.path, size)
	}
	return nil
}

func lastByteIsNewline(path string, size int64) bool {
	f, err := OpenRead(path)
	if err != nil {
		return true
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], size-1); err != nil {
		return true
	}
	return b[0] == '\n'
}

// Reopen closes the file and opens path again: after the file was moved or
// removed by hand (the supervisor does it on SIGHUP, as svlogd does).
func (w *Writer) Reopen() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.reopen()
}

// Write logs p. It never fails and never blocks on a full disk: what cannot
// be written is counted and reported later.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	out := w.buf[:0]
	startsLine := w.lineStart
	// lineAt is where the line in progress starts in out; 0 when it started
	// before (its bytes in the file so far are then counted in w.run).
	lineAt := 0
	// One reading of the clock for the whole chunk: its lines arrived
	// together, and the clock is not free.
	var stamp []byte
	if w.opt.Stamps {
		stamp = w.stampNow()
	}
	for len(p) > 0 {
		if w.lineStart {
			lineAt, w.run = len(out), 0
			out = append(out, stamp...)
			w.lineStart = false
		}
		i := bytes.IndexByte(p, '\n')
		if w.opt.MaxSize > 0 {
			end := len(p) // the bytes of the line in p, its newline left out
			if i >= 0 {
				end = i
			}
			if k := w.cut(len(out), len(out)-lineAt, end); k >= 0 {
				// A line as long as a whole file: rotate inside it.
				out = append(out, p[:k]...)
				p = p[k:]
				w.flush(out, startsLine)
				w.run += int64(len(out) - lineAt)
				out, startsLine, lineAt = out[:0], false, 0
				if w.full() && !w.rotate() {
					w.run = 0 // not now: try again after as many bytes
				}
				continue
			}
		}
		if i < 0 {
			out = append(out, p...)
			break
		}
		out = append(out, p[:i+1]...)
		p = p[i+1:]
		w.lineStart = true
		// Between lines: the place to rotate, or to hand over a big buffer.
		if w.opt.MaxSize > 0 && w.size+int64(len(out)) >= w.opt.MaxSize {
			w.flush(out, startsLine)
			out, startsLine = out[:0], true
			if w.full() {
				w.rotate()
			}
		} else if len(out) >= flushAt {
			w.flush(out, startsLine)
			out, startsLine = out[:0], true
		}
	}
	if len(out) > 0 {
		w.flush(out, startsLine)
	}
	if !w.lineStart {
		w.run += int64(len(out) - lineAt)
	}
	if cap(out) <= 2*flushAt {
		w.buf = out[:0]
	}
	return n, nil
}

// cut returns how many of the next avail bytes of the line in progress go
// into the current file before it is rotated inside the line, or -1 when
// they all fit. pending bytes wait in the buffer, line of them belong to the
// line in progress.
//
// The bound for a line is MaxSize itself: a line is cut only once the file
// has reached MaxSize and the line holds MaxSize bytes of it, so a line
// shorter than a whole file is never split, a file stays under twice MaxSize,
// and a line with no end (a progress bar) fills files of MaxSize each.
func (w *Writer) cut(pending, line, avail int) int {
	size := w.size + int64(pending) // the file's size once the buffer is written
	if size+int64(avail) <= w.opt.MaxSize {
		return -1 // the common case: far from the limit
	}
	k := max(w.opt.MaxSize-size, w.opt.MaxSize-(w.run+int64(line)), 0)
	if k >= int64(avail) {
		// The line ends (or this chunk does) before the cut: rotate
		// between lines, or cut when the line goes on.
		return -1
	}
	return int(k)
}

// full reports whether the file has reached MaxSize. The count of its size
// is checked against the file itself first, since the file may have been
// emptied by hand (: > NAME.out) behind the writer's back: one fstat each
// time the count reaches the limit, never on the way there.
func (w *Writer) full() bool {
	if w.size < w.opt.MaxSize {
		return false
	}
	if f, ok := w.f.(interface{ Stat() (os.FileInfo, error) }); ok {
		if fi, err := f.Stat(); err == nil && fi.Size() < w.size {
			w.size = fi.Size()
			w.run = min(w.run, w.size)
		}
	}
	return w.size >= w.opt.MaxSize
}

// stampNow formats the local time once per second.
func (w *Writer) stampNow() []byte {
	t := w.now()
	if s := t.Unix(); s != w.sec {
		w.sec = s
		t.AppendFormat(w.stamp[:0], "2006-01-02 15:04:05 ")
	}
	return w.stamp[:]
}

// flush writes out, which starts a line of the program's output when
// startsLine is set. After a loss it first writes the notice.
func (w *Writer) flush(out []byte, startsLine bool) {
	if w.lost > 0 {
		if !w.writeNotice() {
			w.lost += w.payload(out, 0, startsLine)
			return
		}
		if !startsLine && w.opt.Stamps {
			// The notice ended a line of the file in the middle of one of
			// the program's; stamp what follows so that every line of the
			// file starts with a stamp.
			if _, err := w.write(w.stampNow()); err != nil {
				w.loss(w.payload(out, 0, startsLine), err)
				return
			}
		}
	}
	if n, err := w.write(out); err != nil {
		w.loss(w.payload(out, n, startsLine), err)
	}
}

// payload counts the program's bytes in out[from:], leaving out the stamps
// tpm added: the loss notice counts what the program wrote.
func (w *Writer) payload(out []byte, from int, startsLine bool) int64 {
	n := int64(len(out) - from)
	if !w.opt.Stamps {
		return n
	}
	overlap := func(s int) { // a stamp at out[s:s+StampLen]
		lo, hi := max(s, from), min(s+StampLen, len(out))
		if hi > lo {
			n -= int64(hi - lo)
		}
	}
	if startsLine {
		overlap(0)
	}
	for i := 0; i < len(out)-1; i++ {
		if out[i] == '\n' {
			overlap(i + 1)
		}
	}
	return n
}

// write writes b and returns how much went out and why not all of it.
func (w *Writer) write(b []byte) (int, error) {
	if w.f == nil {
		if err := w.reopen(); err != nil {
			return 0, err
		}
	}
	n, err := w.f.Write(b)
	w.size += int64(n)
	if n > 0 {
		w.fileClean = b[n-1] == '\n'
	}
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	return n, err
}

func (w *Writer) loss(n int64, err error) {
	w.lost += n
	var errno syscall.Errno
	switch {
	case errors.As(err, &errno):
		w.lostReason = errno.Error()
	default:
		w.lostReason = err.Error()
	}
}

// ownLine returns a line of tpm's own, "tpm: msg", stamped, after a
// newline when the file does not end with one: it always stands alone.
func (w *Writer) ownLine(msg string) []byte {
	var b []byte
	if !w.fileClean {
		b = append(b, '\n')
	}
	if w.opt.Stamps {
		b = append(b, w.stampNow()...)
	}
	b = append(b, "tpm: "...)
	b = append(b, msg...)
	return append(b, '\n')
}

// writeNotice writes the loss notice on a line of its own.
func (w *Writer) writeNotice() bool {
	msg := strconv.FormatInt(w.lost, 10) + " bytes of output lost (" + w.lostReason + ")"
	if _, err := w.write(w.ownLine(msg)); err != nil {
		// Nothing of the notice counts as lost output; the count stands.
		return false
	}
	if w.opt.Lost != nil {
		w.opt.Lost(w.lost, w.lostReason)
	}
	w.lost = 0
	return true
}

// rotate moves NAME → NAME.1 → ... → NAME.Keep and opens a new NAME, and
// reports whether it did. When a step fails the writer goes on with the file
// it has and tries again after another MaxSize bytes.
func (w *Writer) rotate() bool {
	// Readers that follow the log take the folder's lock while they look at
	// its files; a rotation is a chain of renames they must not see half
	// done. The writer never waits: if a reader is looking, it rotates at
	// the next line instead (inside a long line, after another MaxSize).
	if w.dir != nil {
		if err := Flock(w.dir, unix.LOCK_EX|unix.LOCK_NB); err != nil {
			if errors.Is(err, unix.EWOULDBLOCK) {
				return false
			}
		} else {
			defer Flock(w.dir, unix.LOCK_UN)
		}
	}
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
	err := Rotate(w.path, w.opt.Keep)
	if oerr := w.reopen(); oerr != nil {
		w.f = nil
		err = oerr
	}
	if err != nil {
		w.size, w.run = 0, 0 // try again after another MaxSize bytes
		return false
	}
	return true
}

// Maintain tidies one log stream for a process whose writer is gone
// (tpm-clean --logs), under the folder's rotation lock taken by the
// caller: the rotated files that go (beyond keep, older than older when it
// is set, and every older one after one that goes) are given to remove, the
// rest renumbered 1, 2, ... without gaps, and the current file rotated when
// it is over maxSize. A dry run gives remove the same files and renames
// nothing.
func Maintain(path string, maxSize int64, keep int, older time.Duration, dry bool, remove func(string)) error {
	rotate := false
	if fi, err := os.Stat(path); err == nil && fi.Size() > maxSize {
		rotate = true
	}
	slots := keep // rotated files that may remain
	if rotate {
		slots-- // the current file takes one
	}
	var survivors []string
	cut := false
	for _, p := range Series(path)[1:] { // newest first
		fi, err := os.Stat(p)
		if err != nil {
			continue
		}
		if !cut && (len(survivors) >= slots || (older > 0 && time.Since(fi.ModTime()) > older)) {
			cut = true
		}
		if cut {
			remove(p)
			continue
		}
		survivors = append(survivors, p)
	}
	if dry {
		if rotate && keep == 0 {
			remove(path)
		}
		return nil
	}
	// Close the gaps, newest first (each file moves to a smaller number that
	// no file still to move has); then, to rotate, shift every file up by one,
	// oldest first (each moves to a number already vacated).
	for i, p := range survivors {
		if want := path + "." + strconv.Itoa(i+1); p != want {
			if err := os.Rename(p, want); err != nil {
				return err
			}
		}
	}
	if !rotate {
		return nil
	}
	for i := len(survivors); i >= 1; i-- {
		if err := os.Rename(path+"."+strconv.Itoa(i), path+"."+strconv.Itoa(i+1)); err != nil {
			return err
		}
	}
	if keep == 0 {
		remove(path)
		return nil
	}
	if err := os.Rename(path, path+".1"); err != nil {
		return fmt.Errorf("rotate %s: %w", path, err)
	}
	return nil
}

// Rotate moves path to path.1, path.1 to path.2, and so on, keeping keep
// rotated files (with keep 0, path is removed). The caller must be the only
// writer of path: the supervisor, or tpm-clean holding the run lock.
func Rotate(path string, keep int) error {
	if keep <= 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	var err error
	for i := keep - 1; i >= 1; i-- {
		if e := os.Rename(path+"."+strconv.Itoa(i), path+"."+strconv.Itoa(i+1)); e != nil && !errors.Is(e, os.ErrNotExist) {
			err = e
		}
	}
	if e := os.Rename(path, path+".1"); e != nil && !errors.Is(e, os.ErrNotExist) {
		err = e
	}
	return err
}

// Close closes the file, first writing a pending loss notice if it can.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.lost > 0 {
		w.writeNotice()
	}
	if w.dir != nil {
		w.dir.Close()
		w.dir = nil
	}
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}

// Flock takes or lets go of a flock(2) lock on f (how: unix.LOCK_EX,
// LOCK_SH, LOCK_UN, with LOCK_NB), again when a signal interrupts it. tpm's
// locks (a process's run lock, the tree's edit lock, the logs folder's
// rotation lock) all go through it.
func Flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if err != unix.EINTR {
			return err
		}
	}
}

// LockDir takes the rotation lock of a log folder, shared (a reader that
// looks at the rotated files) or exclusive (one that renames them), and
// returns the function that lets it go. Supervisors rotate under it without
// ever waiting for it.
func LockDir(dir string, exclusive bool) (func(), error) {
	d, err := openDir(dir)
	if err != nil {
		return nil, err
	}
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	if err := Flock(d, how); err != nil {
		d.Close()
		return nil, err
	}
	return func() { d.Close() }, nil
}

// Note writes a line of tpm's own, "tpm: msg", on a line of its own.
func (w *Writer) Note(msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.write(w.ownLine(msg))
	w.lineStart = true
}

// Midline reports whether the stream ends inside a line, and how many
// bytes of that line the current file holds: what a writer that takes over
// the file (a supervisor upgraded in place) must continue from.
func (w *Writer) Midline() (bool, int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return !w.lineStart, w.run
}

// Continue makes a writer just opened continue a line a previous writer
// of the same file left unfinished (see Midline): its next bytes get no
// stamp.
func (w *Writer) Continue(run int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lineStart, w.fileClean, w.run = false, false, run
}
