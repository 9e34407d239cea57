// Writer prints N numbered lines of 100 bytes (99 and a newline) on stdout as
// fast as it can: the load for tpm's logging benchmark.
//
// Usage:
//
//	writer [N [RATE]]
//
// With WRITER_T0 set to a path, it first writes there the time it started
// (Unix nanoseconds), so that a benchmark can time the logging path alone,
// without the time it took to start the writer.
//
// With a RATE (lines per second), it keeps to that pace instead, as a busy
// server logging requests would: every 10 ms it writes, in one write, the
// lines due by then (after a write that waited, the backlog too, so that the
// N lines take N/RATE seconds whatever happens on the way). A paced writer
// ends on TERM after its current write, and on its way out says on stderr
// how many lines it wrote and how long its longest write waited:
// "writer: wrote K lines, longest write D". Every line it counts as written
// was accepted by write(2); a log must then hold lines 0..K-1.
package main

import (
	"bufio"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	n := 1000000
	if len(os.Args) > 1 {
		if v, err := strconv.Atoi(os.Args[1]); err == nil {
			n = v
		}
	}
	if p := os.Getenv("WRITER_T0"); p != "" {
		os.WriteFile(p, []byte(strconv.FormatInt(time.Now().UnixNano(), 10)), 0o600)
	}
	if len(os.Args) > 2 {
		if rate, err := strconv.Atoi(os.Args[2]); err == nil && rate > 0 {
			paced(n, rate)
			return
		}
	}
	w := bufio.NewWriterSize(os.Stdout, 64<<10)
	line := make([]byte, 100)
	for i := range line {
		line[i] = 'x'
	}
	line[99] = '\n'
	for i := 0; i < n; i++ {
		num := strconv.AppendInt(line[:0], int64(i), 10)
		line[len(num)] = ' '
		w.Write(line)
		for j := 0; j <= len(num); j++ {
			line[j] = 'x'
		}
	}
	if err := w.Flush(); err != nil {
		os.Exit(1)
	}
}

// appendLine appends line i: its number, a space, x up to 99 bytes, a
// newline.
func appendLine(b []byte, i int) []byte {
	start := len(b)
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, ' ')
	for len(b)-start < 99 {
		b = append(b, 'x')
	}
	return append(b, '\n')
}

// paced writes n lines at rate lines per second.
func paced(n, rate int) {
	var stop atomic.Bool
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-term
		stop.Store(true)
	}()
	const tick = 10 * time.Millisecond
	maxBatch := 64 << 10 / 100 // lines per write when catching up
	buf := make([]byte, 0, maxBatch*100)
	t0 := time.Now()
	written := 0
	var longest time.Duration
	var werr error
	for written < n && !stop.Load() {
		due := min(n, int(time.Since(t0).Seconds()*float64(rate)))
		if due <= written {
			// Sleep to the next tick of the schedule.
			next := t0.Add(time.Duration(written+1) * time.Second / time.Duration(rate))
			time.Sleep(max(time.Until(next), tick))
			continue
		}
		k := min(due-written, maxBatch)
		buf = buf[:0]
		for i := written; i < written+k; i++ {
			buf = appendLine(buf, i)
		}
		w0 := time.Now()
		_, werr = os.Stdout.Write(buf)
		longest = max(longest, time.Since(w0))
		if werr != nil {
			break
		}
		written += k
	}
	fmt.Fprintf(os.Stderr, "writer: wrote %d lines, longest write %v\n", written, longest.Round(time.Millisecond))
	if werr != nil {
		os.Exit(1)
	}
}
