package systemd

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestExecWord(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"plain path stays bare", "/usr/bin/node", "/usr/bin/node"},
		{"flag with = stays bare", "--port=3000", "--port=3000"},
		{"empty word is quoted", "", `""`},
		{"space is quoted", "my app", `"my app"`},
		{"dollar is doubled: ExecStart expands $VAR", "$HOME", `"$$HOME"`},
		{"percent is doubled: specifiers", "100%", `"100%%"`},
		{"quote and backslash escaped", `a"b\c`, `"a\"b\\c"`},
		{"single quote literal inside double quotes", "it's", `"it's"`},
		{"newline and tab as C escapes", "a\nb\tc", `"a\nb\tc"`},
		{"control byte as \\x", "a\x01b", `"a\x01b"`},
		{"invalid UTF-8 byte as \\x", "a\xffb", `"a\xffb"`},
		{"UTF-8 kept", "café", `"café"`},
		{"lone semicolon quoted", ";", `";"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := ExecWord(c.in); got != c.want {
				t.Errorf("ExecWord(%q) = %s, want %s", c.in, got, c.want)
			}
		})
	}
}

func TestAssignment(t *testing.T) {
	for _, c := range []struct{ name, k, v, want string }{
		{"bare", "PORT", "3000", "PORT=3000"},
		{"empty value stays bare", "X", "", "X="},
		{"dollar literal: Environment= expands no variables", "A", "$x", `"A=$x"`},
		{"percent doubled", "A", "50%", `"A=50%%"`},
		{"space quoted", "A", "a b", `"A=a b"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Assignment(c.k, c.v); got != c.want {
				t.Errorf("Assignment(%q, %q) = %s, want %s", c.k, c.v, got, c.want)
			}
		})
	}
}

func TestSetting(t *testing.T) {
	if got, err := Setting("/srv/my app/50%"); err != nil || got != "/srv/my app/50%%" {
		t.Errorf("Setting = %q, %v", got, err)
	}
	if _, err := Setting("a\nb"); err == nil {
		t.Error("a line break was accepted")
	}
	if _, err := Setting(" /x"); err == nil {
		t.Error("leading white space was accepted (systemd would drop it)")
	}
}

func TestUnitName(t *testing.T) {
	for in, want := range map[string]string{
		"api-3000":    "api-3000.service",
		"my.app_1":    "my.app_1.service",
		"web@blue":    `web\x40blue.service`, // @ would make a template instance
		"api+v2-3000": `api\x2bv2-3000.service`,
	} {
		if got := UnitName(in, ".service"); got != want {
			t.Errorf("UnitName(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestSpan(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                       "0",
		3 * time.Second:         "3s",
		90 * time.Second:        "90s",
		100 * time.Millisecond:  "100ms",
		1600 * time.Millisecond: "1600ms",
		1500 * time.Microsecond: "1500us",
		1500:                    "2us", // rounded up: never shorter than asked
	} {
		if got := Span(d); got != want {
			t.Errorf("Span(%v) = %s, want %s", d, got, want)
		}
	}
}

// TestEnvFileShell reads the environment file back with a POSIX shell,
// whose double quotes take the same escapes as systemd's environment
// files: every value must come back byte for byte.
func TestEnvFileShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	env := []string{
		"PLAIN=abc",
		"EMPTY=",
		`QUOTES=it's "quoted"`,
		`SPECIAL=$HOME ${x} ` + "`id`" + ` \n \\ 100%`,
		"LINES=one\ntwo\n",
		"UNICODE=café ☕",
		"BAD-NAME=x",
		"BAD_UTF8=\xff",
	}
	data, skipped := EnvFile([]string{"a header"}, env)
	if want := []string{"BAD-NAME", "BAD_UTF8"}; !slices.Equal(skipped, want) {
		t.Errorf("skipped %q, want %q", skipped, want)
	}
	if !strings.HasPrefix(string(data), "# a header\n") {
		t.Errorf("no header: %q", data)
	}
	f := filepath.Join(t.TempDir(), "env")
	if err := os.WriteFile(f, data, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, kv := range env[:6] {
		k, want, _ := strings.Cut(kv, "=")
		out, err := exec.Command(sh, "-c", `. "$1" && printf %s "$`+k+`"`, "sh", f).Output()
		if err != nil {
			t.Fatalf("sh: %v", err)
		}
		if string(out) != want {
			t.Errorf("%s came back as %q, want %q", k, out, want)
		}
	}
}
