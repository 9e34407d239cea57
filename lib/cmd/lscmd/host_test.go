package lscmd

import (
	"slices"
	"strings"
	"testing"
)

// A host's piped row becomes the terminal's cells as tpm-ls writes its own:
// dashes for a PID and PORT of 0, uptime, CPU and memory only while the
// program runs; a row of another form stays as it came.
func TestHumanRow(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"running", "api\tonline\t4242\t3000\t7300\t2\t12.50\t13107200", "api|online|4242|3000|2h|2|12s|12.5M"},
		{"stopped, no port", "job\tstopped\t0\t0\t0\t0\t0.00\t0", "job|stopped|-|-|-|0|-|-"},
		{"a newer form, one column more", "api\tonline\t1\t2\t3\t4\t5\t6\textra", "api|online|1|2|3|4|5|6|extra"},
		{"not numbers", "api\tonline\tx\t2\t3\t4\t5\t6", "api|online|x|2|3|4|5|6"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := strings.Join(humanRow(strings.Split(c.in, "\t"), false), "|")
			if got != c.want {
				t.Fatalf("humanRow(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestHostObjects(t *testing.T) {
	in := "[\n  {\"name\":\"a\",\"pid\":1},\n  {\"name\":\"b\",\"host\":\"meta\"}\n]\n"
	got, err := hostObjects("web1", strings.NewReader(in))
	var s []string
	for _, o := range got {
		s = append(s, string(o))
	}
	want := []string{`{"host":"web1","name":"a","pid":1}`, `{"host":"web1","name":"b"}`}
	if err != nil || !slices.Equal(s, want) {
		t.Fatalf("hostObjects = %q, %v; want %q", s, err, want)
	}
	if got, err := hostObjects("web1", strings.NewReader("")); err != nil || got != nil {
		t.Errorf("no output: %q, %v", got, err)
	}
	if _, err := hostObjects("web1", strings.NewReader("[{")); err == nil {
		t.Error("cut JSON: no error")
	}
}
