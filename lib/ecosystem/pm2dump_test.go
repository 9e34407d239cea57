package ecosystem

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tetra-toolkit/tpm/lib/exit"
)

// testdata/pm2dump/dump.pm2 was written by a real PM2 (7.0.4, `pm2 save`;
// make.sh beside it says how): api from an ecosystem file with --env
// production, report with autorestart false and max_memory_restart, worker
// with args and a variable of the shell, web in cluster mode with 2
// instances, and tick, stopped.
const realDump = "testdata/pm2dump/dump.pm2"

// The environment every process of the real dump ran with, PM2's own
// variables left out: the env -i shell of make.sh.
func deployEnv(kv ...string) map[string]string {
	env := map[string]string{
		"HOME": "/home/deploy",
		"LANG": "C.UTF-8",
		"PATH": "/home/deploy/.npm-global/bin:/usr/local/bin:/usr/bin:/bin",
	}
	for i := 0; i < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return env
}

func TestLoadRealDump(t *testing.T) {
	cfg, err := Load(realDump, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Path != abs(t, realDump) {
		t.Errorf("path %q", cfg.Path)
	}
	sameApps(t, cfg.Apps, []App{
		{Index: 0, Name: "api", Script: "/home/deploy/app/api.js", Interpreter: "node",
			InterpreterArgs: []string{"--max-old-space-size=128"}, Cwd: "/home/deploy/app", Instances: 1,
			Env:     deployEnv("PORT", "47310", "LOG_LEVEL", "warn", "NODE_ENV", "production"),
			NodeEnv: "production", Autorestart: ptr(true), MaxRestarts: ptr(5), MinUptime: ptr(5 * time.Second),
			RestartDelay: ptr(2 * time.Second), KillTimeout: ptr(5 * time.Second)},
		{Index: 1, Name: "report", Script: "/home/deploy/app/report.sh", Args: []string{"--daily", "--to", "ops@example.com"},
			Interpreter: "bash", InterpreterArgs: []string{}, Cwd: "/home/deploy/app", Instances: 1,
			Env: deployEnv("REPORT_MODE", "full"), Autorestart: ptr(false),
			Policy: map[string]string{"max_memory": "104857600"}}, // max_memory_restart, in bytes in a dump
		{Index: 2, Name: "worker", Script: "/home/deploy/app/worker.sh", Args: []string{"--queue", "jobs", "--verbose"},
			Interpreter: "bash", InterpreterArgs: []string{}, Cwd: "/home/deploy", Instances: 1,
			Env: deployEnv("QUEUE_URL", "redis://127.0.0.1:6379/0"), Autorestart: ptr(true)},
		{Index: 3, Name: "web", Script: "/home/deploy/app/web.js", Interpreter: "node", InterpreterArgs: []string{},
			Cwd: "/home/deploy/app", Instances: 2, Env: deployEnv("PORT", "47320"), Autorestart: ptr(true), ClusterMode: true},
	})
	sameStrings(t, "warnings", cfg.Warnings, []string{
		`app "tick" was stopped when PM2 saved it: not started (--only tick starts it)`,
		`app "web": exec_mode cluster runs its instances as separate processes`,
	})
}

// --only names the processes to start, a stopped one included, and then
// no app is said to be left stopped.
func TestDumpOnly(t *testing.T) {
	cfg, err := Load(realDump, Options{Only: []string{"tick", "worker"}})
	if err != nil {
		t.Fatal(err)
	}
	sameApps(t, cfg.Apps, []App{
		{Index: 2, Name: "worker", Script: "/home/deploy/app/worker.sh", Args: []string{"--queue", "jobs", "--verbose"},
			Interpreter: "bash", InterpreterArgs: []string{}, Cwd: "/home/deploy", Instances: 1,
			Env: deployEnv("QUEUE_URL", "redis://127.0.0.1:6379/0"), Autorestart: ptr(true)},
		// PYTHONUNBUFFERED is PM2's, for python, but the program's
		// output depends on it: kept.
		{Index: 4, Name: "tick", Script: "/home/deploy/app/tick.py", Interpreter: "python3", InterpreterArgs: []string{},
			Cwd: "/home/deploy/app", Instances: 1, Env: deployEnv("PYTHONUNBUFFERED", "1"), Autorestart: ptr(true)},
	})
	sameStrings(t, "warnings", cfg.Warnings, nil)

	_, err = Load(realDump, Options{Only: []string{"nope"}})
	if exit.Code(err) != exit.NoInput || !strings.Contains(err.Error(), `no app named "nope"`) {
		t.Errorf("--only nope: %v (exit %d)", err, exit.Code(err))
	}
}

// pm2 jlist prints the same records wrapped with the pid and metrics; in a
// .json file they are a dump, and give the same apps.
func TestDumpFromJlist(t *testing.T) {
	data, err := os.ReadFile(realDump)
	if err != nil {
		t.Fatal(err)
	}
	var records []json.RawMessage
	if err := json.Unmarshal(data, &records); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.WriteString("[")
	for i, r := range records {
		if i > 0 {
			b.WriteString(",")
		}
		var head struct {
			Name string `json:"name"`
		}
		json.Unmarshal(r, &head)
		// jlist keeps pm_id and instances, which pm2 save drops.
		r = bytes.Replace(r, []byte("{"), []byte(`{"pm_id": `+strconv.Itoa(i)+`, "instances": 1, `), 1)
		b.WriteString(`{"pid": 0, "name": ` + strconv.Quote(head.Name) + `, "pm_id": ` + strconv.Itoa(i) +
			`, "monit": {"memory": 0, "cpu": 0}, "pm2_env": ` + string(r) + "}")
	}
	b.WriteString("]")
	p := filepath.Join(t.TempDir(), "procs.json")
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	want, err := Load(realDump, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Load(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sameApps(t, got.Apps, want.Apps)
	sameStrings(t, "warnings", got.Warnings, want.Warnings)
}

func TestIsDump(t *testing.T) {
	for _, tc := range []struct {
		path string
		want bool
	}{
		{"dump.pm2", true},
		{"/home/u/.pm2/dump.pm2", true},
		{"/home/u/.pm2/dump.pm2.bak", true},
		{"backup/Prod.PM2", true},
		{"/home/u/.pm2", false}, // PM2's folder, not a list
		{".pm2", false},
		{"dump.json", false}, // a dump under another name is known by its content
		{"pm2.config.js", false},
		{"app.pm2.js", false},
	} {
		if got := IsDump(tc.path); got != tc.want {
			t.Errorf("IsDump(%q) = %v, want %v", tc.path, got, tc.want)
		}
		if got := IsConfig(tc.path); tc.want && !got {
			t.Errorf("IsConfig(%q) = false for a dump", tc.path)
		}
	}
}

// proc is a process record as pm2 save writes it, with the fields every
// record has; fields adds or replaces some (JSON members, no braces). As
// PM2 does, every variable of env is copied beside the fields.
func proc(name, fields string) string {
	rec := map[string]json.RawMessage{}
	base := `{"name": ` + strconv.Quote(name) + `, "pm_exec_path": "/srv/app/` + name + `.sh", "pm_cwd": "/srv/app",
		"exec_interpreter": "bash", "exec_mode": "fork_mode", "status": "online", "autorestart": true,
		"autostart": true, "vizion": true, "pmx": true, "automation": true, "treekill": true,
		"windowsHide": true, "kill_retry_time": 100, "merge_logs": true, "watch": false,
		"instance_var": "NODE_APP_INSTANCE", "namespace": "default", "node_args": [], "filter_env": [],
		"NODE_APP_INSTANCE": 0, "username": "deploy", "km_link": false, "vizion_running": false,
		"pm_out_log_path": "/home/deploy/.pm2/logs/x-out.log", "pm_pid_path": "/home/deploy/.pm2/pids/x-0.pid",
		"pm_uptime": 1795981686127, "created_at": 1795981686127, "restart_time": 3, "unstable_restarts": 0,
		"axm_actions": [], "axm_monitor": {}, "axm_options": {}, "axm_dynamic": {}, "version": "N/A",
		"_pm2_version": "7.0.4", "node_version": "20.20.2", "_tree_pids": [1, 2], "exit_code": 0,
		"env": {"HOME": "/home/deploy", "PM2_HOME": "/home/deploy/.pm2", "PM2_USAGE": "CLI", "unique_id": "d0f7", ` +
		strconv.Quote(name) + `: "{}"}}`
	for _, src := range []string{base, "{" + fields + "}"} {
		var part map[string]json.RawMessage
		if err := json.Unmarshal([]byte(src), &part); err != nil {
			panic(err)
		}
		maps.Copy(rec, part)
	}
	var env map[string]json.RawMessage
	if json.Unmarshal(rec["env"], &env) == nil {
		for k, v := range env {
			if _, ok := rec[k]; !ok {
				rec[k] = v
			}
		}
	}
	b, err := json.Marshal(rec)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func loadDump(t *testing.T, opt Options, procs ...string) (*Config, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "dump.pm2")
	if err := os.WriteFile(p, []byte("[\n"+strings.Join(procs, ",\n")+"\n]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return Load(p, opt)
}

// What a dump holds that a config does not, case by case.
func TestDumpMapping(t *testing.T) {
	sh := func(name string) string { return "/srv/app/" + name + ".sh" }
	for _, tc := range []struct {
		name     string
		procs    []string
		opt      Options
		want     []App // Interpreter bash, Cwd /srv/app, Instances 1, Autorestart true unless set
		warnings []string
	}{
		{"PM2's own fields and variables are left out, the user's kept",
			[]string{proc("api", `"env": {"HOME": "/home/deploy", "PM2_HOME": "/x", "PM2_USAGE": "CLI", "PM2_JSON_PROCESSING": "true",
				"unique_id": "d0f7", "api": "{}", "NODE_APP_INSTANCE": 0, "DATABASE_URL": "postgres://db/app", "PORT": 3000, "DEBUG": false},
				"DATABASE_URL": "postgres://db/app", "PORT": 3000, "DEBUG": false`)},
			Options{},
			[]App{{Name: "api", Env: map[string]string{"HOME": "/home/deploy", "DATABASE_URL": "postgres://db/app", "PORT": "3000", "DEBUG": "false"}}},
			nil},
		{"a variable named like the app is PM2's module settings",
			[]string{proc("web", `"env": {"web": {"key": "v"}, "web2": "kept"}`)},
			Options{},
			[]App{{Name: "web", Env: map[string]string{"web2": "kept"}}},
			nil},
		{"instances fold into one app, in instance order, the first one's env",
			[]string{
				proc("pool", `"NODE_APP_INSTANCE": 1, "increment_var": "WORKER_PORT", "env": {"WORKER_PORT": 4001}, "WORKER_PORT": 4001`),
				proc("solo", ``),
				proc("pool", `"NODE_APP_INSTANCE": 0, "increment_var": "WORKER_PORT", "env": {"WORKER_PORT": 4000}, "WORKER_PORT": 4000`),
			},
			Options{},
			[]App{
				{Index: 0, Name: "pool", Instances: 2, IncrementVar: "WORKER_PORT", Env: map[string]string{"WORKER_PORT": "4000"}},
				{Index: 1, Name: "solo"},
			},
			nil},
		{"a custom instance_var is dropped from the record and warned about",
			[]string{
				proc("q", `"instance_var": "INSTANCE_ID", "INSTANCE_ID": 1, "NODE_APP_INSTANCE": 7, "env": {"INSTANCE_ID": 1, "HOME": "/home/deploy"}`),
				proc("q", `"instance_var": "INSTANCE_ID", "INSTANCE_ID": 0, "NODE_APP_INSTANCE": 7, "env": {"INSTANCE_ID": 0, "HOME": "/home/deploy"}`),
			},
			Options{},
			[]App{{Name: "q", Instances: 2}},
			[]string{"ignoring fields tpm does not use: instance_var"}},
		{"options at PM2's defaults are silent, options set are named",
			[]string{proc("cron", `"treekill": false, "watch": ["src"], "ignore_watch": ["node_modules"], "cron_restart": "0 3 * * *",
				"max_memory_restart": 104857600, "namespace": "jobs", "wait_ready": true, "listen_timeout": 8000`)},
			Options{},
			[]App{{Name: "cron", Policy: map[string]string{"cron_restart": "0 3 * * *", "max_memory": "104857600", "watch": "src", "watch_ignore": "node_modules"}}},
			[]string{
				`app "cron": wait_ready: tpm cannot receive process.send('ready'); use wait_log with your ready line`,
				"ignoring fields tpm does not use: listen_timeout, namespace, treekill",
			}},
		{"policies in PM2's units",
			[]string{proc("p", `"autorestart": false, "max_restarts": 3, "min_uptime": 2500, "restart_delay": 100,
				"exp_backoff_restart_delay": 150, "kill_timeout": 1600, "stop_exit_codes": [0, 3], "time": true,
				"log_date_format": "YYYY-MM-DDTHH:mm:ss"`)},
			Options{},
			[]App{{Name: "p", Autorestart: ptr(false), MaxRestarts: ptr(3), MinUptime: ptr(2500 * time.Millisecond),
				RestartDelay: ptr(100 * time.Millisecond), ExpBackoff: ptr(150 * time.Millisecond), KillTimeout: ptr(1600 * time.Millisecond),
				StopExitCodes: []int{0, 3}, Time: ptr(true), LogDateFormat: "YYYY-MM-DDTHH:mm:ss"}},
			nil},
		{"a command line PM2 ran through bash -c, and a binary",
			[]string{
				proc("static", `"pm_exec_path": "/usr/bin/bash", "exec_interpreter": "none", "args": ["-c", "python3 -m http.server 8123"]`),
				proc("npmapp", `"pm_exec_path": "/usr/bin/npm", "exec_interpreter": "/usr/bin/node", "args": ["start"], "pm_cwd": "/srv/web"`),
			},
			Options{},
			[]App{
				{Index: 0, Name: "static", Script: "/usr/bin/bash", Interpreter: "none", Args: []string{"-c", "python3 -m http.server 8123"}},
				{Index: 1, Name: "npmapp", Script: "/usr/bin/npm", Interpreter: "/usr/bin/node", Args: []string{"start"}, Cwd: "/srv/web"},
			},
			nil},
		{"no name: PM2's default, the script's name",
			[]string{proc("x", `"name": null, "pm_exec_path": "/srv/app/server.js", "exec_interpreter": "node", "env": {"HOME": "/home/deploy"}`)},
			Options{},
			[]App{{Name: "server", Script: "/srv/app/server.js", Interpreter: "node"}},
			nil},
		{"no pm_cwd: the script's folder",
			[]string{proc("x", `"pm_cwd": null, "pm_exec_path": "/opt/x/x.sh"`)},
			Options{},
			[]App{{Name: "x", Script: "/opt/x/x.sh", Cwd: "/opt/x"}},
			nil},
		{"env_<NAME> was merged at the start: dropped, and --env finds none",
			[]string{proc("api", `"env": {"NODE_ENV": "production"}, "env_production": {"NODE_ENV": "production"}, "env_staging": {"NODE_ENV": "staging"}`)},
			Options{EnvName: "staging"},
			[]App{{Name: "api", Env: map[string]string{"NODE_ENV": "production"}, NodeEnv: "production"}},
			[]string{"no app has env_staging"}},
		{"every process stopped: nothing to start",
			[]string{proc("a", `"status": "stopped"`), proc("b", `"status": "stopped", "max_memory_restart": 1`)},
			Options{},
			nil,
			[]string{
				`app "a" was stopped when PM2 saved it: not started (--only a starts it)`,
				`app "b" was stopped when PM2 saved it: not started (--only b starts it)`,
			}},
		{"errored and stopping processes start, as pm2 resurrect starts them",
			[]string{proc("a", `"status": "errored"`), proc("b", `"status": "stopping"`)},
			Options{},
			[]App{{Index: 0, Name: "a"}, {Index: 1, Name: "b"}},
			nil},
		{"some instances stopped: all start",
			[]string{proc("w", `"status": "stopped"`), proc("w", `"NODE_APP_INSTANCE": 1`), proc("w", `"NODE_APP_INSTANCE": 2`)},
			Options{},
			[]App{{Name: "w", Instances: 3}},
			[]string{`app "w": 1 of its 3 instances were stopped when PM2 saved it; all 3 start`}},
		{"no args and empty args are one program",
			[]string{proc("w", `"args": []`), proc("w", `"NODE_APP_INSTANCE": 1`)},
			Options{},
			[]App{{Name: "w", Instances: 2}},
			nil},
		{"a name with a space is renamed as in a config",
			[]string{proc("limit worker", `"status": "stopped"`), proc("limit worker", `"status": "stopped", "NODE_APP_INSTANCE": 1`)},
			Options{},
			nil,
			[]string{`app "limit-worker" was stopped when PM2 saved it: not started (--only limit-worker starts it)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := loadDump(t, tc.opt, tc.procs...)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tc.want {
				w := &tc.want[i]
				if w.Script == "" {
					w.Script = sh(w.Name)
				}
				if w.Interpreter == "" {
					w.Interpreter = "bash"
				}
				if w.InterpreterArgs == nil {
					w.InterpreterArgs = []string{}
				}
				if w.Cwd == "" {
					w.Cwd = "/srv/app"
				}
				if w.Instances == 0 {
					w.Instances = 1
				}
				if w.Env == nil {
					w.Env = map[string]string{"HOME": "/home/deploy"}
				}
				if w.Autorestart == nil {
					w.Autorestart = ptr(true)
				}
			}
			sameApps(t, cfg.Apps, tc.want)
			sameStrings(t, "warnings", cfg.Warnings, tc.warnings)
		})
	}
}

// A dump that cannot be read as processes starts nothing: exit 65, the
// file named, and what is wrong.
func TestDumpErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		code      int
		want      string
	}{
		{"empty list", "[]", exit.DataErr, `dump.pm2: no processes: the list is empty \(pm2 save --force of no process, or pm2 cleardump\)`},
		{"an object", `{"apps": []}`, exit.DataErr, `dump.pm2: not a PM2 process list: the file holds an object, where pm2 save writes a list`},
		{"cut short", "[\n  {\"name\": \"a\",\n", exit.DataErr, `dump.pm2:2:16: unexpected end of file`},
		{"not a record", `["api"]`, exit.DataErr, `dump.pm2: processes\[0\] is a string, not a process record`},
		{"no script", "[" + proc("a", "") + `, {"name": "b"}]`, exit.DataErr, `dump.pm2: processes\[1\] has no pm_exec_path: not a process pm2 save wrote`},
		{"two programs of one name", "[" + proc("a", "") + ", " + proc("a", `"pm_exec_path": "/srv/b.sh"`) + "]", exit.DataErr,
			`dump.pm2: processes\[0\] and processes\[1\] are both named "a" but run different programs \(script "/srv/app/a.sh" and "/srv/b.sh"\); tpm runs one program per name: rename one of them`},
		{"a bad name", "[" + proc("api/v2", "") + "]", exit.DataErr, `dump.pm2: apps\[0\]: .*`},
		{"instances with other args", "[" + proc("a", "") + ", " + proc("a", `"args": ["-v"], "NODE_APP_INSTANCE": 1`) + "]", exit.DataErr,
			`dump.pm2: processes\[0\] and processes\[1\] are both named "a" but run different programs \(args null and \["-v"\]\); .*`},
		{"a bad policy", "[" + proc("a", `"max_restarts": -1`) + "]", exit.DataErr, `dump.pm2: app "a": max_restarts: -1 is negative`},
		{"env not an object", "[" + proc("a", `"env": "HOME=/"`) + "]", exit.DataErr, `dump.pm2: app "a": env: want an object of variables, not a string`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "dump.pm2")
			if err := os.WriteFile(p, []byte(tc.src), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(p, Options{})
			if err == nil {
				t.Fatal("loaded")
			}
			if exit.Code(err) != tc.code {
				t.Errorf("exit %d, want %d", exit.Code(err), tc.code)
			}
			msg := strings.ReplaceAll(err.Error(), p, "dump.pm2")
			if !regexp.MustCompile("^" + tc.want + "$").MatchString(msg) {
				t.Errorf("error\n got %s\nwant %s", msg, tc.want)
			}
		})
	}
}

// An ecosystem JSON file that is a list of apps stays one: only records
// PM2 wrote (pm_exec_path in each) make a dump.
func TestJSONListIsNotADump(t *testing.T) {
	cfg, _ := loadOne(t, "apps.json", `[{"name": "a", "script": "a.js", "status": "stopped"}]`, Options{})
	if len(cfg.Apps) != 1 || cfg.Apps[0].Name != "a" {
		t.Errorf("apps %+v", cfg.Apps)
	}
	sameStrings(t, "warnings", cfg.Warnings, []string{"ignoring fields tpm does not use: status"})
}
