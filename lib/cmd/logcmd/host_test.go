package logcmd

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/tetra-toolkit/tpm/lib/remote"
)

// A host's "NAME | line" (padded on a terminal) becomes "HOST:NAME | line",
// padded to the widest HOST:NAME on a terminal; --json lines get a host
// member; a line cut in pieces gets its prefix once.
func TestHostPieces(t *testing.T) {
	for _, c := range []struct {
		name     string
		h        hostLog
		host, in string
		want     string
	}{
		{"piped", hostLog{prefixed: true}, "web1", "api | 2026-01-02 03:04:05 hello | world\n",
			"web1:api | 2026-01-02 03:04:05 hello | world\n"},
		{"a terminal's padding replaced", hostLog{prefixed: true, terminal: true, pad: 12}, "web1", "api     | x\n",
			"web1:api     | x\n"},
		{"no prefix found: the host alone", hostLog{prefixed: true}, "web1", "odd line\n", "web1 | odd line\n"},
		{"json", hostLog{json: true}, "web1", `{"time":null,"name":"api","line":"a"}` + "\n",
			`{"host":"web1","time":null,"name":"api","line":"a"}` + "\n"},
		{"one host: as it came", hostLog{}, "web1", "2026-01-02 03:04:05 x\n", "2026-01-02 03:04:05 x\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			h := c.h
			h.out = bufio.NewWriter(&b)
			h.colours = map[string]int{}
			j := &remote.Job{Host: c.host}
			if err := h.copy(j, strings.NewReader(c.in)); err != nil {
				t.Fatal(err)
			}
			h.out.Flush()
			if b.String() != c.want {
				t.Fatalf("got %q, want %q", b.String(), c.want)
			}
		})
	}
	// A long line: the prefix once, the rest whole.
	var b bytes.Buffer
	h := hostLog{prefixed: true, out: bufio.NewWriter(&b), colours: map[string]int{}}
	long := "api | " + strings.Repeat("y", 200<<10) + "\napi | next\n"
	if err := h.copy(&remote.Job{Host: "h"}, strings.NewReader(long)); err != nil {
		t.Fatal(err)
	}
	h.out.Flush()
	if want := "h:api | " + strings.Repeat("y", 200<<10) + "\nh:api | next\n"; b.String() != want {
		t.Fatalf("long line: %d bytes, want %d", b.Len(), len(want))
	}
}
