package ecosystem

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tetra-toolkit/tpm/lib/exit"
)

// Text that only looks like import or export is not module syntax.
func TestTransformLeavesScriptsAlone(t *testing.T) {
	for _, src := range []string{
		`const s = "export default 1"; const q = 'import x from "y"';`,
		"const t = `import x from 'y' ${ '}' + `export ${'nested'}` } export default`;",
		"const re = /export default|import x/g; const d = 4 / 2 / 1;",
		"// export default {}\n/* import a from 'b' */ module.exports = {};",
		"const o = { import: 1, export: 2 }; o.import + o.export;",
		"foo.export = 1; bar.import('x');",
		"function f() { return /export default/.test('x') }",
		"const x = a++ / 2; const y = (b) / 2 / /re/.source.length;",
		"if (x) { import('lazy') }",
		"#!/usr/bin/env node\nmodule.exports = {};",
		"const s = `a${`b${`c${'export default'}`}`}`;",
	} {
		res, err := transformESM(src)
		if err != nil {
			t.Errorf("%q: %v", src, err)
			continue
		}
		if res.isModule || res.src != src {
			t.Errorf("%q: rewritten as\n%s", src, res.src)
		}
	}
}

func TestTransformESM(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		body      []string // substrings of the rewritten source
		exports   []string // substrings of the prologue
	}{
		{"default import", "import path from 'path';", []string{"const __tpm_m1 = __tpm_require('path'); const path = __tpm_default(__tpm_m1);"}, nil},
		{"namespace import", "import * as os from \"node:os\"", []string{`const os = __tpm_ns(__tpm_m1);`}, nil},
		{"named imports", "import { join, resolve as r, default as p, 'odd name' as odd } from 'path';", []string{`const { "join": join, "resolve": r, "default": p, "odd name": odd } = __tpm_ns(__tpm_m1);`}, nil},
		{"default and named", "import def, { a } from './x.js'", []string{"const def = __tpm_default(__tpm_m1);", `const { "a": a } = __tpm_ns(__tpm_m1);`}, nil},
		{"side effect", "import 'dotenv/config';", []string{"__tpm_require('dotenv/config');"}, nil},
		{"import attributes", "import pkg from './package.json' with { type: 'json' };\nexport default pkg;", []string{"const pkg = __tpm_default(__tpm_m1);\n"}, nil},
		{"export default object", "export default { apps: [] };", []string{"__tpm_exports.default = { apps: [] };"}, nil},
		{"export const", "export const apps = [];", []string{"       const apps = [];"}, []string{`"apps": () => apps`}},
		{"export destructuring", "export const { a, b: [c, ...d] } = x, e = 1;", nil, []string{`"a": () => a`, `"c": () => c`, `"d": () => d`, `"e": () => e`}},
		{"export function and class", "export function f() {}\nexport async function g() {}\nexport class C {}", nil, []string{`"f": () => f`, `"g": () => g`, `"C": () => C`}},
		{"export default named function", "export default function config() { return {} }", []string{"               function config()"}, []string{`"default": () => config`}},
		{"export list", "const a = 1, b = 2;\nexport { a, b as default };", nil, []string{`"a": () => a`, `"default": () => b`}},
		{"re-export", "export { base, other as o } from './shared.mjs';", []string{"const __tpm_m1 = __tpm_ns(__tpm_require('./shared.mjs'));"}, []string{`"base": () => __tpm_m1["base"]`, `"o": () => __tpm_m1["other"]`}},
		{"export star", "export * from './a.js';", []string{"__tpm_star(__tpm_exports, __tpm_require('./a.js'));"}, nil},
		{"export star as", "export * as util from './u.js';", nil, []string{`"util": () => __tpm_m1`}},
		{"import.meta", "const u = import.meta.url; const f = () => import.meta.dirname;", []string{"const u = __tpm_meta.url; const f = () => __tpm_meta.dirname;"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := transformESM(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.body {
				if !strings.Contains(res.src, s) {
					t.Errorf("rewritten source lacks %q:\n%s", s, res.src)
				}
			}
			for _, s := range tc.exports {
				if !strings.Contains(res.prologue, s) {
					t.Errorf("prologue lacks %q:\n%s", s, res.prologue)
				}
			}
			if strings.Count(res.src, "\n") != strings.Count(tc.src, "\n") {
				t.Errorf("line count changed:\n%s", res.src)
			}
		})
	}
}

// A rewritten module keeps its lines, so that an error after a long
// import names the right line.
func TestTransformKeepsLines(t *testing.T) {
	src := "import {\n  join,\n  resolve,\n} from 'path';\nimport os\n  from 'os';\n\nexport default {\n  apps: [ join('a') ],\n};\nnot valid here;\n"
	res, err := transformESM(src)
	if err != nil {
		t.Fatal(err)
	}
	line := func(s, needle string) int {
		i := strings.Index(s, needle)
		return strings.Count(s[:i], "\n") + 1
	}
	for _, needle := range []string{"apps:", "not valid here"} {
		if a, b := line(src, needle), line(res.src, needle); a != b {
			t.Errorf("%q moved from line %d to %d:\n%s", needle, a, b, res.src)
		}
	}
	p := filepath.Join(t.TempDir(), "ecosystem.config.mjs")
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(p, Options{})
	if exit.Code(err) != exit.DataErr || !regexp.MustCompile(`ecosystem\.config\.mjs:11:5: SyntaxError: `).MatchString(err.Error()) {
		t.Errorf("got %v", err)
	}
}

// ES modules as a whole: how default and named exports, imports of
// CommonJS and of other ES modules, and re-exports come out.
func TestESMInterop(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"cjs.js":     "module.exports = { port: 3000 }; module.exports.host = 'localhost';",
		"named.mjs":  "export const name = 'svc'; export let count = 1; export function bump() { count++ } export default 'dflt';",
		"again.mjs":  "export * from './named.mjs'; export { default as named } from './named.mjs'; export * as cjs from './cjs.js';",
		"fn.mjs":     "export default function make(n) { return { script: n + '.js', name: n } }",
		"mixed.js":   "import { join } from 'path';\nexports.joined = join('a', 'b');\nexport const flag = true;",
		"strict.mjs": "export default (function () { return this === undefined })();",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	setup := `import cjs, { port } from './cjs.js';
import * as ns from './cjs.js';
import dflt, { name, count, bump } from './named.mjs';
import * as again from './again.mjs';
import make from './fn.mjs';
import { joined, flag } from './mixed.js';
import isStrict from './strict.mjs';
bump();`
	for _, tc := range []struct{ expr, want string }{
		{"`${cjs.port}:${port}:${cjs.host}`", "3000:3000:localhost"},
		{"ns.default === cjs && ns.port", "3000"},
		{"dflt + name", "dfltsvc"},
		{"count", "1"}, // an import is a copy here, not a live binding
		{"again.name + again.named + again.cjs.port + (again.default === undefined)", "svcdflt3000true"},
		{"make('api').script", "api.js"},
		{"joined + flag", "a/btrue"},
		{"isStrict", "true"},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			got := jsValue(t, "ecosystem.config.mjs", strings.ReplaceAll(setup, "'./", "'"+dir+"/"), tc.expr, Options{})
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLex(t *testing.T) {
	src := "a = b / c; d = /re[/]x/g.test(e) ? `t${ {f: 1}.f }u` : 'g\\'h' // c\n++i / 2"
	var got []string
	for _, tk := range lex(src) {
		if tk.kind != tEOF {
			got = append(got, src[tk.start:tk.end])
		}
	}
	want := []string{"a", "=", "b", "/", "c", ";", "d", "=", "/re[/]x/g", ".", "test", "(", "e", ")", "?",
		"`t${", "{", "f", ":", "1", "}", ".", "f", "}u`", ":", `'g\'h'`, "++", "i", "/", "2"}
	sameStrings(t, "tokens", got, want)
}
