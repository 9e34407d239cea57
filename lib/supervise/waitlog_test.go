package supervise

import (
	"os"
	"strings"
	"testing"

	"github.com/tetra-toolkit/tpm/lib/spec"
)

// chunk is what one read of a pump gave: on stdout (0) or stderr (1).
type chunk struct {
	stream int
	data   string
}

func TestScanReady(t *testing.T) {
	long := strings.Repeat("x", 2*maxReadyLine)
	for _, tc := range []struct {
		name   string
		re     string
		chunks []chunk
		want   int // the chunk after which the line matched, -1 never
	}{
		{"a whole line", "ready to serve", []chunk{{0, "booting\nready to serve on 3000\n"}}, 0},
		{"on stderr", "^ready$", []chunk{{1, "ready\n"}}, 0},
		{"a line in pieces", "ready to serve", []chunk{{0, "rea"}, {0, "dy to "}, {0, "serve\n"}}, 2},
		{"a line that has not ended yet", "ready", []chunk{{0, "ready"}}, -1},
		{"anchored at the end, CRLF", "ready$", []chunk{{0, "ready\r\n"}}, 0},
		{"the pieces of two streams kept apart", "^ready$", []chunk{{0, "rea"}, {1, "dy\n"}, {0, "dy\n"}}, 2},
		{"the second line of a chunk", "ready", []chunk{{0, "steady\nready?\n"}}, 0},
		{"nothing matches", "^ready$", []chunk{{0, "not ready\n"}, {1, "ready or not\n"}}, -1},
		{"a long line matched on its start", "^x+$", []chunk{{0, long[:100]}, {0, long + "\n"}}, 1},
		{"a long line: what is past the bound is not seen", "y", []chunk{{0, long}, {0, "y\n"}}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &sup{spec: &spec.Spec{Policy: spec.Policy{WaitLog: tc.re}}, outR: os.Stdin, errR: os.Stderr}
			s.armReady()
			got := -1
			for i, c := range tc.chunks {
				r := s.outR
				if c.stream == 1 {
					r = s.errR
				}
				s.scanReady(r, []byte(c.data))
				select {
				case <-s.lines.ch:
					if got < 0 {
						got = i
					}
				default:
				}
			}
			if got != tc.want {
				t.Errorf("matched after chunk %d, want %d", got, tc.want)
			}
		})
	}
}

// Once a run's line came, the pumps stop looking until the next run is
// armed; a piece of line from before the arm is dropped.
func TestScanReadyRearmed(t *testing.T) {
	s := &sup{spec: &spec.Spec{Policy: spec.Policy{WaitLog: "^ready$"}}, outR: os.Stdin, errR: os.Stderr}
	s.armReady()
	s.scanReady(s.outR, []byte("ready\nrea"))
	<-s.lines.ch
	if s.lines.re.Load() != nil {
		t.Fatal("still looking after the line came")
	}
	s.scanReady(s.outR, []byte("ready\n"))
	if len(s.lines.ch) != 0 {
		t.Fatal("a line matched while no run waits for one")
	}
	s.armReady()
	s.scanReady(s.outR, []byte("dy\n"))
	if len(s.lines.ch) != 0 {
		t.Fatal("a piece of line from an earlier run matched")
	}
	s.scanReady(s.outR, []byte("ready\n"))
	if len(s.lines.ch) != 1 {
		t.Fatal("the next run's line did not match")
	}
}

// Without wait_log nothing is looked at, and no channel is made: the loop
// waits on a nil one.
func TestScanReadyUnset(t *testing.T) {
	s := &sup{spec: &spec.Spec{}, outR: os.Stdin}
	s.armReady()
	s.scanReady(s.outR, []byte("ready\n"))
	if s.lines.ch != nil || s.lines.re.Load() != nil {
		t.Fatal("armed without wait_log")
	}
	if s.onlineTimer(0) == nil {
		t.Fatal("no online timer without wait_log")
	}
	s.spec.WaitLog = "ready"
	if s.onlineTimer(0) != nil {
		t.Fatal("an online timer with wait_log")
	}
	s.adopted = true
	if s.onlineTimer(0) == nil {
		t.Fatal("no online timer for an adopted run, whose line came long ago")
	}
}
