package logcmd

import (
	"bufio"
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// merged reads files of one process as open does and merges them.
func merged(files map[string]string) string {
	var es []entry
	for _, k := range []string{kindOut, kindErr, kindEvents} {
		if data, ok := files[k]; ok {
			es = append(es, split(&stream{name: "x", kind: k, stamped: true}, []byte(data), "")...)
		}
	}
	slices.SortStableFunc(es, byTime)
	var b strings.Builder
	for _, e := range es {
		b.Write(e.line)
		b.WriteByte('\n')
	}
	return b.String()
}

// TestMergeOrder pins where events go among the program's lines of the same
// second: those before the second's first exit, restart or errored before
// the lines, the others after, in their own order.
func TestMergeOrder(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{
			"a start precedes the first lines, an exit follows the last",
			map[string]string{
				kindOut:    "09:00:01 a\n09:00:01 b\n",
				kindErr:    "09:00:01 e\n",
				kindEvents: "09:00:01 event=start pid=1\n09:00:01 event=exit code=1\n",
			},
			"09:00:01 event=start pid=1\n09:00:01 a\n09:00:01 b\n09:00:01 e\n09:00:01 event=exit code=1\n",
		},
		{
			"a crash loop in one second: only the leading start goes first",
			map[string]string{
				kindOut:    "09:00:01 run\n09:00:01 run\n",
				kindEvents: "09:00:01 event=start\n09:00:01 event=exit\n09:00:01 event=restart\n09:00:01 event=start\n09:00:01 event=exit\n09:00:01 event=errored\n",
			},
			"09:00:01 event=start\n09:00:01 run\n09:00:01 run\n09:00:01 event=exit\n09:00:01 event=restart\n09:00:01 event=start\n09:00:01 event=exit\n09:00:01 event=errored\n",
		},
		{
			"a second that opens with an exit keeps its start after the lines",
			map[string]string{
				kindOut:    "09:00:02 last\n",
				kindEvents: "09:00:02 event=exit\n09:00:02 event=restart\n09:00:02 event=start\n",
			},
			"09:00:02 last\n09:00:02 event=exit\n09:00:02 event=restart\n09:00:02 event=start\n",
		},
		{
			"a stop precedes the shutdown lines",
			map[string]string{
				kindOut:    "09:00:01 working\n09:00:03 bye\n",
				kindEvents: "09:00:03 event=stop signal=TERM\n09:00:03 event=exit signal=TERM\n",
			},
			"09:00:01 working\n09:00:03 event=stop signal=TERM\n09:00:03 bye\n09:00:03 event=exit signal=TERM\n",
		},
		{
			"other seconds sort by time",
			map[string]string{
				kindOut:    "09:00:02 b\n",
				kindEvents: "09:00:01 event=exit\n09:00:03 event=start\n",
			},
			"09:00:01 event=exit\n09:00:02 b\n09:00:03 event=start\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{}
			for k, v := range tc.files {
				files[k] = strings.ReplaceAll(v, "09:", "2026-11-29 09:")
			}
			want := strings.ReplaceAll(tc.want, "09:", "2026-11-29 09:")
			if got := merged(files); got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestFollowRoundOrder: lines seen in one look at the followed files are
// printed in time order, whatever file they were read from; the lines held
// are copies (the followers reuse their buffers).
func TestFollowRoundOrder(t *testing.T) {
	var out bytes.Buffer
	w := &writer{out: bufio.NewWriter(&out)}
	ev := &stream{name: "x", kind: kindEvents, stamped: true}
	so := &stream{name: "x", kind: kindOut, stamped: true}
	buf := []byte("2026-11-29 09:00:01 event=exit code=1")
	w.add(ev.entry(buf))
	copy(buf, "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX") // reused by its reader
	w.add(so.entry([]byte("2026-11-29 09:00:01 last")))
	w.add(so.entry([]byte("2026-11-29 09:00:00 before")))
	if err := w.flush(); err != nil {
		t.Fatal(err)
	}
	want := "2026-11-29 09:00:00 before\n2026-11-29 09:00:01 last\n2026-11-29 09:00:01 event=exit code=1\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

// TestShow pins how one line is shown: piped, on a terminal, with --utc,
// as JSON.
func TestShow(t *testing.T) {
	defer func(l *time.Location) { time.Local = l }(time.Local)
	time.Local = time.FixedZone("CET", 3600)
	ev := "2026-11-29 19:40:03 event=exit code=1 uptime=2.1s"
	for _, tc := range []struct {
		name string
		w    writer
		kind string
		line string
		want string
	}{
		{"event piped", writer{}, kindEvents, ev, ev},
		{"event on a terminal", writer{terminal: true}, kindEvents, ev, "2026-11-29 19:40:03 -- exit code=1 uptime=2.1s"},
		{"event in colour", writer{terminal: true, colour: true}, kindEvents, ev, "2026-11-29 19:40:03 \x1b[1m-- exit code=1 uptime=2.1s\x1b[0m"},
		{"errored in red", writer{terminal: true, colour: true}, kindEvents, "2026-11-29 19:40:03 event=errored restarts=3", "2026-11-29 19:40:03 \x1b[1;31m-- errored restarts=3\x1b[0m"},
		{"event line that does not parse", writer{terminal: true}, kindEvents, "2026-11-29 19:40:03 junk", "2026-11-29 19:40:03 junk"},
		{"output on a terminal", writer{terminal: true}, kindOut, "2026-11-29 19:40:03 event=fake", "2026-11-29 19:40:03 event=fake"},
		{"utc", writer{utc: true}, kindOut, "2026-11-29 00:30:00 hi", "2026-11-28 23:30:00 hi"},
		{"utc, no stamp", writer{utc: true}, kindOut, " rest of a line", " rest of a line"},
		{"json", writer{json: true}, kindErr, "2026-11-29 19:40:03 a<b & \"c\"\t", `{"time":"2026-11-29T19:40:03+01:00","name":"x","stream":"err","line":"a<b & \"c\"\t"}`},
		{"json utc event", writer{json: true, utc: true}, kindEvents, ev, `{"time":"2026-11-29T18:40:03Z","name":"x","stream":"event","line":"event=exit code=1 uptime=2.1s","event":"exit","code":"1","uptime":"2.1s"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			w := tc.w
			w.out = bufio.NewWriter(&out)
			s := &stream{name: "x", kind: tc.kind, stamped: true}
			if err := w.line(s.entry([]byte(tc.line))); err != nil {
				t.Fatal(err)
			}
			w.flush()
			if got := strings.TrimSuffix(out.String(), "\n"); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestJSONString: what jsonString writes is JSON that reads back as the
// text, with bytes that are not UTF-8 as U+FFFD, and <, >, & left alone.
func TestJSONString(t *testing.T) {
	cases := []string{"", "plain", "a<b>&c", "\"\\", "\x00\x01\x1f\x7f", "\n\r\t", "é€😀", "\xff\xfe bad", "\u2028\u2029", "half \xe2\x82"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, r.IntN(20))
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		q := jsonString(s)
		var back string
		if err := json.Unmarshal([]byte(q), &back); err != nil {
			t.Fatalf("%q: %s is not JSON: %v", s, q, err)
		}
		// Each byte that starts no UTF-8 character reads back as U+FFFD.
		var want strings.Builder
		for i := 0; i < len(s); {
			r, n := utf8.DecodeRuneInString(s[i:])
			want.WriteRune(r)
			i += n
		}
		if back != want.String() {
			t.Errorf("%q came back as %q, want %q", s, back, want.String())
		}
	}
	if q := jsonString("a<b>&c"); q != `"a<b>&c"` {
		t.Errorf("jsonString escaped HTML: %s", q)
	}
}

func TestStreams(t *testing.T) {
	for _, tc := range []struct {
		name string
		g    grammar
		want string
	}{
		{"default: everything", grammar{}, "out,err,events"},
		{"no events: the old default", grammar{NoEvents: true}, "out,err"},
		{"events only", grammar{Events: true}, "events"},
		{"out only", grammar{Out: true}, "out"},
		{"out without events", grammar{Out: true, NoEvents: true}, "out"},
		{"err and events", grammar{Err: true, Events: true}, "err,events"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := streams(&tc.g)
			if err != nil || strings.Join(got, ",") != tc.want {
				t.Errorf("got %v %v, want %s", got, err, tc.want)
			}
		})
	}
	if _, err := streams(&grammar{Events: true, NoEvents: true}); err == nil {
		t.Error("--events --no-events accepted")
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 11, 29, 19, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		loc  *time.Location
		want time.Time
	}{
		{"10m", time.UTC, now.Add(-10 * time.Minute)},
		{"1d", time.UTC, now.Add(-24 * time.Hour)},
		{"2026-11-29 18:40:03", time.UTC, time.Date(2026, 11, 29, 18, 40, 3, 0, time.UTC)},
		{"15:04", time.UTC, time.Date(2026, 11, 29, 15, 4, 0, 0, time.UTC)},
		{"15:04", time.FixedZone("CET", 3600), time.Date(2026, 11, 29, 14, 4, 0, 0, time.UTC)},
		{"2026-11-29T19:40:03+01:00", time.UTC, time.Date(2026, 11, 29, 18, 40, 3, 0, time.UTC)},
	} {
		got, err := parseSince(tc.in, now, tc.loc)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("parseSince(%q, %v) = %v %v, want %v", tc.in, tc.loc, got, err, tc.want)
		}
	}
	if _, err := parseSince("yesterday", now, time.UTC); err == nil {
		t.Error("yesterday accepted")
	}
}
