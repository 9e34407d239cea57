package meta

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain path stays bare", "/srv/app/server.sh", "/srv/app/server.sh"},
		{"empty is two quotes", "", "''"},
		{"space is quoted", "/srv/my app", "'/srv/my app'"},
		{"single quote is closed and escaped", "it's", `'it'\''s'`},
		{"command substitution is inert", "$(rm -rf ~)", "'$(rm -rf ~)'"},
		{"backticks are inert", "`id`", "'`id`'"},
		{"safe punctuation stays bare", "a_b@c%d+e=f:g,h.i/j-k", "a_b@c%d+e=f:g,h.i/j-k"},
		{"unicode is quoted", "café", "'café'"},
		{"glob is quoted", "*.sh", "'*.sh'"},
		{"tilde is quoted", "~/x", "'~/x'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Quote(tc.in); got != tc.want {
				t.Errorf("Quote(%q) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []Field
	}{
		{"cli line of SPEC §2", "script=/srv/app/server.sh pid=12345 port=3000 start_time=1694123456 type=cli cwd=/srv/app\n",
			[]Field{{"script", "/srv/app/server.sh"}, {"pid", "12345"}, {"port", "3000"}, {"start_time", "1694123456"}, {"type", "cli"}, {"cwd", "/srv/app"}}},
		{"bash TPM line without type and with tsm_id", "script=/x/s.sh pid=1 port=3000 start_time=5 tsm_id=3",
			[]Field{{"script", "/x/s.sh"}, {"pid", "1"}, {"port", "3000"}, {"start_time", "5"}, {"tsm_id", "3"}}},
		{"trailing spaces and no newline", "a=1 b=2   ", []Field{{"a", "1"}, {"b", "2"}}},
		{"quoted value with escaped quote", `script='/a b/it'\''s.sh' pid=1`, []Field{{"script", "/a b/it's.sh"}, {"pid", "1"}}},
		{"double-quoted legacy value", `cwd="/a b/\$x"`, []Field{{"cwd", "/a b/$x"}}},
		{"empty value", "node_env= x=''", []Field{{"node_env", ""}, {"x", ""}}},
		{"tabs separate fields", "a=1\tb=2", []Field{{"a", "1"}, {"b", "2"}}},
		{"equals inside a value", "args=--port=3000", []Field{{"args", "--port=3000"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse([]byte(tc.in))
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if !slices.Equal(m.Fields, tc.want) {
				t.Errorf("Parse(%q) = %v, want %v", tc.in, m.Fields, tc.want)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty file", "", "empty"},
		{"blank file", " \n", "empty"},
		{"two lines", "a=1\nb=2\n", "more than one line"},
		{"word without equals", "script=/x garbage", "not key=value"},
		{"upper-case key", "PID=1", "bad key"},
		{"key starting with a digit", "1a=1", "bad key"},
		{"duplicate key", "a=1 a=2", "duplicate"},
		{"unterminated quote", "a='x", "unterminated"},
		{"quoted key", "'a'=1", "not key=value"},
		{"NUL byte", "a=\x00", "NUL"},
		{"newline inside quotes", "a='x\ny'", "more than one line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse(%q) error = %v, want one with %q", tc.in, err, tc.want)
			}
		})
	}
}

func TestFormatOrder(t *testing.T) {
	m := &Meta{Fields: []Field{{"owner", "bob"}, {"type", "cli"}, {"pid", "7"}, {"script", "/s"}, {"cwd", "/"}, {"port", "0"}, {"start_time", "1"}}}
	want := "script=/s pid=7 port=0 start_time=1 type=cli owner=bob cwd=/\n"
	if got := string(m.Format()); got != want {
		t.Errorf("Format = %q, want %q", got, want)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"good", "script=/s pid=1 port=3000 start_time=5 type=cli", ""},
		{"legacy without type", "script=/s pid=1 port=3000 start_time=5", ""},
		{"missing pid", "script=/s port=3000 start_time=5", "missing required field \"pid\""},
		{"pid not a number", "script=/s pid=x port=3000 start_time=5", "not a number"},
		{"port out of range", "script=/s pid=1 port=70000 start_time=5", "out of range"},
		{"unknown type", "script=/s pid=1 port=1 start_time=5 type=daemon", "neither cli nor ecosystem"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			err = m.Validate()
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("Validate(%q) = %v, want %q", tc.in, err, tc.want)
			}
		})
	}
}

func TestCheckKey(t *testing.T) {
	for k, ok := range map[string]bool{"owner": true, "tsm_id": true, "_x": true, "status": false, "path": false, "_": false, "A": false, "a-b": false} {
		if err := CheckKey(k); (err == nil) != ok {
			t.Errorf("CheckKey(%q) = %v, want ok=%v", k, err, ok)
		}
	}
}

func TestWords(t *testing.T) {
	for _, words := range [][]string{
		nil,
		{"--port", "3000"},
		{"a b", "it's", "", `"q"`, "$(x)", "back\\slash", "multi\nline"},
	} {
		s := JoinWords(words)
		got, err := SplitWords(s)
		if err != nil {
			t.Fatalf("SplitWords(%q): %v", s, err)
		}
		if len(got) != len(words) || (len(words) > 0 && !slices.Equal(got, words)) {
			t.Errorf("SplitWords(JoinWords(%q)) = %q", words, got)
		}
	}
}

// TestEvalInShells checks the promise that matters to scripts: a line
// written by Format, eval'd by a real shell, gives back each value unchanged
// and executes nothing.
func TestEvalInShells(t *testing.T) {
	values := []string{"/srv/my app/$(touch pwned).sh", "it's `id`", "café ☕", "a\tb", "*", "~root", "-n", "x;y|z&w", `back\slash`, ""}
	m := &Meta{}
	for i, v := range values {
		m.Set("v"+string(rune('a'+i)), v)
	}
	for _, sh := range []string{"bash", "zsh"} {
		path, err := exec.LookPath(sh)
		if err != nil {
			t.Logf("%s not installed: skipped", sh)
			continue
		}
		script := "set -u; eval \"$1\"; for k in va vb vc vd ve vf vg vh vi vj; do eval 'printf \"%s\\0\" \"${'$k'}\"'; done"
		dir := t.TempDir()
		cmd := exec.Command(path, "-c", script, sh, m.String())
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", sh, err)
		}
		got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
		if !slices.Equal(got, values) {
			t.Errorf("%s read back %q, want %q", sh, got, values)
		}
	}
}

// FuzzParse pins the round trip: whatever parses formats to a line that
// parses to the same fields, and formatting is stable.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"script=/srv/app/server.sh pid=12345 port=3000 start_time=1694123456 type=cli cwd=/srv/app",
		`script='/a b/it'\''s.sh' pid=1 port=0 start_time=0`,
		`cwd="/a b/\$x" tsm_id=3`,
		"a= b='' c=\\x",
		"x=1\ty=2  \n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			return
		}
		if m.Check() != nil {
			return // parsed but not storable (e.g. a value with a newline via \ escapes)
		}
		line := m.Format()
		m2, err := Parse(line)
		if err != nil {
			t.Fatalf("Parse(Format(%q)) = %v (line %q)", data, err, line)
		}
		// Format puts the required fields first; compare as sets in order of m.
		for _, fl := range m.Fields {
			if v, ok := m2.Get(fl.Key); !ok || v != fl.Value {
				t.Fatalf("field %s: %q became %q (line %q)", fl.Key, fl.Value, v, line)
			}
		}
		if len(m2.Fields) != len(m.Fields) {
			t.Fatalf("fields %v became %v", m.Fields, m2.Fields)
		}
		if line2 := m2.Format(); string(line2) != string(line) {
			t.Fatalf("Format not stable: %q then %q", line, line2)
		}
	})
}
