package ecosystem

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

func abs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// sameApps compares apps as JSON, which shows both sides readably when
// they differ.
func sameApps(t *testing.T, got, want []App) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d apps, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		g, _ := json.Marshal(got[i])
		w, _ := json.Marshal(want[i])
		if string(g) != string(w) {
			t.Errorf("app %d:\n got %s\nwant %s", i, g, w)
		}
	}
}

func sameStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func cpusMinusOne() int { return max(runtime.NumCPU()-1, 1) }

func TestIsConfig(t *testing.T) {
	for _, tc := range []struct {
		path string
		want bool
	}{
		{"ecosystem.config.js", true},
		{"ecosystem.config.cjs", true},
		{"ecosystem.config.mjs", true},
		{"/srv/app/pm2.config.js", true},
		{"deploy/Ecosystem.Config.JS", true},
		{"ecosystem.js", true}, // PM2 would run it as a script; tpm reads it
		{"ecosystem-prod.cjs", true},
		{"ecosystem.json", true},
		{"process.json", true},
		{"apps.yaml", true},
		{"apps.YML", true},
		{"server.js", false},
		{"config.js", false}, // no ".config": a program named config
		{"app.config.ts", false},
		{"server.sh", false},
		{"ecosystem", false},
		{"my.config", false},
	} {
		if got := IsConfig(tc.path); got != tc.want {
			t.Errorf("IsConfig(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
}

// The CommonJS config of testdata/cjs is a real-looking one: dotenv, a
// required module and JSON file, spreads, template strings, ??, a map over
// queues, npm start and python3 apps, numbers as strings, 'max' and -1, env
// with env_production and env_staging, and a dozen fields tpm ignores.
func TestLoadCommonJS(t *testing.T) {
	dir := abs(t, "testdata/cjs")
	opt := Options{
		Env:     []string{"PATH=/usr/bin:/bin", "LOG_LEVEL=warn"},
		Cwd:     dir,
		EnvName: "production",
	}
	cfg, err := Load("testdata/cjs/ecosystem.config.js", opt)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Path != filepath.Join(dir, "ecosystem.config.js") {
		t.Errorf("Path = %q", cfg.Path)
	}
	worker := func(i int, queue string, conc int) App {
		return App{
			Index:  i,
			Name:   "worker-" + queue,
			Script: filepath.Join(dir, "dist/worker.js"),
			Args:   []string{"--queue", queue, "--concurrency", strconv.Itoa(conc)},
			Cwd:    dir, Instances: 1,
			Env: map[string]string{
				"NODE_ENV": "development", "LOG_LEVEL": "warn", "QUEUE": queue,
				"REDIS_URL": "redis://cache:6379", // from .env: the caller's environment has none
			},
			NodeEnv:     "development",
			Autorestart: ptr(true), MaxRestarts: ptr(10), MinUptime: ptr(5 * time.Second),
			Policy: map[string]string{"max_memory": "300M"}, // max_memory_restart
		}
	}
	want := []App{
		{
			Index:           0,
			Name:            "storefront-api",
			Script:          "./dist/server.js",
			InterpreterArgs: []string{"--max-old-space-size=512", "--enable-source-maps"},
			Cwd:             dir,
			Instances:       runtime.NumCPU(),
			Env: map[string]string{
				"NODE_ENV":      "production", // env_production over env
				"LOG_LEVEL":     "warn",       // the caller's environment wins over .env
				"PORT":          "8080",       // env_production, from ports.json
				"DATABASE_URL":  "postgres://shop:secret@localhost:5432/shop",
				"CACHE_TTL":     "60",
				"FEATURE_FLAGS": `{"checkout":true,"wishlist":false}`,
				"DEBUG":         "app:*",
			},
			NodeEnv:       "production",
			Autorestart:   ptr(true),
			MaxRestarts:   ptr(10),
			MinUptime:     ptr(5 * time.Second),
			KillTimeout:   ptr(5 * time.Second),
			ClusterMode:   true,
			LogDateFormat: "YYYY-MM-DD HH:mm:ss Z",
			// watch: false watches nothing; ignore_watch is kept all the same.
			Policy: map[string]string{"max_memory": "1G", "watch_ignore": "node_modules,logs"},
		},
		worker(1, "emails", 2),
		worker(2, "thumbnails", 3),
		{
			Index:        3,
			Name:         "admin",
			Script:       "npm",
			Args:         []string{"start"},
			Cwd:          filepath.Join(dir, "admin"),
			Instances:    1,
			Env:          map[string]string{"PORT": "4000", "BROWSER": "none", "NODE_ENV": "production"},
			NodeEnv:      "production",
			Autorestart:  ptr(false),
			MaxRestarts:  ptr(5),
			MinUptime:    ptr(10 * time.Second),
			RestartDelay: ptr(2 * time.Second),
		},
		{
			Index:         4,
			Name:          "images",
			Script:        "python3",
			Args:          []string{"-u", "app.py"},
			Interpreter:   "none",
			Cwd:           dir,
			Instances:     cpusMinusOne(),
			Env:           map[string]string{"PYTHONUNBUFFERED": "1", "WORKERS": strconv.Itoa(cpusMinusOne()), "PORT": "5000"},
			IncrementVar:  "PORT",
			ExpBackoff:    ptr(100 * time.Millisecond),
			StopExitCodes: []int{0, 143},
			Time:          ptr(true),
			Policy:        map[string]string{"cron_restart": "0 3 * * *"},
		},
	}
	sameApps(t, cfg.Apps, want)
	sameStrings(t, "warnings", cfg.Warnings, []string{
		`app "storefront api" renamed storefront-api`,
		`app "storefront-api": exec_mode cluster runs its instances as separate processes`,
		`app "storefront-api": wait_ready: tpm cannot receive process.send('ready'); use wait_log with your ready line`,
		"ignoring fields tpm does not use: error_file, listen_timeout, merge_logs, out_file, source_map_support, vizion",
	})
}

func TestLoadEnvName(t *testing.T) {
	dir := abs(t, "testdata/cjs")
	for _, tc := range []struct {
		envName  string
		nodeEnv  string
		port     string
		adminEnv string
		warning  string
	}{
		{"", "development", "3000", "", ""},
		{"production", "production", "8080", "production", ""},
		{"staging", "staging", "8081", "", ""},
		{"qa", "development", "3000", "", "no app has env_qa"},
	} {
		t.Run("env="+tc.envName, func(t *testing.T) {
			cfg, err := Load("testdata/cjs/ecosystem.config.js", Options{Cwd: dir, EnvName: tc.envName})
			if err != nil {
				t.Fatal(err)
			}
			api := cfg.Apps[0]
			if api.NodeEnv != tc.nodeEnv || api.Env["NODE_ENV"] != tc.nodeEnv || api.Env["PORT"] != tc.port {
				t.Errorf("api: NodeEnv %q, NODE_ENV %q, PORT %q; want %q, %q", api.NodeEnv, api.Env["NODE_ENV"], api.Env["PORT"], tc.nodeEnv, tc.port)
			}
			if got := cfg.Apps[3].NodeEnv; got != tc.adminEnv {
				t.Errorf("admin: NodeEnv %q, want %q", got, tc.adminEnv)
			}
			if got := slices.Contains(cfg.Warnings, tc.warning); tc.warning != "" && !got {
				t.Errorf("warnings %q lack %q", cfg.Warnings, tc.warning)
			}
			if tc.warning == "" && slices.ContainsFunc(cfg.Warnings, func(w string) bool { return len(w) > 11 && w[:11] == "no app has " }) {
				t.Errorf("unexpected warning in %q", cfg.Warnings)
			}
		})
	}
}

func TestLoadESM(t *testing.T) {
	dir := abs(t, "testdata/esm")
	env := []string{"PATH=/usr/bin:/bin"}
	t.Run("export default", func(t *testing.T) {
		cfg, err := Load("testdata/esm/ecosystem.config.mjs", Options{Cwd: dir, Env: env})
		if err != nil {
			t.Fatal(err)
		}
		sameApps(t, cfg.Apps, []App{
			{
				Index: 0, Name: "blog-web", Script: filepath.Join(dir, "build/index.js"), Cwd: dir,
				Instances:   runtime.NumCPU(),
				Env:         map[string]string{"PORT": "3000", "VERSION": "2.4.1", "SECRET": "s3cr3t value"},
				Autorestart: ptr(true), MaxRestarts: ptr(3), KillTimeout: ptr(3 * time.Second),
			},
			{
				Index: 1, Name: "scheduler", Script: "./build/scheduler.js", Cwd: dir, Instances: 1,
				Env:         map[string]string{"TZ": "UTC", "DIR": dir},
				Autorestart: ptr(true), MaxRestarts: ptr(3), KillTimeout: ptr(3 * time.Second),
			},
		})
		if len(cfg.Warnings) != 0 {
			t.Errorf("warnings: %q", cfg.Warnings)
		}
	})
	t.Run("export const apps", func(t *testing.T) {
		cfg, err := Load("testdata/esm/apps.config.mjs", Options{Cwd: dir, Env: []string{"APP_ENV=prod"}})
		if err != nil {
			t.Fatal(err)
		}
		sameApps(t, cfg.Apps, []App{{
			Name: "bot", Script: "bot.js", Cwd: dir, Instances: 1,
			Env: map[string]string{"APP_ENV": "prod", "STARTED_BY": "pm2"},
		}})
	})
	t.Run("import in a .js, a list as default", func(t *testing.T) {
		cfg, err := Load("testdata/esm/module.config.js", Options{Cwd: dir})
		if err != nil {
			t.Fatal(err)
		}
		sameApps(t, cfg.Apps, []App{
			{Name: "ssr", Script: ".output/server/index.mjs", Cwd: dir, Instances: 1, Env: map[string]string{"PORT": "3000"}},
			{Index: 1, Name: "queue", Script: "node_modules/.bin/graphile-worker", Args: []string{"--crontab", "crontab"}, Cwd: dir, Instances: 1, Env: map[string]string{}},
		})
	})
}

func TestLoadJSON(t *testing.T) {
	dir := abs(t, "testdata/json")
	cfg, err := Load("testdata/json/ecosystem.json", Options{Cwd: "/", EnvName: "production"})
	if err != nil {
		t.Fatal(err)
	}
	sameApps(t, cfg.Apps, []App{
		{
			Name: "api", Script: "server/index.js", Cwd: dir, Instances: 2, ClusterMode: true,
			Env: map[string]string{
				"PORT": "80", "NODE_ENV": "production", "URL": "http://localhost:3000/api",
				"RATIO": "0.75", "BIG": "1000000000000000000000", "ENABLED": "true",
			},
			NodeEnv:     "production",
			Autorestart: ptr(true), MaxRestarts: ptr(5), MinUptime: ptr(2 * time.Second),
			KillTimeout: ptr(1600 * time.Millisecond), StopExitCodes: []int{0},
		},
		{
			Index: 1, Name: "cron", Script: "bin/cron.sh", Args: []string{"--every", "5 minutes", "--verbose"},
			Interpreter: "/bin/bash", InterpreterArgs: []string{"-e"},
			Cwd: filepath.Join(dir, "jobs"), Instances: 1, Env: map[string]string{},
		},
	})
	sameStrings(t, "warnings", cfg.Warnings, []string{
		`app "api": exec_mode cluster runs its instances as separate processes`,
		"ignoring fields tpm does not use: autostart, log_file, pid_file",
	})

	legacy, err := Load("testdata/json/legacy.json", Options{})
	if err != nil {
		t.Fatal(err)
	}
	sameApps(t, legacy.Apps, []App{{Name: "legacy", Script: "app.js", Cwd: dir, Instances: 1, Env: map[string]string{"PORT": "8000"}}})
}

func TestLoadYAML(t *testing.T) {
	dir := abs(t, "testdata/yaml")
	cfg, err := Load("testdata/yaml/ecosystem.yml", Options{EnvName: "production"})
	if err != nil {
		t.Fatal(err)
	}
	sameApps(t, cfg.Apps, []App{
		{
			Name: "web", Script: "./web.js", Cwd: dir, Instances: runtime.NumCPU(),
			Env:         map[string]string{"NODE_ENV": "production", "PORT": "8080", "TRACE": "yes"},
			NodeEnv:     "production",
			Autorestart: ptr(true), MaxRestarts: ptr(7),
		},
		{
			Index: 1, Name: "mailer", Script: "python3", Args: []string{"mailer.py", "--smtp", "localhost"},
			Cwd: dir, Instances: 1, Env: map[string]string{}, RestartDelay: ptr(500 * time.Millisecond),
		},
		{
			Index: 2, Name: "limit-worker", Script: "worker.js", Cwd: dir, Instances: 1, Env: map[string]string{},
			MinUptime: ptr(time.Minute), KillTimeout: ptr(10 * time.Second),
			Policy: map[string]string{"watch": "src,config"},
		},
	})
	sameStrings(t, "warnings", cfg.Warnings, []string{
		`app "limit worker" renamed limit-worker`,
	})
}

// dotenv's config() with a missing file, a list of files, and parse(),
// against the caller's environment.
func TestLoadDotenv(t *testing.T) {
	dir := abs(t, "testdata/dotenv")
	cfg, err := Load("testdata/dotenv/ecosystem.config.js", Options{Cwd: dir, Env: []string{"CALLER=shell"}})
	if err != nil {
		t.Fatal(err)
	}
	sameApps(t, cfg.Apps, []App{{
		Name: "app", Script: "app.js", Cwd: dir, Instances: 1,
		Env: map[string]string{
			"LOCAL":    "missing (ENOENT)",
			"API_KEY":  "prod-key", // .env.production comes first
			"HOST":     "0.0.0.0",
			"CALLER":   "shell", // the caller's environment is not overridden
			"GREETING": "hello\nworld",
			"TAG":      "v1",
		},
	}})
	// What dotenv put in process.env reaches the apps, as under PM2; the
	// caller's own CALLER is not changed.
	wantSet := map[string]string{"API_KEY": "prod-key", "HOST": "0.0.0.0"}
	if !maps.Equal(cfg.EnvSet, wantSet) || len(cfg.EnvUnset) != 0 {
		t.Errorf("env changes = %v, unset %v; want %v", cfg.EnvSet, cfg.EnvUnset, wantSet)
	}
}

func TestOnly(t *testing.T) {
	dir := abs(t, "testdata/cjs")
	for _, tc := range []struct {
		only []string
		want []string
	}{
		{nil, []string{"storefront-api", "worker-emails", "worker-thumbnails", "admin", "images"}},
		{[]string{"admin"}, []string{"admin"}},
		{[]string{"images", "worker-emails"}, []string{"worker-emails", "images"}}, // file order
		{[]string{"storefront api"}, []string{"storefront-api"}},                   // as written in the file
		{[]string{"storefront-api", ""}, []string{"storefront-api"}},
	} {
		cfg, err := Load("testdata/cjs/ecosystem.config.js", Options{Cwd: dir, Only: tc.only})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range cfg.Apps {
			got = append(got, a.Name)
		}
		sameStrings(t, "apps", got, tc.want)
		// Warnings are about the apps kept.
		renamed := slices.Contains(cfg.Warnings, `app "storefront api" renamed storefront-api`)
		if renamed != slices.Contains(got, "storefront-api") {
			t.Errorf("only %q: warnings %q", tc.only, cfg.Warnings)
		}
	}
}

func TestLabel(t *testing.T) {
	a := App{Index: 2}
	if a.Label() != "apps[2]" {
		t.Errorf("Label() = %q", a.Label())
	}
	a.Name = "api"
	if a.Label() != `app "api"` {
		t.Errorf("Label() = %q", a.Label())
	}
}

// The console of the config goes where the caller says, and nowhere by
// default.
func TestConsole(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "ecosystem.config.js")
	src := `console.log('starting', 2, {a: 1}); console.warn(new Error('careful'));
process.stdout.write('raw\n');
module.exports = { apps: [{ name: 'a', script: 'a.js' }] };`
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p, Options{}); err != nil {
		t.Fatal(err)
	}
	var out writer
	if _, err := Load(p, Options{Console: &out}); err != nil {
		t.Fatal(err)
	}
	if want := "starting 2 {\"a\":1}\nError: careful\nraw\n"; string(out) != want {
		t.Errorf("console: got %q, want %q", out, want)
	}
}

type writer []byte

func (w *writer) Write(p []byte) (int, error) {
	*w = append(*w, p...)
	return len(p), nil
}
