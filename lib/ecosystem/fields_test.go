package ecosystem

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// loadOne writes a config and loads it from a folder of its own.
func loadOne(t *testing.T, file, src string, opt Options) (*Config, string) {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, file)
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "my server.js"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if opt.Cwd == "" {
		opt.Cwd = dir
	}
	cfg, err := Load(p, opt)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, dir
}

// Each case is one app of a JSON config; values come in the types real
// configs use for them.
func TestFields(t *testing.T) {
	cpus := runtime.NumCPU()
	for _, tc := range []struct {
		name string
		app  string
		opt  Options
		want App // Cwd, Instances and Env take their defaults when left zero
	}{
		{"minimal", `{"script": "app.js"}`, Options{},
			App{Script: "app.js"}},
		{"exec alias", `{"name": "a", "exec": "app.js"}`, Options{},
			App{Name: "a", Script: "app.js"}},
		{"script wins over exec", `{"script": "a.js", "exec": "b.js"}`, Options{},
			App{Script: "a.js"}},
		{"numeric name", `{"name": 123, "script": "app.js"}`, Options{},
			App{Name: "123", Script: "app.js"}},
		{"blank name is no name", `{"name": "  ", "script": "app.js"}`, Options{},
			App{Script: "app.js"}},
		{"null fields are unset", `{"script": "a.js", "args": null, "instances": null, "env": null, "autorestart": null, "cwd": null}`, Options{},
			App{Script: "a.js"}},

		{"command line script", `{"script": "npm run start:prod -- --port 3000"}`, Options{},
			App{Script: "npm", Args: []string{"run", "start:prod", "--", "--port", "3000"}}},
		{"command line before args", `{"script": "python3 -m http.server", "args": "8000 --bind 127.0.0.1"}`, Options{},
			App{Script: "python3", Args: []string{"-m", "http.server", "8000", "--bind", "127.0.0.1"}}},
		{"quoted command line", `{"script": "bash -c 'echo hi; sleep 9'"}`, Options{},
			App{Script: "bash", Args: []string{"-c", "echo hi; sleep 9"}}},
		{"file with a space", `{"script": "my server.js"}`, Options{},
			App{Script: "my server.js"}},

		{"args string", `{"script": "a.js", "args": "--name \"John Doe\" -v"}`, Options{},
			App{Script: "a.js", Args: []string{"--name", "John Doe", "-v"}}},
		{"args list with numbers", `{"script": "a.js", "args": ["--port", 3000, "--ratio", 0.5, true]}`, Options{},
			App{Script: "a.js", Args: []string{"--port", "3000", "--ratio", "0.5", "true"}}},
		{"args number", `{"script": "a.js", "args": 8080}`, Options{},
			App{Script: "a.js", Args: []string{"8080"}}},

		{"interpreter none", `{"script": "./bin/server", "interpreter": "none"}`, Options{},
			App{Script: "./bin/server", Interpreter: "none"}},
		{"exec_interpreter", `{"script": "app.py", "exec_interpreter": "python3", "interpreter_args": "-u -X dev"}`, Options{},
			App{Script: "app.py", Interpreter: "python3", InterpreterArgs: []string{"-u", "-X", "dev"}}},
		{"node_args list", `{"script": "app.js", "node_args": ["--inspect", "--max-old-space-size=4096"]}`, Options{},
			App{Script: "app.js", InterpreterArgs: []string{"--inspect", "--max-old-space-size=4096"}}},
		{"interpreter_args wins", `{"script": "app.js", "interpreter_args": "-a", "node_args": "-b"}`, Options{},
			App{Script: "app.js", InterpreterArgs: []string{"-a"}}},

		{"cwd absolute", `{"script": "a.js", "cwd": "/srv/app/"}`, Options{},
			App{Script: "a.js", Cwd: "/srv/app"}},

		{"instances number", `{"script": "a.js", "instances": 4}`, Options{}, App{Script: "a.js", Instances: 4}},
		{"instances string", `{"script": "a.js", "instances": "2"}`, Options{}, App{Script: "a.js", Instances: 2}},
		{"instances max", `{"script": "a.js", "instances": "max"}`, Options{}, App{Script: "a.js", Instances: cpus}},
		{"instances MAX", `{"script": "a.js", "instances": "MAX"}`, Options{}, App{Script: "a.js", Instances: cpus}},
		{"instances 0", `{"script": "a.js", "instances": 0}`, Options{}, App{Script: "a.js", Instances: cpus}},
		{"instances -1", `{"script": "a.js", "instances": -1}`, Options{}, App{Script: "a.js", Instances: cpusMinusOne()}},
		{"instances '-1'", `{"script": "a.js", "instances": "-1"}`, Options{}, App{Script: "a.js", Instances: cpusMinusOne()}},
		{"exec_mode fork", `{"script": "a.js", "exec_mode": "fork_mode"}`, Options{}, App{Script: "a.js"}},
		{"exec_mode cluster", `{"script": "a.js", "exec_mode": "cluster"}`, Options{}, App{Script: "a.js", ClusterMode: true}},

		{"autorestart false", `{"script": "a.js", "autorestart": false}`, Options{}, App{Script: "a.js", Autorestart: ptr(false)}},
		{"autorestart 'false'", `{"script": "a.js", "autorestart": "false"}`, Options{}, App{Script: "a.js", Autorestart: ptr(false)}},
		{"autorestart 'TRUE'", `{"script": "a.js", "autorestart": "TRUE"}`, Options{}, App{Script: "a.js", Autorestart: ptr(true)}},
		{"autorestart 0", `{"script": "a.js", "autorestart": 0}`, Options{}, App{Script: "a.js", Autorestart: ptr(false)}},
		{"max_restarts '5'", `{"script": "a.js", "max_restarts": "5"}`, Options{}, App{Script: "a.js", MaxRestarts: ptr(5)}},
		{"max_restarts 0", `{"script": "a.js", "max_restarts": 0}`, Options{}, App{Script: "a.js", MaxRestarts: ptr(0)}},
		{"max_restarts 10.0", `{"script": "a.js", "max_restarts": 10.0}`, Options{}, App{Script: "a.js", MaxRestarts: ptr(10)}},

		{"min_uptime ms", `{"script": "a.js", "min_uptime": 2000}`, Options{}, App{Script: "a.js", MinUptime: ptr(2 * time.Second)}},
		{"min_uptime '2000'", `{"script": "a.js", "min_uptime": "2000"}`, Options{}, App{Script: "a.js", MinUptime: ptr(2 * time.Second)}},
		{"min_uptime '5s'", `{"script": "a.js", "min_uptime": "5s"}`, Options{}, App{Script: "a.js", MinUptime: ptr(5 * time.Second)}},
		{"min_uptime '1m'", `{"script": "a.js", "min_uptime": "1m"}`, Options{}, App{Script: "a.js", MinUptime: ptr(time.Minute)}},
		{"min_uptime '1h'", `{"script": "a.js", "min_uptime": "1h"}`, Options{}, App{Script: "a.js", MinUptime: ptr(time.Hour)}},
		{"restart_delay", `{"script": "a.js", "restart_delay": 250}`, Options{}, App{Script: "a.js", RestartDelay: ptr(250 * time.Millisecond)}},
		{"restart_delay fraction", `{"script": "a.js", "restart_delay": 1.5}`, Options{}, App{Script: "a.js", RestartDelay: ptr(1500 * time.Microsecond)}},
		{"exp_backoff", `{"script": "a.js", "exp_backoff_restart_delay": "100"}`, Options{}, App{Script: "a.js", ExpBackoff: ptr(100 * time.Millisecond)}},
		{"kill_timeout", `{"script": "a.js", "kill_timeout": "3s"}`, Options{}, App{Script: "a.js", KillTimeout: ptr(3 * time.Second)}},

		{"stop_exit_codes number", `{"script": "a.js", "stop_exit_codes": 0}`, Options{}, App{Script: "a.js", StopExitCodes: []int{0}}},
		{"stop_exit_codes list", `{"script": "a.js", "stop_exit_codes": [0, "143", 2]}`, Options{}, App{Script: "a.js", StopExitCodes: []int{0, 143, 2}}},
		{"stop_exit_codes string", `{"script": "a.js", "stop_exit_codes": "0, 143"}`, Options{}, App{Script: "a.js", StopExitCodes: []int{0, 143}}},

		{"increment_var", `{"script": "a.js", "increment_var": "PORT"}`, Options{}, App{Script: "a.js", IncrementVar: "PORT"}},
		{"kill_signal", `{"script": "a.js", "kill_signal": "SIGINT"}`, Options{}, App{Script: "a.js", Signal: "INT"}},
		{"time and format", `{"script": "a.js", "time": "true", "log_date_format": "YYYY-MM-DD"}`, Options{},
			App{Script: "a.js", Time: ptr(true), LogDateFormat: "YYYY-MM-DD"}},

		{"env values", `{"script": "a.js", "env": {
			"S": "x", "N": 3000, "F": 1.5, "T": true, "FALSE": false, "NULL": null, "NEG": -0, "TINY": 1e-7, "DEC": 0.1,
			"HUGE": 12345678901234567890123, "EXP": 1e3, "OBJ": {"b": 1, "a": [1, "x", null]}, "LIST": ["a", 2], "EMPTY": "",
			"HTML": "<a href=\"x\">&</a>", "ESC": {"k": "<&>"}}}`, Options{},
			App{Script: "a.js", Env: map[string]string{
				"S": "x", "N": "3000", "F": "1.5", "T": "true", "FALSE": "false", "NEG": "0", "TINY": "1e-7", "DEC": "0.1",
				"HUGE": "12345678901234567890123", "EXP": "1000", "OBJ": `{"b":1,"a":[1,"x",null]}`, "LIST": `["a",2]`, "EMPTY": "",
				"HTML": `<a href="x">&</a>`, "ESC": `{"k":"<&>"}`,
			}}},
		{"env_NAME over env", `{"script": "a.js", "env": {"A": "1", "B": "2", "NODE_ENV": "development"}, "env_prod": {"B": "3", "A": null, "NODE_ENV": "production"}}`,
			Options{EnvName: "prod"},
			App{Script: "a.js", Env: map[string]string{"B": "3", "NODE_ENV": "production"}, NodeEnv: "production"}},
		{"env_NAME without env", `{"script": "a.js", "env_prod": {"NODE_ENV": "production"}}`, Options{EnvName: "prod"},
			App{Script: "a.js", Env: map[string]string{"NODE_ENV": "production"}, NodeEnv: "production"}},
		{"other env_NAME unused", `{"script": "a.js", "env": {"NODE_ENV": "development"}, "env_prod": {"NODE_ENV": "production"}}`, Options{},
			App{Script: "a.js", Env: map[string]string{"NODE_ENV": "development"}, NodeEnv: "development"}},
		{"port sets PORT", `{"script": "a.js", "port": "3000"}`, Options{},
			App{Script: "a.js", Env: map[string]string{"PORT": "3000"}}},
		{"env PORT wins over port", `{"script": "a.js", "port": 3000, "env": {"PORT": 4000}}`, Options{},
			App{Script: "a.js", Env: map[string]string{"PORT": "4000"}}},
		{"caller env is not the app's", `{"script": "a.js"}`, Options{Env: []string{"HOME=/root", "PORT=1"}},
			App{Script: "a.js"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, dir := loadOne(t, "ecosystem.json", `{"apps": [`+tc.app+`]}`, tc.opt)
			want := tc.want
			if want.Cwd == "" {
				want.Cwd = dir
			}
			if want.Instances == 0 {
				want.Instances = 1
			}
			if want.Env == nil {
				want.Env = map[string]string{}
			}
			sameApps(t, cfg.Apps, []App{want})
		})
	}
}

// The app list may be the "apps" list, the legacy "pm2" one, a lone app,
// or a list at the top.
func TestAppListShapes(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"apps", `{"apps": [{"name": "a", "script": "a.js"}, {"name": "b", "script": "b.js"}]}`, []string{"a", "b"}},
		{"apps is one app", `{"apps": {"name": "a", "script": "a.js"}}`, []string{"a"}},
		{"pm2", `{"pm2": [{"name": "a", "script": "a.js"}]}`, []string{"a"}},
		{"one app", `{"name": "a", "script": "a.js"}`, []string{"a"}},
		{"one app with exec", `{"name": "a", "exec": "a.sh"}`, []string{"a"}},
		{"a list", `[{"name": "a", "script": "a.js"}, {"name": "b", "script": "b.js"}]`, []string{"a", "b"}},
		{"deploy is silent", `{"apps": [{"name": "a", "script": "a.js"}], "deploy": {"production": {"host": "x"}}}`, []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _ := loadOne(t, "ecosystem.json", tc.src, Options{})
			var got []string
			for _, a := range cfg.Apps {
				got = append(got, a.Name)
			}
			sameStrings(t, "names", got, tc.want)
			sameStrings(t, "warnings", cfg.Warnings, nil)
		})
	}
}

// Unhonoured fields are named once, sorted, over all apps kept.
func TestWarnings(t *testing.T) {
	src := `{"apps": [
		{"name": "a b", "script": "a.js", "watch": true, "max_memory_restart": "200M", "out_file": "a.log", "namespace": "x"},
		{"name": "c\td", "script": "c.js", "watch": ["src"], "error_file": "/dev/null", "my_own_key": 1, "exec_mode": "cluster_mode"},
		{"name": "e", "script": "e.js", "treekill": false, "env": {}, "env_production": {}}
	]}`
	cfg, _ := loadOne(t, "ecosystem.json", src, Options{EnvName: "staging"})
	sameStrings(t, "warnings", cfg.Warnings, []string{
		`app "a b" renamed a-b`,
		`app "c\td" renamed c-d`,
		`app "c-d": exec_mode cluster runs its instances as separate processes`,
		"no app has env_staging",
		"ignoring fields tpm does not use: error_file, my_own_key, namespace, out_file, treekill",
	})
	cfg, _ = loadOne(t, "ecosystem.json", src, Options{Only: []string{"e"}, EnvName: "production"})
	sameStrings(t, "warnings with --only e", cfg.Warnings, []string{"ignoring fields tpm does not use: treekill"})
}
