package envfile

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestSnapshotRoundTrip(t *testing.T) {
	env := []string{"PATH=/usr/bin:/bin", "MSG=it's a \"test\" $(id)", "MULTI=line1\nline2", "EMPTY=", "BASH_FUNC_f%%=() {  echo hi\n}", "EQ=a=b"}
	got, err := Parse(Format(env))
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(env)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("round trip:\n got %q\nwant %q", got, want)
	}
}

func TestSnapshotSourcesInSh(t *testing.T) {
	env := []string{"MSG=it's $(touch pwned)", "MULTI=a\nb"}
	out, err := exec.Command("sh", "-c", `set -a; eval "$1"; printf '%s|%s' "$MSG" "$MULTI"`, "sh", string(Format(env))).Output()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "it's $(touch pwned)|a\nb" {
		t.Errorf("sh read %q", out)
	}
}

func TestDotenv(t *testing.T) {
	in := `# comment
export A=1
B = two words   # trailing comment
C='single $x # not a comment'
D="double\nline \"q\""
E="spans
two lines"
F=
G=a#b
`
	got, err := Dotenv([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"A=1", "B=two words", "C=single $x # not a comment", "D=double\nline \"q\"", "E=spans\ntwo lines", "F=", "G=a#b"}
	if !slices.Equal(got, want) {
		t.Errorf("Dotenv:\n got %q\nwant %q", got, want)
	}
	for _, bad := range []string{"NOEQUALS\n", "1X=2\n", "A=\"open\n"} {
		if _, err := Dotenv([]byte(bad)); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("Dotenv(%q) error = %v, want one naming line 1", bad, err)
		}
	}
}

func TestSetMerge(t *testing.T) {
	env := Merge([]string{"A=1", "B=2", "A=3"}, "A=4", "C=5")
	if v, _ := Get(env, "A"); v != "4" || len(env) != 3 {
		t.Errorf("Merge = %q", env)
	}
}
