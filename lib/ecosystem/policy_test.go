package ecosystem

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tetra-toolkit/tpm/lib/exit"
)

// loadApps loads a JSON config of the given apps (JSON objects, comma
// separated) and returns it, or the error.
func loadApps(t *testing.T, apps string) (*Config, error) {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "ecosystem.json")
	if err := os.WriteFile(p, []byte(`{"apps": [`+apps+`]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	return Load(p, Options{Cwd: dir})
}

// Each policy field of PM2 (in PM2's units) and of tpm becomes its record
// key, with the value the record holds; warnings no longer name them.
func TestPolicyMapping(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fields string
		want   map[string]string
	}{
		{"max_memory_restart as PM2 writes it", `"max_memory_restart": "200M"`, map[string]string{"max_memory": "200M"}},
		{"max_memory_restart in bytes, as a dump has it", `"max_memory_restart": 104857600`, map[string]string{"max_memory": "104857600"}},
		{"cron_restart", `"cron_restart": "0 3 * * *"`, map[string]string{"cron_restart": "0 3 * * *"}},
		{"cron_restart with a descriptor", `"cron_restart": "@every 2s"`, map[string]string{"cron_restart": "@every 2s"}},
		{"watch: true is the app's folder", `"watch": true`, map[string]string{"watch": "."}},
		{"watch: false watches nothing", `"watch": false`, nil},
		{"watch as a path", `"watch": "src"`, map[string]string{"watch": "src"}},
		{"watch as a list", `"watch": ["src", "config"]`, map[string]string{"watch": "src,config"}},
		{"ignore_watch", `"watch": true, "ignore_watch": ["node_modules", "*.log"]`, map[string]string{"watch": ".", "watch_ignore": "node_modules,*.log"}},
		{"watch_delay in milliseconds", `"watch": true, "watch_delay": 1500`, map[string]string{"watch": ".", "watch_delay": "1.5s"}},
		{"watch_delay as a duration", `"watch": true, "watch_delay": "2s"`, map[string]string{"watch": ".", "watch_delay": "2s"}},
		{"health_http", `"health_http": "/healthz"`, map[string]string{"health_http": "/healthz"}},
		{"health_cmd, every, fails", `"health_cmd": "curl -fs localhost:3000", "health_every": 5000, "health_fails": 5`,
			map[string]string{"health_cmd": "curl -fs localhost:3000", "health_every": "5s", "health_fails": "5"}},
		{"wait_log", `"wait_log": "^listening on [0-9]+"`, map[string]string{"wait_log": "^listening on [0-9]+"}},
		{"on_event", `"on_event": "curl -fsS -d \"$TPM_NAME $TPM_EVENT\" https://hooks.example/x"`,
			map[string]string{"on_event": `curl -fsS -d "$TPM_NAME $TPM_EVENT" https://hooks.example/x`}},
		{"nulls are not set", `"max_memory_restart": null, "cron_restart": null, "watch": null`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadApps(t, `{"name": "a", "script": "a.js", `+tc.fields+`}`)
			if err != nil {
				t.Fatal(err)
			}
			got := cfg.Apps[0].Policy
			if len(got) != len(tc.want) {
				t.Errorf("policy %q, want %q", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("policy %q, want %q", got, tc.want)
				}
			}
			if len(cfg.Warnings) > 0 {
				t.Errorf("warnings %q", cfg.Warnings)
			}
		})
	}
}

// A bad policy value refuses the file (exit 65), naming the app and the
// field as the file has it.
func TestPolicyErrors(t *testing.T) {
	for _, tc := range []struct {
		name, fields, want string
	}{
		{"cron_restart that is no schedule", `"cron_restart": "never"`, `app "a": cron_restart "never": `},
		{"max_memory_restart that is no size", `"max_memory_restart": "lots"`, `app "a": max_memory_restart="lots": want a size`},
		{"health_http that is no path", `"health_http": "healthz"`, `app "a": health_http="healthz": want a path`},
		{"two health checks", `"health_http": "/h", "health_cmd": "true"`, `app "a": health_http and health_cmd: give one`},
		{"health_fails of 0", `"health_http": "/h", "health_fails": 0`, `app "a": health_fails="0": want a count of at least 1`},
		{"health_every too often", `"health_http": "/h", "health_every": 10`, `app "a": health_every="10ms": want a duration of at least 100ms`},
		{"wait_log that does not compile", `"wait_log": "ready("`, `app "a": wait_log: error parsing regexp`},
		{"watch_delay that is no duration", `"watch": true, "watch_delay": "soon"`, `app "a": watch_delay: `},
		{"watch that is an object", `"watch": {"src": true}`, `app "a": watch: want a string or a list of strings`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadApps(t, `{"name": "a", "script": "a.js", `+tc.fields+`}`)
			if err == nil {
				t.Fatal("loaded")
			}
			if exit.Code(err) != exit.DataErr {
				t.Errorf("exit code %d, want 65", exit.Code(err))
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one line holding %q", err, tc.want)
			}
		})
	}
}

// wait_ready is PM2's IPC readiness, which tpm cannot receive: it is named
// with the way out, unless the app already gives wait_log.
func TestWaitReady(t *testing.T) {
	const warning = `app "a": wait_ready: tpm cannot receive process.send('ready'); use wait_log with your ready line`
	for _, tc := range []struct {
		name, fields string
		want         []string
	}{
		{"wait_ready alone", `"wait_ready": true, "listen_timeout": 8000`, []string{warning, "ignoring fields tpm does not use: listen_timeout"}},
		{"wait_ready as a string", `"wait_ready": "true"`, []string{warning}},
		{"wait_ready with wait_log", `"wait_ready": true, "wait_log": "^ready$"`, nil},
		{"wait_ready false is PM2's default", `"wait_ready": false`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadApps(t, `{"name": "a", "script": "a.js", `+tc.fields+`}`)
			if err != nil {
				t.Fatal(err)
			}
			sameStrings(t, "warnings", cfg.Warnings, tc.want)
		})
	}
}

// depends_on: names of apps of the file, each list written back as the
// apps are named; an unknown name or a cycle refuses the file, over every
// app (--only does not hide them).
func TestDependsOn(t *testing.T) {
	t.Run("names as the apps have them", func(t *testing.T) {
		cfg, err := loadApps(t, `
			{"name": "limit worker", "script": "w.js"},
			{"name": "db", "script": "db.js"},
			{"name": "web", "script": "web.js", "depends_on": ["db", "limit worker", "db"]},
			{"name": "job", "script": "job.js", "depends_on": "db web"}`)
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Apps[2].Policy["depends_on"]; got != "db,limit-worker" {
			t.Errorf("web depends_on %q", got)
		}
		if got := cfg.Apps[3].Policy["depends_on"]; got != "db,web" {
			t.Errorf("job depends_on %q", got)
		}
	})
	for _, tc := range []struct {
		name string
		apps string
		only []string
		want string // a regular expression for the whole message
	}{
		{"an unknown name", `{"name": "web", "script": "web.js", "depends_on": ["dbx"]}`, nil,
			`ecosystem\.json: app "web": depends_on: no app is named "dbx"$`},
		{"an app without a name cannot be named", `{"script": "db.js"}, {"name": "web", "script": "web.js", "depends_on": "db-3000"}`, nil,
			`ecosystem\.json: app "web": depends_on: no app is named "db-3000"$`},
		{"a name that is no name", `{"name": "web", "script": "web.js", "depends_on": ["../db"]}`, nil,
			`ecosystem\.json: app "web": depends_on: "\.\./db" is not an app name$`},
		{"itself", `{"name": "web", "script": "web.js", "depends_on": ["web"]}`, nil,
			`ecosystem\.json: depends_on makes a cycle: web -> web$`},
		{"a cycle of three", `{"name": "a", "script": "a.js", "depends_on": "c"}, {"name": "b", "script": "b.js", "depends_on": "a"},
			{"name": "c", "script": "c.js", "depends_on": "b"}`, nil,
			`ecosystem\.json: depends_on makes a cycle: a -> c -> b -> a$`},
		{"a cycle outside --only", `{"name": "a", "script": "a.js", "depends_on": "b"}, {"name": "b", "script": "b.js", "depends_on": "a"},
			{"name": "c", "script": "c.js"}`, []string{"c"},
			`ecosystem\.json: depends_on makes a cycle: a -> b -> a$`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "ecosystem.json")
			if err := os.WriteFile(p, []byte(`{"apps": [`+tc.apps+`]}`), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(p, Options{Cwd: dir, Only: tc.only})
			if err == nil {
				t.Fatal("loaded")
			}
			if exit.Code(err) != exit.DataErr {
				t.Errorf("exit code %d, want 65", exit.Code(err))
			}
			msg := strings.TrimPrefix(err.Error(), dir+"/")
			if !regexp.MustCompile(tc.want).MatchString(msg) {
				t.Errorf("error %q, want %s", msg, tc.want)
			}
		})
	}
}

func TestCycle(t *testing.T) {
	for _, tc := range []struct {
		name string
		deps [][]int
		want []int
	}{
		{"none", [][]int{nil, {0}, {0, 1}}, nil},
		{"a diamond is no cycle", [][]int{nil, {0}, {0}, {1, 2}}, nil},
		{"self", [][]int{{0}}, []int{0, 0}},
		{"two", [][]int{{1}, {0}}, []int{0, 1, 0}},
		{"behind a chain", [][]int{{1}, {2}, {3}, {2}}, []int{2, 3, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := cycle(tc.deps)
			if len(got) != len(tc.want) {
				t.Fatalf("cycle %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("cycle %v, want %v", got, tc.want)
				}
			}
		})
	}
}
