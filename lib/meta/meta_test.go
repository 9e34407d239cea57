package meta

import (
	"fmt"
	"os"
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
		{"leading equals is quoted (zsh =cmd)", "=ls", "'=ls'"},
		{"equals after a colon is quoted (zsh a:=cmd)", "/bin:=ls", "'/bin:=ls'"},
		{"double equals is quoted (zsh magic_equal_subst)", "k==ls", "'k==ls'"},
		{"equals inside a word stays bare", "--port=3000", "--port=3000"},
		{"lone equals is quoted", "=", "'='"},
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
		{"good", "script=/s pid=42 port=3000 start_time=5 type=cli", ""},
		{"legacy without type", "script=/s pid=42 port=3000 start_time=5", ""},
		{"stopped (pid 0)", "script=/s pid=0 port=3000 start_time=5 type=cli", ""},
		{"missing pid", "script=/s port=3000 start_time=5", "missing required field \"pid\""},
		{"pid not a number", "script=/s pid=x port=3000 start_time=5", "not a number"},
		{"pid 1, which is init", "script=/s pid=1 port=3000 start_time=5", "pid=1 cannot name a program"},
		{"port out of range", "script=/s pid=42 port=70000 start_time=5", "out of range"},
		{"unknown type", "script=/s pid=42 port=1 start_time=5 type=daemon", "neither cli nor ecosystem"},
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
	for k, ok := range map[string]bool{
		"owner": true, "tsm_id": true, "_x": true, "watch": true, "signal": true,
		"status": false, "path": false, "_": false, "history": false, "options": false, "functions": false,
		"A": false, "a-b": false, "": false,
	} {
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
	values := []string{"/srv/my app/$(touch pwned).sh", "it's `id`", "café ☕", "a\tb", "*", "~root", "-n", "x;y|z&w", `back\slash`, "",
		"=ls", "/bin:=ls", "k==ls", "{a,b}", "!!", "(x)", "#x", `"$HOME"`, ">pwned"}
	m := &Meta{}
	var keys []string
	for i, v := range values {
		k := fmt.Sprintf("v%d", i)
		keys = append(keys, k)
		m.Set(k, v)
	}
	for _, sh := range evalShells(t) {
		if got := evalBack(t, sh, m.String(), keys); !slices.Equal(got, values) {
			t.Errorf("%s read back %q, want %q", sh[0], got, values)
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
		// What tpm writes is safe to eval, unless a key is one zsh keeps
		// (which writers refuse before they get here).
		if !slices.ContainsFunc(m.Fields, func(f Field) bool { return Reserved(f.Key) }) {
			if err := CheckLine(line); err != nil {
				t.Fatalf("CheckLine(Format(%q)) = %v (line %q)", data, err, line)
			}
		}
	})
}

func TestCheckLine(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"tpm's own line", "script=/srv/app/server.sh pid=12345 port=3000 start_time=1694123456 type=cli cwd=/srv/app\n", ""},
		{"quoted values as Format writes them", `script='/a b/it'\''s $(x).sh' pid=1 port=0 start_time=0 note='' args='--port=3000 ~'`, ""},
		{"older bash TPM: no type, tsm_id, trailing blanks", "script=/x/s.sh pid=1 port=3000 start_time=5 tsm_id=3   ", ""},
		{"older bash TPM: CRLF and no final newline", "script=/x/s.sh pid=1 port=3000 start_time=5\r\n", ""},
		{"plain double-quoted text", `cwd="/srv/my app" a=1`, ""},
		{"empty bare value", "node_env= a=1", ""},
		{"equals inside a bare value", "args=--port=3000 path2=/a:/b x=a==b", ""},
		{"quoted equals", "x='=ls' y=a:'=ls'", ""},
		{"watch is a key like any other", "watch=src:lib", ""},

		{"command substitution", "a=$(id)", `unquoted "$" starts an expansion`},
		{"parameter", "a=x$HOME", `unquoted "$" starts an expansion`},
		{"backticks", "a=`id`", "runs a command"},
		{"tilde at the start", "a=~", "home folder"},
		{"tilde after a colon", "a=/x:~/y", "home folder"},
		{"glob star", "a=*", "is a glob"},
		{"glob class", "a=[x]", "is a glob"},
		{"braces", "a={x,y}", "brace expansion"},
		{"bang", "a=!x", "history expansion"},
		{"zsh =cmd at the start", "a==ls", `"=" at its start or after ":"`},
		{"zsh =cmd after a colon", "a=/bin:=ls", `"=" at its start or after ":"`},
		{"zsh =cmd after a quote", "a=''=ls", `"=" at its start or after ":"`},
		{"semicolon", "a=x;id", "ends the command"},
		{"ampersand", "a=x&id", "ends the command"},
		{"pipe", "a=x|id", "ends the command"},
		{"redirection", "a=x>y", "redirection"},
		{"parenthesis", "a=(x)", "subshell or an array"},
		{"hash", "a=#x", "comment"},
		{"dollar in double quotes", `a="$(id)"`, `"$" inside double quotes`},
		{"backslash in double quotes", `a="x\$y"`, `"\\" inside double quotes`},
		{"bang in double quotes", `a="x!y"`, `"!" inside double quotes`},
		{"backslash outside quotes", `a=x\y`, "escapes the next character"},
		{"escaped blank", `a=x\ y`, "escapes the next character"},
		{"non-ASCII bare", "a=café", "not ASCII"},
		{"control byte", "a=x\x01y", "control character"},
		{"reserved key", "script=/s history=x", `key "history" is not safe to eval: zsh reserves`},
		{"key through a backslash", `\a=1`, "not an assignment"},
		{"a line Parse refuses", "a='x", "unterminated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckLine([]byte(tc.in))
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("CheckLine(%q) = %v, want %q", tc.in, err, tc.want)
			}
		})
	}
}

func TestReservedSorted(t *testing.T) {
	if !slices.IsSorted(reserved) {
		t.Fatal("reserved is not sorted: Reserved searches it")
	}
	for _, k := range reserved {
		if !ValidKey(k) || !Reserved(k) {
			t.Errorf("reserved name %q: ValidKey %v, Reserved %v", k, ValidKey(k), Reserved(k))
		}
	}
}

// shell returns the path of a shell the test needs, or "" when it is not
// installed and the test may go without it. In CI (CI=true) every shell of
// the contract must be there.
func shell(t testing.TB, name string) string {
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true and %s is not installed", name)
	}
	t.Logf("%s is not installed: its half of the test is skipped", name)
	return ""
}

// zshSpecials lists every lower-case parameter that the zsh on this machine
// reports as special or read-only once all its modules are loaded.
const zshSpecials = `
setopt extended_glob
for d in $module_path; do
  for f in $d/zsh/**/*.so(N); do
    m=${${f#$d/}%.so}
    [[ $m == zsh/example ]] || zmodload $m 2>/dev/null
  done
done
for k in ${(k)parameters}; do
  [[ $k == [a-z_][a-z0-9_]# && ${parameters[(e)$k]} == *(special|readonly)* ]] && print -r -- $k
done
true
`

// TestReservedMatchesZsh asks the real zsh for its special parameters: each
// one must be reserved (watch excepted, see Reserved), and assigning to the
// read-only ones must indeed break an eval.
func TestReservedMatchesZsh(t *testing.T) {
	zsh := shell(t, "zsh")
	if zsh == "" {
		t.Skip("zsh is not installed")
	}
	out, err := exec.Command(zsh, "-f", "-c", zshSpecials).Output()
	if err != nil {
		t.Fatalf("zsh: %v", err)
	}
	names := strings.Fields(string(out))
	if !slices.Contains(names, "path") || !slices.Contains(names, "history") {
		t.Fatalf("zsh listed %q: the probe no longer works", names)
	}
	for _, k := range names {
		if k != "watch" && !Reserved(k) {
			t.Errorf("zsh treats %q as special, but Reserved does not list it", k)
		}
	}
	// The failures of the issue: after one of these, the rest of the line
	// is not set.
	for _, k := range []string{"history", "options", "functions", "status", "parameters", "zsh_eval_context"} {
		line := "a=1 " + k + "=x b=2"
		out, _ := exec.Command(zsh, "-f", "-c", `eval "$1" 2>/dev/null; print -r -- "b=$b"`, "zsh", line).Output()
		if strings.TrimSpace(string(out)) == "b=2" {
			t.Errorf("zsh evals %q fine: is %q still reserved by zsh?", line, k)
		}
	}
	// watch, allowed, reads back and breaks nothing.
	out, err = exec.Command(zsh, "-f", "-c", `eval "$1"; print -r -- "$watch|$b"`, "zsh", "watch='src:lib x' b=2").Output()
	if err != nil || string(out) != "src:lib x|2\n" {
		t.Errorf("zsh with watch: %q, %v", out, err)
	}
}

// evalShells are the shells a meta line must be safe in, with the flags
// that keep them from reading start-up files.
func evalShells(t testing.TB) [][]string {
	var shells [][]string
	for _, sh := range [][]string{{"sh"}, {"bash", "--norc", "--noprofile"}, {"zsh", "-f"}} {
		if p := shell(t, sh[0]); p != "" {
			shells = append(shells, append([]string{p}, sh[1:]...))
		}
	}
	return shells
}

// evalBack evals line in the shell sh in an empty folder, prints the values
// of keys back, and checks that the folder stayed empty: a value that ran
// anything (a touch, a redirection) leaves a file there.
func evalBack(t *testing.T, sh []string, line string, keys []string) []string {
	t.Helper()
	dir := t.TempDir()
	script := `eval "$1" || exit 9; shift; for k do eval "printf '%s\0' \"\${$k}\""; done`
	args := append(slices.Clone(sh[1:]), "-c", script, "sh", line)
	cmd := exec.Command(sh[0], append(args, keys...)...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "LC_ALL=C.UTF-8"}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("%s: eval %q: %v %s", sh[0], line, err, stderr.String())
	}
	if ents, _ := os.ReadDir(dir); len(ents) > 0 {
		t.Fatalf("%s: eval %q made %s: it ran something", sh[0], line, ents[0].Name())
	}
	got := strings.Split(string(out), "\x00")
	return got[:len(got)-1]
}

// FuzzFormat pins the writer's promise without any shell: every value tpm
// accepts formats to a line that parses back to the same value and that
// --check accepts as safe to eval.
func FuzzFormat(f *testing.F) {
	for _, v := range []string{"", "/srv/app", "it's", "=ls", "a:=ls", "k==x", "$(id)", "`id`", "~", "\\'", `"`, "é\xff", "\r\t"} {
		f.Add(v, "x")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if CheckValue(a) != nil || CheckValue(b) != nil {
			return
		}
		m := &Meta{Fields: []Field{{"script", a}, {"pid", "1"}, {"port", "0"}, {"start_time", "0"}, {"note", b}}}
		line := m.Format()
		m2, err := Parse(line)
		if err != nil {
			t.Fatalf("Parse(%q): %v", line, err)
		}
		if !slices.Equal(m2.Fields, m.Fields) {
			t.Fatalf("line %q parsed as %q, want %q", line, m2.Fields, m.Fields)
		}
		if err := CheckLine(line); err != nil {
			t.Fatalf("CheckLine(%q): %v", line, err)
		}
	})
}

// FuzzEval is the eval-safety fuzz target: arbitrary values (no NUL, no
// newline) are formatted into a line, each shell evals it in an empty
// folder, and the values come back unchanged with nothing run. The seeds run
// under go test; go test -fuzz=FuzzEval ./lib/meta explores further (one
// process per shell per input).
func FuzzEval(f *testing.F) {
	for _, s := range [][3]string{
		{"/srv/my app/$(touch sentinel).sh", "`touch sentinel`", "it's"},
		{"=ls", "a:=ls", "~root"},
		{"*", "{a,b}", "!!"},
		{"x;>sentinel", "a|b&c", "$HOME"},
		{"", "'", `\'`},
		{"é\xff\x01", "\t \r", "-n"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	shells := evalShells(f)
	keys := []string{"k1", "k2", "k3"}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		vals := []string{a, b, c}
		m := &Meta{}
		for i, v := range vals {
			if CheckValue(v) != nil {
				return
			}
			m.Set(keys[i], v)
		}
		line := m.String()
		if err := CheckLine([]byte(line)); err != nil {
			t.Fatalf("CheckLine(%q): %v", line, err)
		}
		for _, sh := range shells {
			if got := evalBack(t, sh, line, keys); !slices.Equal(got, vals) {
				t.Fatalf("%s: eval %q gave back %q, want %q", sh[0], line, got, vals)
			}
		}
	})
}
