package logfile

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestTailAt(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"a\nb\nc\n", 2, "b\nc\n"},
		{"a\nb\nc", 2, "b\nc"},
		{"a\nb\nc\n", 5, "a\nb\nc\n"},
		{"a\nb\nc\n", 3, "a\nb\nc\n"},
		{"", 3, ""},
		{"\n\n", 1, "\n"},
		{"only", 1, "only"},
	} {
		got, err := TailAt(strings.NewReader(tc.in), int64(len(tc.in)), tc.n)
		if err != nil || string(got) != tc.want {
			t.Errorf("TailAt(%q, %d) = %q, %v; want %q", tc.in, tc.n, got, err, tc.want)
		}
	}
}

func TestTailAcrossBlocks(t *testing.T) {
	var b bytes.Buffer
	for i := 0; i < 100000; i++ {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	got, err := TailAt(bytes.NewReader(b.Bytes()), int64(b.Len()), 20000)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
	if len(lines) != 20000 || lines[0] != "line 80000" || lines[19999] != "line 99999" {
		t.Errorf("got %d lines from %q to %q", len(lines), lines[0], lines[len(lines)-1])
	}
}
