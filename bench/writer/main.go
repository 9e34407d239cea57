// Writer prints N numbered lines of 100 bytes (99 and a newline) on stdout as
// fast as it can: the load for tpm's logging benchmark.
//
// Usage:
//
//	writer [N]
//
// With WRITER_T0 set to a path, it first writes there the time it started
// (Unix nanoseconds), so that a benchmark can time the logging path alone,
// without the time it took to start the writer.
package main

import (
	"bufio"
	"os"
	"strconv"
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
