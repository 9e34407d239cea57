package port

import (
	"os"
	"path/filepath"
	"testing"
)

func TestPortLine(t *testing.T) {
	for line, want := range map[string]int{
		"PORT=3000":                 3000,
		"export PORT=8080":          8080,
		"  export\tPORT=\"4000\"":   4000,
		"PORT='5000' # the web app": 5000,
		"PORT=${PORT:-3001}":        3001,
		"MYPORT=3000":               0,
		"PORT=abc":                  0,
		"PORT=70000":                0,
		"# PORT=3000":               0,
		"exportPORT=3000":           0,
	} {
		got, ok := portLine(line)
		if !ok {
			got = 0
		}
		if got != want {
			t.Errorf("portLine(%q) = %d, want %d", line, got, want)
		}
	}
}

func TestFromArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"-m", "http.server", "--port", "8000"}, 8000},
		{[]string{"--port=9000"}, 9000},
		{[]string{"-p", "7000", "--port", "1"}, 7000},
		{[]string{"--port"}, 0},
		{[]string{"8000"}, 0},
	} {
		got, _ := FromArgs(tc.args)
		if got != tc.want {
			t.Errorf("FromArgs(%q) = %d, want %d", tc.args, got, tc.want)
		}
	}
}

func TestFindLadder(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "server.sh")
	os.WriteFile(script, []byte("#!/bin/sh\n# a server\nexport PORT=3000\nexec sleep 100\n"), 0o755)
	bin := filepath.Join(dir, "bin")
	os.WriteFile(bin, []byte("PORT=1\x00binary"), 0o755)
	for _, tc := range []struct {
		name, flag, env string
		args            []string
		script          string
		want            int
		wantErr         bool
	}{
		{"flag wins", "4000", "5000", []string{"--port", "6000"}, script, 4000, false},
		{"env before args", "", "5000", []string{"--port", "6000"}, script, 5000, false},
		{"args before script", "", "", []string{"--port", "6000"}, script, 6000, false},
		{"script last", "", "", nil, script, 3000, false},
		{"none", "none", "5000", nil, script, 0, false},
		{"auto is the caller's to resolve", "auto", "5000", nil, script, Auto, false},
		{"binary not scanned", "", "", nil, bin, 0, true},
		{"bad env", "", "x", nil, script, 0, true},
		{"bad flag", "99999", "", nil, script, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := Find(tc.flag, tc.env, tc.args, tc.script)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("Find = %d, %v; want %d, err=%v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}
