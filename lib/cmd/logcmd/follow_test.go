package logcmd

import (
	"bufio"
	"bytes"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tetra-toolkit/tpm/lib/logfile"
)

// TestFollowAcrossRotations runs the supervisor's writer, rotating small
// files as fast as it can, against a follower that looks again and again:
// every line must come out once, in order, whatever the interleaving.
func TestFollowAcrossRotations(t *testing.T) {
	for round := range 5 {
		dir := t.TempDir()
		path := filepath.Join(dir, "x.out")
		lw, err := logfile.Open(path, logfile.Options{MaxSize: 8 << 10, Keep: 400})
		if err != nil {
			t.Fatal(err)
		}
		const n = 30000
		done := make(chan struct{})
		go func() {
			for i := range n {
				lw.Write([]byte(strconv.Itoa(i) + " " + strings.Repeat("x", 40) + "\n"))
			}
			lw.Close()
			close(done)
		}()
		var out bytes.Buffer
		w := &writer{out: bufio.NewWriter(&out)}
		f := &follower{name: "x", path: path}
		for finished := false; ; {
			select {
			case <-done:
				finished = true
			default:
			}
			if err := f.poll(w, true); err != nil {
				t.Fatal(err)
			}
			if finished {
				f.poll(w, true)
				break
			}
		}
		w.out.Flush()
		next := 0
		for _, l := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
			num, _, _ := strings.Cut(l, " ")
			if num != strconv.Itoa(next) {
				t.Fatalf("round %d: want line %d, got %q (%s)", round, next, l, fmt.Sprint(len(logfile.Series(path))))
			}
			next++
		}
		if next != n {
			t.Fatalf("round %d: %d lines, want %d", round, next, n)
		}
	}
}
