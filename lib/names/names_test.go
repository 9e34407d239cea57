package names

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		ok   bool
	}{
		{"plain", "server-3000", true},
		{"all allowed bytes", "a.b_c@d+e-F9", true},
		{"longest", strings.Repeat("a", 128), true},
		{"too long", strings.Repeat("a", 129), false},
		{"empty", "", false},
		{"slash", "a/b", false},
		{"dot-dot", "..", false},
		{"dot", ".", false},
		{"leading dot", ".hidden", false},
		{"leading dash", "-x", false},
		{"space", "a b", false},
		{"newline", "a\nb", false},
		{"glob", "a*", false},
		{"unicode", "café", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := Check(tc.in); (err == nil) != tc.ok {
				t.Errorf("Check(%q) = %v, want ok=%v", tc.in, err, tc.ok)
			}
		})
	}
}

func TestBase(t *testing.T) {
	for in, want := range map[string]string{
		"server.sh":          "server",
		"api/backend.js":     "backend",
		"/usr/bin/python3":   "python3",
		"app.test.js":        "app.test",
		".env":               ".env",
		"/srv/app/worker.py": "worker",
	} {
		if got := Base(in); got != want {
			t.Errorf("Base(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestJoinAndSpaced(t *testing.T) {
	if got := Join("server", 3000); got != "server-3000" {
		t.Errorf("Join = %q", got)
	}
	if got := Join("worker", 0); got != "worker" {
		t.Errorf("Join with no port = %q", got)
	}
	if got, changed := Spaced("limit  worker"); got != "limit-worker" || !changed {
		t.Errorf("Spaced = %q, %v", got, changed)
	}
}
