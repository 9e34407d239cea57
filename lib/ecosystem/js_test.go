package ecosystem

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/tetra-toolkit/tpm/lib/exit"
)

// jsValue evaluates expr in a config (after setup) in a folder of its own
// and returns it as the env value V, the way an app would see it.
func jsValue(t *testing.T, file, setup, expr string, opt Options) string {
	t.Helper()
	dir := t.TempDir()
	if opt.Cwd == "" {
		opt.Cwd = dir
	}
	exp := "module.exports = "
	if strings.HasSuffix(file, ".mjs") {
		exp = "export default "
	}
	src := setup + "\n" + exp + "{ apps: [{ script: 'x.js', env: { V: (" + expr + ") } }] };\n"
	p := filepath.Join(dir, file)
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(p, opt)
	if err != nil {
		t.Fatal(err)
	}
	v, ok := cfg.Apps[0].Env["V"]
	if !ok {
		return "<unset>"
	}
	return v
}

// The JavaScript that configs are written in, checked against this goja:
// ES2015 to ES2022 syntax and the library calls configs make.
func TestJSFeatures(t *testing.T) {
	for _, tc := range []struct {
		name, setup, expr, want string
	}{
		{"arrow function", "const f = (a, b = 2) => a * b;", "f(3)", "6"},
		{"nullish coalescing", "const port = process.env.PORT ?? 3000;", "port", "3000"},
		{"|| default", "", "process.env.PORT || 3000", "3000"},
		{"optional chaining", "const c = { db: null };", "`${c.db?.host}|${c.nope?.x?.y}|${c.f?.()}`", "undefined|undefined|undefined"},
		{"object spread", "const common = { a: 1, b: 2 };", "JSON.stringify({ ...common, b: 3, c: 4 })", `{"a":1,"b":3,"c":4}`},
		{"array spread", "const a = ['--x'];", "[...a, '--y', ...[1, 2]].join(' ')", "--x --y 1 2"},
		{"template literal", "const name = 'api', n = 2;", "`${name}-${n + 1}:${`nested-${name}`}`", "api-3:nested-api"},
		{"tagged template", "", "String.raw`C:\\temp\\dir${1}`", `C:\temp\dir1`},
		{"destructuring", "const { a, b: { c = 5 } = {}, ...rest } = { a: 1, d: 4, e: 5 }; const [x, , y = 9] = [7, 8];", "[a, c, rest.d, rest.e, x, y].join()", "1,5,4,5,7,9"},
		{"class fields, private, static, getter", "class A { #p = 2; static s = 3; get v() { return this.#p * A.s } static { A.t = 1 } }", "new A().v + A.t", "7"},
		{"class extends and super", "class Base { constructor(n) { this.n = n } name() { return 'b' + this.n } } class App extends Base { name() { return super.name() + '!' } }", "new App(1).name()", "b1!"},
		{"optional catch binding", "let ok; try { JSON.parse('{') } catch { ok = 'caught' }", "ok", "caught"},
		{"logical assignment", "let a = null, b = 1, c = 0; a ??= 'x'; b &&= 'y'; c ||= 'z';", "a + b + c", "xyz"},
		{"exponent and separators", "", "2 ** 10 + 1_000", "2024"},
		{"BigInt", "", "10n ** 20n", "100000000000000000000"},
		{"generators and for-of", "function* g() { yield 1; yield 2 } let s = 0; for (const v of g()) s += v;", "s", "3"},
		{"Map and Set", "const m = new Map([['a', 1]]); const s = new Set([1, 1, 2]);", "m.get('a') + s.size", "3"},
		{"Object.entries/fromEntries", "", "JSON.stringify(Object.fromEntries(Object.entries({ a: 1 }).map(([k, v]) => [k.toUpperCase(), v * 2])))", `{"A":2}`},
		{"array methods", "", "`${[[1], [2, [3]]].flat(2).map((x) => x * 2).filter(Boolean).at(-1)}${[1, 2].includes(2)}${[1, 2, 3].findLast((x) => x < 3)}`", "6true2"},
		{"string methods", "", "'a-b'.replaceAll('-', '_') + '7'.padStart(3, '0') + ' x '.trimEnd() + 'abc'.at(-1)", "a_b007 xc"},
		{"regexp named groups and lookbehind", "", "'v1.2'.match(/v(?<major>\\d+)/).groups.major + 'ab'.replace(/(?<=a)b/, 'X')", "1aX"},
		{"regexp in expression", "const re = /^\\/api\\/(v\\d)\\//i;", "re.exec('/API/v2/users')[1]", "v2"},
		{"computed keys and methods", "const k = 'PORT'; const o = { [k + '_2']: 1, get g() { return 2 }, m() { return 3 } };", "o.PORT_2 + o.g + o.m()", "6"},
		{"Promise and async exist", "async function f() { return 1 } const p = f();", "typeof p.then", "function"},
		{"JSON, Math, Date", "", "JSON.stringify({ n: Math.max(1, 2) }) + new Date(0).toISOString()", `{"n":2}1970-01-01T00:00:00.000Z`},
		{"Proxy and Reflect", "const p = new Proxy({}, { get: (t, k) => k.toUpperCase() });", "p.abc + Reflect.ownKeys({ a: 1 }).length", "ABC1"},
		{"getter in the exports", "const o = { get lazy() { return 'computed' } };", "o.lazy", "computed"},
		{"eval and Function", "", "eval('1 + 1') + new Function('a', 'return a * 3')(2)", "8"},
		{"labelled break", "let i = 0; outer: for (;;) { for (;;) { i++; break outer } }", "i", "1"},
		{"hashbang", "#!/usr/bin/env node\nconst x = 1;", "x", "1"},
		{"Buffer base64", "", "Buffer.from('user:pass').toString('base64') + ' ' + Buffer.from('dXNlcg==', 'base64').toString()", "dXNlcjpwYXNz user"},
		{"btoa and atob", "", "btoa('hi') + atob('aGk=')", "aGk=hi"},
		{"undefined drops the key", "", "undefined", "<unset>"},
		{"function drops the key", "", "() => 1", "<unset>"},
		{"NaN becomes null, dropped", "", "0 / 0", "<unset>"},
		{"cycle is cut", "const o = { a: 1 }; o.self = o;", "o", `{"a":1}`},
		{"shared object is kept twice", "const e = { x: 1 };", "[e, e]", `[{"x":1},{"x":1}]`},
		{"class instance", "class C { constructor() { this.a = 1 } m() {} }", "new C()", `{"a":1}`},
		{"Date in an object", "", "{ at: new Date(0) }", `{"at":"1970-01-01T00:00:00.000Z"}`},
		{"built-ins replaced by the config", "JSON.stringify = () => 'x'; Object.keys = () => []; Array.isArray = () => false;", "{ a: [1] }", `{"a":[1]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := jsValue(t, "ecosystem.config.js", tc.setup, tc.expr, Options{}); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// What process gives a config.
func TestProcess(t *testing.T) {
	bin := t.TempDir()
	node := filepath.Join(bin, "node")
	if err := os.WriteFile(node, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=/nonexistent:" + bin, "HOME=/home/tester", "EMPTY=", "A=1", "A=2"}
	for _, tc := range []struct {
		name, setup, expr, want string
		opt                     Options
	}{
		{"env from the caller", "", "process.env.HOME + process.env.EMPTY + process.env.A", "/home/tester2", Options{Env: env}},
		{"env writes are strings", "process.env.PORT = 8080; process.env.ON = true;", "typeof process.env.PORT + process.env.PORT + process.env.ON", "string8080true", Options{Env: env}},
		{"env delete and in", "process.env.X = 'y'; delete process.env.HOME;", "('X' in process.env) + ',' + ('HOME' in process.env)", "true,false", Options{Env: env}},
		{"env spread", "", "Object.keys({ ...process.env }).sort().join()", "A,EMPTY,HOME,PATH", Options{Env: env}},
		{"no caller env", "", "JSON.stringify(process.env)", "{}", Options{}},
		{"cwd", "", "process.cwd()", "/srv/app", Options{Cwd: "/srv/app"}},
		{"execPath from PATH", "", "process.execPath", node, Options{Env: env}},
		{"no node on PATH", "", "process.execPath === ''", "true", Options{Env: []string{"PATH=/nonexistent"}}},
		{"platform and arch", "", "process.platform + ' ' + (process.arch.length > 0)", runtime.GOOS + " true", Options{}},
		{"versions", "", "process.versions.node + process.version", "20.0.0v20.0.0", Options{}},
		{"argv", "", "process.argv.length + process.argv[0]", "2node", Options{}},
		{"exit is caught", "let msg; try { process.exit(2) } catch (e) { msg = e.message }", "msg", "the config called process.exit(2)", Options{}},
		{"require('process')", "", "require('node:process') === process", "true", Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := jsValue(t, "ecosystem.config.js", tc.setup, tc.expr, tc.opt); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// path's functions against the answers of Node.js 20 (path.posix).
func TestPath(t *testing.T) {
	const cwd = "/tmp/srv/app"
	for _, tc := range []struct {
		fn   string
		args []string
		want string
	}{
		{"join", []string{"a/", "b/"}, "a/b/"},
		{"join", nil, "."},
		{"join", []string{"", ""}, "."},
		{"join", []string{"/a", "../..", "b"}, "/b"},
		{"join", []string{"a", "", "b"}, "a/b"},
		{"join", []string{"./a", "./b/../c"}, "a/c"},
		{"join", []string{"/a//b", "c/"}, "/a/b/c/"},
		{"resolve", nil, "/tmp/srv/app"},
		{"resolve", []string{"a", "../..", "/b/", "c/"}, "/b/c"},
		{"resolve", []string{"x", "y"}, "/tmp/srv/app/x/y"},
		{"resolve", []string{"/", ".."}, "/"},
		{"resolve", []string{"", ""}, "/tmp/srv/app"},
		{"normalize", []string{""}, "."},
		{"normalize", []string{"./"}, "./"},
		{"normalize", []string{"a/../"}, "./"},
		{"normalize", []string{"//a//b/"}, "/a/b/"},
		{"normalize", []string{"../a/../.."}, "../.."},
		{"normalize", []string{"/.."}, "/"},
		{"dirname", []string{"/a/b/"}, "/a"},
		{"dirname", []string{"a"}, "."},
		{"dirname", []string{""}, "."},
		{"dirname", []string{"/"}, "/"},
		{"dirname", []string{"/a"}, "/"},
		{"dirname", []string{"a//b"}, "a/"},
		{"dirname", []string{"//a"}, "//"},
		{"dirname", []string{"a/b//"}, "a"},
		{"basename", []string{"/a/b.js/", ".js"}, "b"},
		{"basename", []string{"/"}, ""},
		{"basename", []string{""}, ""},
		{"basename", []string{"a.js", "a.js"}, ""},
		{"basename", []string{"x/a.txt", "txt"}, "a."},
		{"basename", []string{"//"}, ""},
		{"extname", []string{".bashrc"}, ""},
		{"extname", []string{"a."}, "."},
		{"extname", []string{"a.b.c"}, ".c"},
		{"extname", []string{".."}, ""},
		{"extname", []string{"a/.b"}, ""},
		{"extname", []string{"a.b/"}, ".b"},
		{"extname", []string{"..."}, "."},
		{"extname", []string{"..a"}, ".a"},
		{"relative", []string{"/a/b", "/a/b"}, ""},
		{"relative", []string{"/a/b/c", "/a/d"}, "../../d"},
		{"relative", []string{"x", "x/y"}, "y"},
		{"relative", []string{"/a", "/"}, ".."},
	} {
		var got string
		a := tc.args
		switch tc.fn {
		case "join":
			got = pathJoin(a...)
		case "resolve":
			got = pathResolve(cwd, a...)
		case "normalize":
			got = pathNormalize(a[0])
		case "dirname":
			got = pathDirname(a[0])
		case "basename":
			ext := ""
			if len(a) > 1 {
				ext = a[1]
			}
			got = pathBasename(a[0], ext)
		case "extname":
			got = pathExtname(a[0])
		case "relative":
			got = pathRelative(cwd, a[0], a[1])
		}
		if got != tc.want {
			t.Errorf("path.%s(%q) = %q, want %q", tc.fn, tc.args, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in   string
		want map[string]string
	}{
		{"/home/u/f.txt", map[string]string{"root": "/", "dir": "/home/u", "base": "f.txt", "ext": ".txt", "name": "f"}},
		{"f", map[string]string{"root": "", "dir": "", "base": "f", "ext": "", "name": "f"}},
		{"/", map[string]string{"root": "/", "dir": "/", "base": "", "ext": "", "name": ""}},
		{"", map[string]string{"root": "", "dir": "", "base": "", "ext": "", "name": ""}},
		{"a/b/", map[string]string{"root": "", "dir": "a", "base": "b", "ext": "", "name": "b"}},
		{".bashrc", map[string]string{"root": "", "dir": "", "base": ".bashrc", "ext": "", "name": ".bashrc"}},
		{"/a/.b.c", map[string]string{"root": "/", "dir": "/a", "base": ".b.c", "ext": ".c", "name": ".b"}},
		{"./x.y", map[string]string{"root": "", "dir": ".", "base": "x.y", "ext": ".y", "name": "x"}},
	} {
		got := pathParse(tc.in)
		for k, w := range tc.want {
			if got[k] != w {
				t.Errorf("path.parse(%q).%s = %q, want %q", tc.in, k, got[k], w)
			}
		}
	}
	for _, tc := range []struct{ root, dir, base, name, ext, want string }{
		{"", "/x", "", "f", "txt", "/x/f.txt"},
		{"/", "", "f", "", "", "/f"},
		{"/", "/", "f", "", "", "/f"},
		{"", "", "", "n", ".e", "n.e"},
		{"", "d", "b", "ignored", "", "d/b"},
	} {
		if got := pathFormat(tc.root, tc.dir, tc.base, tc.name, tc.ext); got != tc.want {
			t.Errorf("path.format(%+v) = %q, want %q", tc, got, tc.want)
		}
	}
}

// The modules tpm provides, as configs call them.
func TestModules(t *testing.T) {
	data := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(data, name)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("package.json", `{"name": "shop", "version": "1.2.3"}`)
	write("conf/b.txt", "bee")
	write("conf/a.txt", "ay")
	write("conf/sub/c.txt", "")
	write(".env", "FROM_DOTENV=yes\nPORT=7000\n")
	// A FIFO nobody writes to: reading it would block where no interrupt
	// reaches.
	if err := syscall.Mkfifo(filepath.Join(data, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	write("other.env", "OTHER=1\nPORT=7001\n")
	opt := Options{Cwd: data, Env: []string{"HOME=/home/tester", "TMPDIR=/var/tmp/", "PORT=1"}}
	for _, tc := range []struct {
		name, setup, expr, want string
	}{
		{"path.join with __dirname", "const path = require('path');", "path.join(__dirname, 'dist', '..', 'server.js') === __dirname + '/server.js'", "true"},
		{"path.posix", "const path = require('node:path');", "(path.posix === path) + path.sep + path.delimiter", "true/:"},
		{"path.resolve uses process.cwd()", "const { resolve } = require('path');", "resolve('a')", filepath.Join(data, "a")},
		{"path needs strings", "let m; try { require('path').join('a', 3) } catch (e) { m = e.name + ' ' + e.code }", "m", "TypeError ERR_INVALID_ARG_TYPE"},
		{"path.parse and format", "const p = require('path');", "p.format(p.parse('/a/b.txt')) + ' ' + p.parse('/a/b.txt').name", "/a/b.txt b"},

		{"os.cpus", "const os = require('os');", "os.cpus().length + '/' + os.availableParallelism()", strconv.Itoa(runtime.NumCPU()) + "/" + strconv.Itoa(runtime.NumCPU())},
		{"os basics", "const os = require('node:os');", "[os.platform(), os.EOL === '\\n', os.homedir(), os.tmpdir()].join()", runtime.GOOS + ",true,/home/tester,/var/tmp"},
		{"os.type", "const os = require('os');", "os.type()", map[string]string{"linux": "Linux", "darwin": "Darwin"}[runtime.GOOS]},
		{"os.hostname and userInfo", "const os = require('os');", "typeof os.hostname() + typeof os.userInfo().username + (os.userInfo().homedir.length > 0)", "stringstringtrue"},
		{"os.totalmem", "const os = require('os');", "os.totalmem() > 0 && os.freemem() >= 0", "true"},
		{"os.release and arch", "const os = require('os');", "os.release().length > 0 && os.arch() === process.arch", "true"},

		{"fs.readFileSync with encoding", "const fs = require('fs');", "fs.readFileSync('conf/a.txt', 'utf8') + fs.readFileSync('conf/b.txt', { encoding: 'utf-8' })", "aybee"},
		{"fs.readFileSync as Buffer", "const fs = require('fs');", "JSON.parse(fs.readFileSync('package.json')).version + String(fs.readFileSync('conf/a.txt')) + fs.readFileSync('conf/b.txt').length", "1.2.3ay3"},
		{"fs.readFileSync hex", "const fs = require('fs');", "fs.readFileSync('conf/a.txt').toString('hex')", "6179"},
		{"fs.existsSync", "const fs = require('fs');", "[fs.existsSync('conf'), fs.existsSync(__dirname + '/package.json'), fs.existsSync('nope'), fs.existsSync(undefined)].join()", "true,true,false,false"},
		{"fs.readdirSync", "const fs = require('fs');", "fs.readdirSync('conf').join()", "a.txt,b.txt,sub"},
		{"fs.readdirSync withFileTypes", "const fs = require('fs');", "fs.readdirSync('conf', { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).join()", "sub"},
		{"fs.statSync", "const fs = require('fs');", "[fs.statSync('conf').isDirectory(), fs.statSync('conf/b.txt').isFile(), fs.statSync('conf/b.txt').size].join()", "true,true,3"},
		{"fs.statSync without throwing", "const fs = require('fs');", "fs.statSync('nope', { throwIfNoEntry: false }) === undefined", "true"},
		{"fs errors carry codes", "const fs = require('fs'); let c; try { fs.readFileSync('missing.json') } catch (e) { c = e.code + ' ' + e.syscall }", "c", "ENOENT open"},
		{"fs reads of a folder fail", "const fs = require('fs'); let c; try { fs.readFileSync('conf') } catch (e) { c = e.code }", "c", "EISDIR"},
		{"fs will not read a FIFO", "const fs = require('fs'); let c; try { fs.readFileSync('fifo') } catch (e) { c = e.code }", "c", "EINVAL"},
		{"fs will not list a FIFO", "const fs = require('fs'); let c; try { fs.readdirSync('fifo') } catch (e) { c = e.code }", "c", "ENOTDIR"},
		{"fs writes throw", "const fs = require('fs'); let c; try { fs.mkdirSync('logs') } catch (e) { c = e.code }", "c + fs.existsSync('logs')", "ERR_NOT_AVAILABLEfalse"},

		{"url.pathToFileURL", "const { pathToFileURL } = require('url');", "pathToFileURL('/srv/my app/x.js').href", "file:///srv/my%20app/x.js"},
		{"url.fileURLToPath", "const { fileURLToPath } = require('node:url');", "fileURLToPath('file:///srv/my%20app/x.js')", "/srv/my app/x.js"},
		{"new URL", "const u = new URL('../b/c.js?x=1#top', 'file:///a/z/y.js');", "[u.href, u.pathname, u.protocol, u.search, u.hash].join(' ')", "file:///a/b/c.js?x=1#top /a/b/c.js file: ?x=1 #top"},
		{"new URL http", "const u = new URL('https://user:pw@example.com:8443/p');", "[u.host, u.hostname, u.port, u.origin, u.username].join(' ')", "example.com:8443 example.com 8443 https://example.com:8443 user"},
		{"URL errors", "let c; try { new URL('not a url') } catch (e) { c = e.code }", "c", "ERR_INVALID_URL"},

		{"dotenv.config default", "const r = require('dotenv').config();", "process.env.FROM_DOTENV + process.env.PORT + r.parsed.PORT", "yes17000"},
		{"dotenv.config override", "require('dotenv').config({ path: 'other.env', override: true });", "process.env.PORT + process.env.OTHER", "70011"},
		{"dotenv.config missing", "const r = require('dotenv').config({ path: '/nonexistent/.env' });", "r.error.code + JSON.stringify(r.parsed)", "ENOENT{}"},
		{"dotenv.config processEnv", "const target = {}; require('dotenv').config({ processEnv: target });", "target.PORT + (process.env.FROM_DOTENV === undefined)", "7000true"},
		{"dotenv/config", "require('dotenv/config');", "process.env.FROM_DOTENV", "yes"},
		{"dotenv.parse", "const { parse } = require('dotenv');", "JSON.stringify(parse('A=1\\nB=\"x y\"'))", `{"A":"1","B":"x y"}`},

		{"require a JSON file", "const pkg = require('./package.json');", "pkg.name + '@' + pkg.version", "shop@1.2.3"},
		{"require is cached", "", "require('./package') === require('./package.json')", "true"},
		{"require.resolve", "", "require.resolve('./package.json') === __dirname + '/package.json'", "true"},
		{"module and exports", "exports.early = 1;", "module.exports === exports && module.filename === __filename && typeof module.require", "function"},
		{"createRequire", "const { createRequire } = require('module'); const r = createRequire(__filename);", "r('./package.json').name", "shop"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(data, strings.NewReplacer(" ", "_", "/", "_").Replace(tc.name))
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			src := tc.setup + "\nmodule.exports = { apps: [{ script: 'x.js', env: { V: (" + tc.expr + ") } }] };\n"
			// The config lives next to the data, as real ones do.
			p := filepath.Join(data, "ecosystem.config.js")
			if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(p, opt)
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Apps[0].Env["V"]; got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// Relative requires: index files, folders, cycles, and what a failed
// module leaves behind.
func TestRequire(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"ecosystem.config.js": `const lib = require('./lib');
const a = require('./cycle/a');
let failed;
try { require('./throws') } catch (e) { failed = e.message }
let again;
try { require('./throws') } catch (e) { again = e.message }
const { port } = require('./esm-lib.mjs');
module.exports = { apps: [{ name: lib.name, script: 'x.js', env: { CYCLE: a.seen, FAILED: failed, AGAIN: again, PORT: port, DIR: lib.dir } }] };`,
		"lib/index.js":    "exports.name = require('./name.json').name; exports.dir = __dirname;",
		"lib/name.json":   `{"name": "from-lib"}`,
		"cycle/a.js":      "exports.done = false; const b = require('./b'); exports.seen = b.sawA; exports.done = true;",
		"cycle/b.js":      "const a = require('./a'); exports.sawA = 'a.done=' + a.done;",
		"throws.js":       "globalThis.count = (globalThis.count || 0) + 1; throw new Error('load ' + globalThis.count);",
		"esm-lib.mjs":     "export const port = 9000;",
		"lib/unused.json": "{",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := Load(filepath.Join(dir, "ecosystem.config.js"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Apps[0]
	if a.Name != "from-lib" || a.Env["CYCLE"] != "a.done=false" || a.Env["FAILED"] != "load 1" || a.Env["AGAIN"] != "load 2" ||
		a.Env["PORT"] != "9000" || a.Env["DIR"] != filepath.Join(dir, "lib") {
		t.Errorf("got %q %q", a.Name, a.Env)
	}
}

// A broken JSON file that a config requires names that file and its line.
func TestRequireBadJSON(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ecosystem.config.js"), []byte("module.exports = require('./apps.json');\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "apps.json"), []byte("{\n  \"apps\": [}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(filepath.Join(dir, "ecosystem.config.js"), Options{})
	want := regexp.MustCompile(`^` + regexp.QuoteMeta(dir) + `/apps\.json:2:12: SyntaxError: invalid character '\}' looking for beginning of value$`)
	if exit.Code(err) != exit.DataErr || err == nil || !want.MatchString(err.Error()) {
		t.Errorf("got %v", err)
	}
}
