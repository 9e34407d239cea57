package ecosystem

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dop251/goja"
	"github.com/tetra-toolkit/tpm/lib/envfile"
)

// module: createRequire, which ES module configs use to load JSON.
func (r *runner) moduleModule() *goja.Object {
	vm := r.vm
	m := vm.NewObject()
	m.Set("createRequire", func(call goja.FunctionCall) goja.Value {
		p := call.Argument(0).String()
		if o, ok := call.Argument(0).(*goja.Object); ok {
			if href := o.Get("href"); href != nil && !goja.IsUndefined(href) {
				p = href.String()
			}
		}
		if strings.HasPrefix(p, "file:") {
			var err error
			if p, err = fileURLPath(p); err != nil {
				panic(r.typeError("%v", err))
			}
		}
		if !filepath.IsAbs(p) {
			panic(r.typeError("createRequire wants a file URL or an absolute path, not %q", p))
		}
		dir := p
		if !strings.HasSuffix(p, "/") {
			dir = filepath.Dir(p)
		}
		return r.requireFunc(dir)
	})
	list := make([]any, len(nodeBuiltins))
	for i, b := range nodeBuiltins {
		list[i] = b
	}
	m.Set("builtinModules", vm.NewArray(list...))
	return m
}

// dotenv

func (r *runner) dotenvModule() *goja.Object {
	vm := r.vm
	m := vm.NewObject()
	config := func(call goja.FunctionCall) goja.Value {
		opts, _ := call.Argument(0).(*goja.Object)
		return r.dotenvConfig(opts)
	}
	m.Set("config", config)
	m.Set("configDotenv", config)
	m.Set("parse", func(call goja.FunctionCall) goja.Value {
		entries, err := envfile.Dotenv([]byte(call.Argument(0).String()))
		if err != nil {
			panic(r.nodeError("ERR_DOTENV", "dotenv: "+err.Error()))
		}
		return r.envObject(entries)
	})
	m.Set("populate", func(call goja.FunctionCall) goja.Value {
		target, ok1 := call.Argument(0).(*goja.Object)
		parsed, ok2 := call.Argument(1).(*goja.Object)
		if !ok1 || !ok2 {
			panic(r.typeError("populate wants a target object and a parsed object"))
		}
		override := false
		if o, ok := call.Argument(2).(*goja.Object); ok {
			if v := o.Get("override"); v != nil {
				override = v.ToBoolean()
			}
		}
		populate(target, parsed, override)
		return goja.Undefined()
	})
	return m
}

func (r *runner) envObject(entries []string) *goja.Object {
	o := r.vm.NewObject()
	for _, kv := range entries {
		k, v, _ := strings.Cut(kv, "=")
		o.Set(k, v)
	}
	return o
}

// populate sets every key of parsed in target that target does not have
// yet (any of them, with override).
func populate(target, parsed *goja.Object, override bool) {
	for _, k := range parsed.Keys() {
		if !override {
			if v := target.Get(k); v != nil && !goja.IsUndefined(v) {
				continue
			}
		}
		target.Set(k, parsed.Get(k))
	}
}

// dotenvConfig is require('dotenv').config(opts): it loads .env in
// process.cwd(), or opts.path (a path or a list of them, relative to
// process.cwd()), into process.env (or opts.processEnv), keeping the
// variables already set unless opts.override. A missing file is returned
// as {error}, as the real package does; a malformed one is thrown, naming
// the file and the line, because the real package would drop the line
// without a word.
func (r *runner) dotenvConfig(opts *goja.Object) goja.Value {
	vm := r.vm
	var paths []string
	override := false
	target := r.helpers.Get("env").(*goja.Object)
	if opts != nil {
		if v := opts.Get("path"); v != nil && !goja.IsUndefined(v) && !goja.IsNull(v) {
			switch x := v.Export().(type) {
			case []any:
				for _, p := range x {
					paths = append(paths, fmt.Sprint(p))
				}
			default:
				s := v.String()
				if o, ok := v.(*goja.Object); ok && o.Get("href") != nil && !goja.IsUndefined(o.Get("href")) {
					if p, err := fileURLPath(o.Get("href").String()); err == nil {
						s = p
					}
				}
				paths = []string{s}
			}
		}
		if v := opts.Get("override"); v != nil {
			override = v.ToBoolean()
		}
		if v, ok := opts.Get("processEnv").(*goja.Object); ok {
			target = v
		}
	}
	if len(paths) == 0 {
		paths = []string{filepath.Join(r.cwd(), ".env")}
	}
	parsed := vm.NewObject()
	var lastErr goja.Value
	for _, p := range paths {
		full := p
		if !filepath.IsAbs(full) {
			full = filepath.Join(r.cwd(), full)
		}
		data, err := r.readFile(full)
		if err != nil {
			lastErr = r.fsError(err, "open", full)
			continue
		}
		entries, err := envfile.Dotenv(data)
		if err != nil {
			panic(r.nodeError("ERR_DOTENV", fmt.Sprintf("%s: %v", r.displayName(full), err)))
		}
		populate(parsed, r.envObject(entries), override)
	}
	populate(target, parsed, override)
	res := vm.NewObject()
	res.Set("parsed", parsed)
	if lastErr != nil {
		res.Set("error", lastErr)
	}
	return res
}
