package ecosystem

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/tetra-toolkit/tpm/lib/exit"
)

// Every error names the file (and the line where it is known), is one
// line, and carries the exit code tpm-start exits with.
func TestLoadErrors(t *testing.T) {
	const d = "testdata/errors/"
	for _, tc := range []struct {
		name string
		file string
		opt  Options
		code int
		want string // a regular expression for the whole message
	}{
		{"missing file", d + "nope.config.js", Options{}, exit.NoInput,
			`testdata/errors/nope\.config\.js: no such file`},
		{"throw", d + "throw.config.js", Options{}, exit.DataErr,
			`testdata/errors/throw\.config\.js:7: Error: DATABASE_URL is required`},
		{"throw, second check", d + "throw.config.js", Options{Env: []string{"DATABASE_URL=x"}}, exit.DataErr,
			`testdata/errors/throw\.config\.js:7: Error: JWT_SECRET is required`},
		{"syntax error", d + "syntax.config.js", Options{}, exit.DataErr,
			`testdata/errors/syntax\.config\.js:7:5: SyntaxError: Unexpected token \{`},
		{"endless loop", d + "loop.config.js", Options{Timeout: 100 * time.Millisecond}, exit.DataErr,
			`testdata/errors/loop\.config\.js:[34]: evaluation did not finish within 100ms: is there an endless loop\?`},
		{"memory bomb", d + "bomb.config.js", Options{MemoryLimit: 32 << 20, Timeout: time.Minute}, exit.DataErr,
			`testdata/errors/bomb\.config\.js:2: evaluation used more than 32 MiB of memory`},
		{"endless recursion", d + "recursion.config.js", Options{}, exit.DataErr,
			`testdata/errors/recursion\.config\.js:1: RangeError: Maximum call stack size exceeded`},
		{"npm package", d + "npm.config.js", Options{}, exit.DataErr,
			`testdata/errors/npm\.config\.js: the config requires "get-port-please", an npm package tpm cannot load without Node\.js`},
		{"node module tpm lacks", d + "builtin.config.js", Options{}, exit.DataErr,
			`testdata/errors/builtin\.config\.js: the config requires "child_process", a Node\.js module tpm does not provide`},
		{"bare JSON in .js", d + "bare.config.js", Options{}, exit.DataErr,
			`testdata/errors/bare\.config\.js holds a bare JSON object, not JavaScript: rename it to \.json or write module\.exports = \{\.\.\.\}`},
		{"throw in a required file", d + "nested.config.js", Options{}, exit.DataErr,
			`testdata/errors/settings\.js:3: Error: SECRET is missing in settings\.js`},
		{"syntax error in a required file", d + "nested-syntax.config.js", Options{}, exit.DataErr,
			`testdata/errors/broken\.js:3:1: SyntaxError: Unexpected token ,`},
		{"bad import", d + "badesm.mjs", Options{}, exit.DataErr,
			`testdata/errors/badesm\.mjs:2:18: SyntaxError: expected a name after as`},
		{"process.exit", d + "exit.config.js", Options{}, exit.DataErr,
			`testdata/errors/exit\.config\.js:3: Error: the config called process\.exit\(1\)`},
		{"exports nothing", d + "nothing.config.js", Options{}, exit.DataErr,
			`testdata/errors/nothing\.config\.js: the config exports nothing: set module\.exports = \{ apps: \[\.\.\.\] \} \(or export default\)`},
		{"exports a function", d + "function.config.js", Options{}, exit.DataErr,
			`testdata/errors/function\.config\.js: the config exports a function: export an object with an "apps" list`},
		{"empty list", d + "empty.config.js", Options{}, exit.DataErr,
			`testdata/errors/empty\.config\.js: the "apps" list is empty`},
		{"no script", d + "noscript.config.js", Options{}, exit.DataErr,
			`testdata/errors/noscript\.config\.js: app "worker" has no "script"`},
		{"bad name", d + "badname.config.js", Options{}, exit.DataErr,
			`testdata/errors/badname\.config\.js: apps\[0\]: bad process name "api/v2": "/" is not allowed \(use letters, digits and \. _ @ \+ -\)`},
		{"duplicate name", d + "duplicate.json", Options{}, exit.DataErr,
			`testdata/errors/duplicate\.json: apps\[0\] and apps\[1\] are both named "api"`},
		{"bad duration", d + "badduration.json", Options{}, exit.DataErr,
			`testdata/errors/badduration\.json: app "worker": min_uptime: bad duration "5 sec": want e\.g\. 3s, 500ms or 1m`},
		{"negative instances", d + "badinstances.yaml", Options{}, exit.DataErr,
			`testdata/errors/badinstances\.yaml: apps\[2\]: instances: bad instance count "-3": want a number, max, 0 or -1`},
		{"JSON single quote", d + "badjson.json", Options{}, exit.DataErr,
			`testdata/errors/badjson\.json:4:15: invalid character '\\'' looking for beginning of value`},
		{"JSON open comment", d + "unterminated.json", Options{}, exit.DataErr,
			`testdata/errors/unterminated\.json:3:5: unterminated /\* comment`},
		{"JSON without apps", d + "noapps.json", Options{}, exit.DataErr,
			`testdata/errors/noapps\.json: no apps: the config is an object with the keys "name", "version", "scripts" and no "apps" list`},
		{"YAML indentation", d + "badyaml.yml", Options{}, exit.DataErr,
			`testdata/errors/badyaml\.yml:2: did not find expected '-' indicator`},
		{"--only matches nothing", "testdata/json/ecosystem.json", Options{Only: []string{"api", "web"}}, exit.NoInput,
			`testdata/json/ecosystem\.json: no app named "web"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Load(tc.file, tc.opt)
			if err == nil {
				t.Fatalf("no error; apps %+v", cfg.Apps)
			}
			if got := exit.Code(err); got != tc.code {
				t.Errorf("exit code %d, want %d (%v)", got, tc.code, err)
			}
			if !regexp.MustCompile(`^` + tc.want + `$`).MatchString(err.Error()) {
				t.Errorf("error:\n got %s\nwant %s", err, tc.want)
			}
		})
	}
}

// Small configs written on the spot, for the errors that need no file of
// their own.
func TestLoadErrorsInline(t *testing.T) {
	for _, tc := range []struct {
		name, file, src string
		want            string
	}{
		{"thrown string", "ecosystem.config.js", "\n\nthrow 'no config for ' + process.platform;", `ecosystem.config.js:3: uncaught "no config for (linux|darwin)"`},
		{"thrown object", "ecosystem.config.js", "throw { reason: 'x' };", `ecosystem.config.js:1: uncaught \{"reason":"x"\}`},
		{"reference error", "ecosystem.config.js", "module.exports = {\n  apps: [{ name: 'a', script: scriptPath }],\n};", `ecosystem.config.js:2: ReferenceError: scriptPath is not defined`},
		{"type error", "ecosystem.config.js", "const cfg = undefined;\nmodule.exports = cfg.apps;", `ecosystem.config.js:2: TypeError: Cannot read property 'apps' of undefined`},
		{"missing relative file", "ecosystem.config.js", "const x = require('./secrets');", `ecosystem.config.js:1: Error: Cannot find module './secrets' from .*`},
		{"fs write", "ecosystem.config.js", "require('fs').writeFileSync('/tmp/x', 'y');", `ecosystem.config.js:1: Error: fs\.writeFileSync is not available: tpm evaluates ecosystem files without writing files`},
		{"fs read of a missing file", "ecosystem.config.js", "\nrequire('fs').readFileSync('/nonexistent/secret.txt', 'utf8');", `ecosystem.config.js:2: Error: ENOENT: no such file or directory, open '/nonexistent/secret\.txt'`},
		{"malformed .env", "ecosystem.config.js", "require('fs');\nrequire('dotenv').config({ path: __dirname + '/bad.env' });", `ecosystem.config.js:2: Error: .*bad\.env: line 2: want KEY=VALUE, got "oops"`},
		{"const reassigned", "ecosystem.config.js", "const port = 1;\nport = 2;", `ecosystem.config.js:2: TypeError: Assignment to constant variable\.`},
		{"redeclared", "ecosystem.config.js", "let a = 1;\nlet a = 2;", `ecosystem.config.js:2:5: SyntaxError: Identifier 'a' has already been declared`},
		{"node: npm package", "ecosystem.config.js", "require('node:lodash')", `ecosystem.config.js: the config requires "node:lodash", a Node\.js module tpm does not provide`},
		{"scoped npm package", "ecosystem.config.mjs", "import { defineConfig } from '@acme/pm2-config';\nexport default defineConfig({});", `ecosystem.config.mjs: the config requires "@acme/pm2-config", an npm package tpm cannot load without Node\.js`},
		{"apps not a list", "ecosystem.json", `{"apps": "api.js"}`, `ecosystem.json: "apps" is a string, not a list of apps`},
		{"app not an object", "ecosystem.json", `{"apps": [{"script": "a.js"}, "b.js"]}`, `ecosystem.json: apps\[1\] is a string, not an app`},
		{"empty object", "ecosystem.json", `{}`, `ecosystem.json: no apps: the config is an empty object \(want \{"apps": \[\.\.\.\]\}\)`},
		{"JSON null", "ecosystem.json", `null`, `ecosystem.json: no apps: the config is null, not an object with an "apps" list`},
		{"empty JSON", "ecosystem.json", "\n// nothing yet\n", `ecosystem.json:2:15: unexpected end of file`},
		{"JSON cut short", "ecosystem.json", "{\n  \"apps\": [\n", `ecosystem.json:2:12: unexpected end of file`},
		{"JSON with two values", "ecosystem.json", "{\"apps\": []}\n{}", `ecosystem.json:2:1: invalid character .{. after top-level value`},
		{"JSON bare key", "ecosystem.json", "{\n  apps: []\n}", `ecosystem.json:2:3: invalid character 'a' looking for beginning of object key string`},
		{"YAML tab", "ecosystem.yaml", "apps:\n\t- script: a.js\n", `ecosystem.yaml:2: found character that cannot start any token`},
		{"YAML flow mapping", "ecosystem.yaml", "apps:\n  - name: a\n    env: {PORT: 3000\n", `ecosystem.yaml:3: did not find expected ',' or '\}'`},
		{"YAML scalar", "ecosystem.yaml", "just a string\n", `ecosystem.yaml: no apps: the config is a string, not an object with an "apps" list`},
		{"script of the wrong type", "ecosystem.json", `{"apps": [{"name": "a", "script": ["a.js"]}]}`, `ecosystem.json: app "a": script: want a string, not a list`},
		{"bad args", "ecosystem.json", `{"apps": [{"name": "a", "script": "a.js", "args": "--name 'x"}]}`, `ecosystem.json: app "a": args: .*`},
		{"bad args item", "ecosystem.json", `{"apps": [{"name": "a", "script": "a.js", "args": ["-x", {"y": 1}]}]}`, `ecosystem.json: app "a": args: want a list of strings, found an object in it`},
		{"bad env", "ecosystem.json", `{"apps": [{"name": "a", "script": "a.js", "env": "PORT=3000"}]}`, `ecosystem.json: app "a": env: want an object of variables, not a string`},
		{"bad env name", "ecosystem.json", `{"apps": [{"name": "a", "script": "a.js", "env": {"A=B": "1"}}]}`, `ecosystem.json: app "a": env: bad variable name "A=B"`},
		{"NUL in env", "ecosystem.json", `{"apps": [{"name": "a", "script": "a.js", "env": {"A": "x\u0000y"}}]}`, `ecosystem.json: app "a": env: A holds a NUL byte`},
		{"bad env_production", "ecosystem.json", `{"apps": [{"name": "a", "script": "a.js", "env_production": []}]}`, `ecosystem.json: app "a": env_production: want an object of variables, not a list`},
		{"bad exec_mode", "ecosystem.json", `{"apps": [{"name": "a", "script": "a.js", "exec_mode": "weird"}]}`, `ecosystem.json: app "a": exec_mode: want fork or cluster, not "weird"`},
		{"bad autorestart", "ecosystem.json", `{"apps": [{"name": "a", "script": "a.js", "autorestart": "sometimes"}]}`, `ecosystem.json: app "a": autorestart: want true or false, not "sometimes"`},
		{"negative max_restarts", "ecosystem.json", `{"apps": [{"name": "a", "script": "a.js", "max_restarts": -1}]}`, `ecosystem.json: app "a": max_restarts: -1 is negative`},
		{"fractional max_restarts", "ecosystem.json", `{"apps": [{"name": "a", "script": "a.js", "max_restarts": 2.5}]}`, `ecosystem.json: app "a": max_restarts: want a whole number, not "2.5"`},
		{"negative delay", "ecosystem.json", `{"apps": [{"name": "a", "script": "a.js", "restart_delay": -100}]}`, `ecosystem.json: app "a": restart_delay: negative duration "-100"`},
		{"bad kill_timeout type", "ecosystem.json", `{"apps": [{"name": "a", "script": "a.js", "kill_timeout": true}]}`, `ecosystem.json: app "a": kill_timeout: want milliseconds or a duration such as 5s, not a boolean`},
		{"bad exit code", "ecosystem.json", `{"apps": [{"name": "a", "script": "a.js", "stop_exit_codes": [0, 300]}]}`, `ecosystem.json: app "a": stop_exit_codes: bad exit code "300"`},
		{"bad instances", "ecosystem.json", `{"apps": [{"name": "a", "script": "a.js", "instances": "many"}]}`, `ecosystem.json: app "a": instances: bad instance count "many": want a number, max, 0 or -1`},
		{"instances over the cap", "ecosystem.json", `{"apps": [{"name": "a", "script": "a.js", "instances": 100000}]}`, `ecosystem.json: app "a": instances: 100000 is more than the \d+ instances allowed`},
		{"bad port", "ecosystem.json", `{"apps": [{"name": "a", "script": "a.js", "port": 70000}]}`, `ecosystem.json: app "a": port: 70000 is not a TCP port`},
		{"bad kill_signal", "ecosystem.json", `{"apps": [{"name": "a", "script": "a.js", "kill_signal": "SIGNOPE"}]}`, `ecosystem.json: app "a": kill_signal: bad signal "SIGNOPE": .*`},
		{"unbalanced quote in script", "ecosystem.json", `{"apps": [{"name": "a", "script": "node 'server.js"}]}`, `ecosystem.json: app "a": script: .*`},
		{"name that is only dots", "ecosystem.json", `{"apps": [{"name": "..", "script": "a.js"}]}`, `ecosystem.json: apps\[0\]: bad process name "\.\."`},
		{"second app bad", "ecosystem.json", `{"apps": [{"name": "good", "script": "a.js"}, {"script": "b.js", "instances": 1.5}]}`, `ecosystem.json: apps\[1\]: instances: want a whole number, not "1\.5"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, tc.file)
			if err := os.WriteFile(p, []byte(tc.src), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "bad.env"), []byte("A=1\noops\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			wd, _ := os.Getwd()
			t.Chdir(dir)
			_, err := Load(tc.file, Options{Cwd: dir})
			t.Chdir(wd)
			if err == nil {
				t.Fatal("no error")
			}
			if got := exit.Code(err); got != exit.DataErr {
				t.Errorf("exit code %d, want %d (%v)", got, exit.DataErr, err)
			}
			if !regexp.MustCompile(`^` + tc.want + `$`).MatchString(err.Error()) {
				t.Errorf("error:\n got %s\nwant %s", err, tc.want)
			}
		})
	}
}

func TestUnreadable(t *testing.T) {
	if os.Getuid() == 0 {
		t.Skip("root reads every file")
	}
	p := filepath.Join(t.TempDir(), "ecosystem.json")
	if err := os.WriteFile(p, []byte(`{}`), 0); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p, Options{})
	if exit.Code(err) != exit.NoPerm {
		t.Errorf("got %v (code %d), want permission denied", err, exit.Code(err))
	}
}

// A config that loops inside a getter, read only when the exports are
// copied out, is bounded as well.
func TestTimeoutInGetter(t *testing.T) {
	p := filepath.Join(t.TempDir(), "ecosystem.config.js")
	src := "module.exports = {\n  get apps() { for (;;) {} },\n};\n"
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := Load(p, Options{Timeout: 50 * time.Millisecond})
	if err == nil || exit.Code(err) != exit.DataErr || !regexp.MustCompile(`ecosystem\.config\.js:2: evaluation did not finish within 50ms`).MatchString(err.Error()) {
		t.Errorf("got %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
}

// Configs whose values run code when read: whatever they do, Load returns
// an error in time and never panics.
func TestHostileValues(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"getter loops in a thrown object", "throw { get x() { for (;;) {} } };", `ecosystem\.config\.js:1: uncaught exception`},
		{"toString throws", "const e = new Error('x');\ne.toString = () => { throw 1 };\nthrow e;", `ecosystem\.config\.js:1: uncaught exception`}, // where the Error was made, as its stack says
		{"proxy without keys", "module.exports = new Proxy({}, {\n  ownKeys() { throw new Error('no keys') },\n});", `ecosystem\.config\.js:2: Error: no keys`},
		{"exports getter throws", "Object.defineProperty(module, 'exports', {\n  get() { throw new TypeError('gone') },\n});", `ecosystem\.config\.js:2: TypeError: gone`},
		{"apps getter throws", "module.exports = {\n  get apps() { throw new Error('lazy failure') },\n};", `ecosystem\.config\.js:2: Error: lazy failure`},
		{"toJSON throws", "module.exports = { apps: [{ script: 'a.js', env: { D: { toJSON() { throw new RangeError('bad date') } } } }] };", `ecosystem\.config\.js:1: RangeError: bad date`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "ecosystem.config.js")
			if err := os.WriteFile(p, []byte(tc.src), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(p, Options{Timeout: 100 * time.Millisecond})
			if err == nil || exit.Code(err) != exit.DataErr {
				t.Fatalf("got %v", err)
			}
			if !regexp.MustCompile(tc.want + `$`).MatchString(err.Error()) {
				t.Errorf("error:\n got %s\nwant %s", err, tc.want)
			}
		})
	}
}
