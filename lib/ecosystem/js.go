package ecosystem

// JavaScript configs, evaluated as CommonJS modules in goja.
//
// A module's source is wrapped in a function of exports, require, module,
// __filename and __dirname, as Node does, with the wrapper's head on the
// module's first line so that line numbers in errors are the file's own.
// The evaluation has a deadline and a bound on heap growth; both interrupt
// the VM, which stops at its next JavaScript instruction (a single native
// call, such as 'x'.repeat(1e9), cannot be cut short).

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"

	"github.com/tetra-toolkit/tpm/lib/exit"
)

//go:embed prelude.js
var preludeSrc string

var prelude = sync.OnceValues(func() (*goja.Program, error) {
	return goja.Compile("prelude.js", preludeSrc, true)
})

// maxStack bounds the depth of JavaScript calls, so that endless recursion
// is a RangeError and not a heap of frames.
const maxStack = 10000

var (
	errTimeout = errors.New("timeout")
	errMemory  = errors.New("memory")
)

// runner is one evaluation of a config and the modules it requires.
type runner struct {
	vm      *goja.Runtime
	opt     Options
	abs     string // the config's absolute path
	display string // the config's path as the caller wrote it
	cache   map[string]*goja.Object
	natives map[string]goja.Value
	helpers *goja.Object // what prelude.js returns
	envObj  *goja.Object // the object behind process.env
	process *goja.Object
}

// compileError is a file that does not parse, with the place of the
// trouble when it is known.
type compileError struct {
	file      string
	line, col int
	msg       string
}

func (e *compileError) Error() string {
	switch {
	case e.line > 0 && e.col > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.file, e.line, e.col, e.msg)
	case e.line > 0:
		return fmt.Sprintf("%s:%d: %s", e.file, e.line, e.msg)
	}
	return fmt.Sprintf("%s: %s", e.file, e.msg)
}

// moduleError is a require of a module tpm does not provide.
type moduleError struct {
	name    string
	builtin bool // a Node.js module, not an npm package
}

func (e *moduleError) Error() string {
	if e.builtin {
		return fmt.Sprintf("Cannot find module '%s': tpm does not provide this Node.js module", e.name)
	}
	return fmt.Sprintf("Cannot find module '%s': tpm cannot load npm packages without Node.js", e.name)
}

// evalConfig evaluates a JavaScript config and returns what it exports as
// a tree.
func evalConfig(display, abs string, data []byte, opt Options) (any, []string, error) {
	src := string(bytes.TrimPrefix(data, []byte("\ufeff")))
	r, err := newRunner(display, abs, opt)
	if err != nil {
		return nil, nil, exit.With(exit.DataErr, fmt.Errorf("%s: %w", display, err))
	}
	// The explanation runs under the bounds too: describing a thrown value
	// may run the config's code; so does reading process.env back.
	stop := r.watch()
	text, err := r.evalMain(src)
	if err != nil {
		err = r.explain(err)
	}
	var env []string
	if err == nil {
		env, err = r.finalEnv()
	}
	stop()
	if err != nil {
		return nil, nil, err
	}
	tree, err := decodeJSON([]byte(text))
	if err != nil {
		return nil, nil, dataErr(display, "cannot read what the config exports: %v", err)
	}
	return tree, env, nil
}

// finalEnv reads process.env as the config left it (require('dotenv')
// .config() fills it): under PM2 the apps start with that environment.
func (r *runner) finalEnv() (env []string, err error) {
	defer func() {
		if x := recover(); x != nil {
			err = r.explain(fmt.Errorf("%v", x))
		}
	}()
	for _, k := range r.envObj.Keys() {
		v := r.envObj.Get(k)
		if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
			continue
		}
		env = append(env, k+"="+v.String())
	}
	return env, nil
}

func newRunner(display, abs string, opt Options) (*runner, error) {
	prg, err := prelude()
	if err != nil {
		return nil, err
	}
	vm := goja.New()
	vm.SetMaxCallStackSize(maxStack)
	vm.SetParserOptions(parser.WithDisableSourceMaps)
	r := &runner{
		vm:      vm,
		opt:     opt,
		abs:     abs,
		display: display,
		cache:   map[string]*goja.Object{},
		natives: map[string]goja.Value{},
	}
	r.envObj = vm.NewObject()
	for _, kv := range opt.Env {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			r.envObj.Set(k, v)
		}
	}
	host := vm.NewObject()
	host.Set("env", r.envObj)
	host.Set("decode", r.decode)
	host.Set("encode", r.encode)
	host.Set("parseURL", r.parseURL)
	host.Set("print", func(s string) {
		if opt.Console != nil {
			fmt.Fprintln(opt.Console, s)
		}
	})
	fn, err := vm.RunProgram(prg)
	if err != nil {
		return nil, err
	}
	call, _ := goja.AssertFunction(fn)
	h, err := call(goja.Undefined(), host)
	if err != nil {
		return nil, err
	}
	r.helpers = h.ToObject(vm)
	r.process = r.processObject()
	vm.Set("process", r.process)
	return r, nil
}

// watch interrupts the VM when the evaluation runs past its deadline or
// grows the heap past its limit, until the returned function is called.
// The heap is the process's: the measure is its growth since the start.
func (r *runner) watch() func() {
	timer := time.AfterFunc(r.opt.Timeout, func() { r.vm.Interrupt(errTimeout) })
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		heap := func() int64 {
			metrics.Read(sample)
			if sample[0].Value.Kind() != metrics.KindUint64 {
				return 0
			}
			return int64(sample[0].Value.Uint64())
		}
		base := heap()
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if heap()-base <= r.opt.MemoryLimit {
					continue
				}
				// Dead objects count until a collection frees them:
				// collect once before blaming the config.
				runtime.GC()
				if heap()-base > r.opt.MemoryLimit {
					r.vm.Interrupt(errMemory)
					return
				}
			}
		}
	}()
	return func() {
		timer.Stop()
		close(done)
		wg.Wait()
	}
}

// evalMain runs the config and returns its export as JSON.
func (r *runner) evalMain(src string) (string, error) {
	mod, err := r.run(r.abs, r.display, src)
	if err != nil {
		var ce *compileError
		if errors.As(err, &ce) && ce.file == r.display && bareObject(src) {
			return "", errBare
		}
		return "", err
	}
	extract, _ := goja.AssertFunction(r.helpers.Get("extract"))
	res, err := extract(goja.Undefined(), mod)
	if err != nil {
		return "", err
	}
	out := res.ToObject(r.vm)
	switch out.Get("kind").String() {
	case "nothing":
		if bareObject(src) {
			return "", errBare
		}
		return "", errNothing
	case "function":
		return "", errFunction
	}
	return out.Get("json").String(), nil
}

var (
	errBare     = errors.New("bare")
	errNothing  = errors.New("nothing")
	errFunction = errors.New("function")
)

// bareObject reports whether a script is a JSON object in a .js file:
// its first character that is not white space or a comment is {.
func bareObject(src string) bool {
	toks := lex(src)
	return len(toks) > 1 && toks[0].kind == tPunct && src[toks[0].start] == '{'
}

// explain turns what went wrong in an evaluation into tpm's one-line error.
func (r *runner) explain(err error) error {
	switch {
	case errors.Is(err, errBare):
		return exit.Errorf(exit.DataErr, "%s holds a bare JSON object, not JavaScript: rename it to .json or write module.exports = {...}", r.display)
	case errors.Is(err, errNothing):
		return dataErr(r.display, "the config exports nothing: set module.exports = { apps: [...] } (or export default)")
	case errors.Is(err, errFunction):
		return dataErr(r.display, "the config exports a function: export an object with an \"apps\" list")
	}
	var ce *compileError
	if errors.As(err, &ce) {
		return exit.With(exit.DataErr, ce)
	}
	var me *moduleError
	if errors.As(err, &me) {
		file := r.display
		if f, _ := frame(err); f != "" {
			file = f
		}
		if me.builtin {
			return dataErr(file, "the config requires %q, a Node.js module tpm does not provide", me.name)
		}
		return dataErr(file, "the config requires %q, an npm package tpm cannot load without Node.js", me.name)
	}
	file, line := frame(err)
	if file == "" {
		file = r.display
	}
	var ie *goja.InterruptedError
	if errors.As(err, &ie) {
		switch ie.Value() {
		case errTimeout:
			return lineErr(file, line, 0, "evaluation did not finish within %v: is there an endless loop?", r.opt.Timeout)
		case errMemory:
			return lineErr(file, line, 0, "evaluation used more than %s of memory", size(r.opt.MemoryLimit))
		}
		return lineErr(file, line, 0, "evaluation interrupted: %v", ie.Value())
	}
	var so *goja.StackOverflowError
	if errors.As(err, &so) {
		return lineErr(file, line, 0, "RangeError: Maximum call stack size exceeded")
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		return lineErr(file, line, 0, "%s", r.describe(ex.Value()))
	}
	return lineErr(file, line, 0, "%v", err)
}

// frame finds where an exception was thrown: the innermost frame that is
// in a file.
func frame(err error) (string, int) {
	var stack []goja.StackFrame
	var ex *goja.Exception
	var ie *goja.InterruptedError
	var so *goja.StackOverflowError
	switch {
	case errors.As(err, &ie):
		stack = ie.Stack()
	case errors.As(err, &so):
		stack = so.Stack()
	case errors.As(err, &ex):
		stack = ex.Stack()
	}
	for _, f := range stack {
		if p := f.Position(); p.Filename != "" && p.Line > 0 {
			return p.Filename, p.Line
		}
	}
	return "", 0
}

// describe writes a thrown value as Node would print its first line:
// "Error: message" for an error, the value itself otherwise.
func (r *runner) describe(v goja.Value) string {
	if v == nil {
		return "uncaught exception"
	}
	describe, _ := goja.AssertFunction(r.helpers.Get("describe"))
	d, err := describe(goja.Undefined(), v)
	if err != nil {
		return "uncaught exception"
	}
	return d.String()
}

func size(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// run evaluates the module at abs (its source src) and returns its module
// object. A module is cached before it runs, so that require cycles end,
// and forgotten when it fails, as in Node.
func (r *runner) run(abs, display, src string) (*goja.Object, error) {
	vm := r.vm
	fn, err := r.compile(display, src)
	if err != nil {
		return nil, err
	}
	module := vm.NewObject()
	exports := vm.NewObject()
	dir := filepath.Dir(abs)
	module.Set("exports", exports)
	module.Set("id", abs)
	module.Set("filename", abs)
	module.Set("path", dir)
	module.Set("loaded", false)
	require := r.requireFunc(dir)
	module.Set("require", require)
	r.cache[abs] = module

	meta := vm.NewObject()
	meta.Set("url", fileURL(abs))
	meta.Set("filename", abs)
	meta.Set("dirname", dir)
	meta.Set("resolve", func(s string) string {
		if p, ok := r.resolveFile(dir, s); ok {
			return fileURL(p)
		}
		panic(r.nodeError("ERR_MODULE_NOT_FOUND", fmt.Sprintf("Cannot find module '%s'", s)))
	})
	_, err = fn(exports, exports, require, module, vm.ToValue(abs), vm.ToValue(dir), meta, require, exports)
	if err != nil {
		delete(r.cache, abs)
		return nil, err
	}
	module.Set("loaded", true)
	return module, nil
}

// wrapHead opens the function a module runs in. A module's body goes
// inside a block of its own, so that an ES module may declare what a
// CommonJS one is given (const __dirname = ...).
const wrapHead = "(function (exports, require, module, __filename, __dirname, __tpm_meta, __tpm_require, __tpm_exports) {"

// compile turns a module's source into its wrapper function.
func (r *runner) compile(display, src string) (goja.Callable, error) {
	res, err := transformESM(src)
	if err != nil {
		var ee *esmError
		if errors.As(err, &ee) {
			line, col := position([]byte(src), ee.offset)
			return nil, &compileError{display, line, col, ee.msg}
		}
		return nil, err
	}
	body := res.src
	if strings.HasPrefix(body, "#!") {
		body = "//" + body[2:]
	}
	head, tail := wrapHead, "\n})"
	if res.isModule {
		head, tail = wrapHead+`"use strict";{`+res.prologue, "\n}})"
	}
	code := head + body + tail
	ast, err := parser.ParseFile(nil, display, code, 0, parser.WithDisableSourceMaps)
	if err != nil {
		var list parser.ErrorList
		if errors.As(err, &list) && len(list) > 0 {
			p := list[0].Position
			col := p.Column
			if p.Line == 1 {
				col = max(col-len(head), 1)
			}
			return nil, &compileError{display, p.Line, col, "SyntaxError: " + list[0].Message}
		}
		return nil, &compileError{display, 0, 0, "SyntaxError: " + err.Error()}
	}
	prg, err := goja.CompileAST(ast, false)
	if err != nil {
		var se *goja.CompilerSyntaxError
		if errors.As(err, &se) && se.File != nil {
			p := se.File.Position(se.Offset)
			col := p.Column
			if p.Line == 1 {
				col = max(col-len(head), 1)
			}
			return nil, &compileError{display, p.Line, col, "SyntaxError: " + se.Message}
		}
		return nil, &compileError{display, 1, 0, err.Error()}
	}
	v, err := r.vm.RunProgram(prg)
	if err != nil {
		return nil, err
	}
	fn, ok := goja.AssertFunction(v)
	if !ok {
		return nil, &compileError{display, 1, 0, "SyntaxError: the module did not compile to a function"}
	}
	return fn, nil
}

// nodeBuiltins are the modules of Node.js, for telling them from npm
// packages in messages.
var nodeBuiltins = []string{
	"assert", "async_hooks", "buffer", "child_process", "cluster", "console",
	"constants", "crypto", "dgram", "diagnostics_channel", "dns", "domain",
	"events", "fs/promises", "http", "http2", "https", "inspector", "module",
	"net", "os", "path", "perf_hooks", "process", "punycode", "querystring",
	"readline", "repl", "stream", "string_decoder", "sys", "test", "timers",
	"tls", "trace_events", "tty", "url", "util", "v8", "vm", "wasi",
	"worker_threads", "zlib",
}

// requireFunc makes the require of a module in dir.
func (r *runner) requireFunc(dir string) *goja.Object {
	vm := r.vm
	req := vm.ToValue(func(call goja.FunctionCall) goja.Value {
		name, ok := call.Argument(0).Export().(string)
		if !ok {
			panic(vm.NewTypeError(`The "id" argument must be of type string`))
		}
		return r.require(dir, name)
	}).ToObject(vm)
	req.Set("resolve", func(call goja.FunctionCall) goja.Value {
		name := call.Argument(0).String()
		if p, ok := r.resolveFile(dir, name); ok {
			return vm.ToValue(p)
		}
		if _, ok := r.native(name); ok {
			return vm.ToValue(name)
		}
		panic(r.nodeError("MODULE_NOT_FOUND", fmt.Sprintf("Cannot find module '%s'", name)))
	})
	return req
}

func isRelative(name string) bool {
	return name == "." || name == ".." || strings.HasPrefix(name, "./") || strings.HasPrefix(name, "../") || strings.HasPrefix(name, "/")
}

func (r *runner) require(dir, name string) goja.Value {
	if v, ok := r.native(name); ok {
		return v
	}
	if strings.HasPrefix(name, "file://") {
		if p, err := fileURLPath(name); err == nil {
			name = p
		}
	}
	if !isRelative(name) {
		bare := strings.TrimPrefix(name, "node:")
		err := &moduleError{name: name, builtin: strings.HasPrefix(name, "node:") || slices.Contains(nodeBuiltins, bare)}
		o := r.vm.NewGoError(err)
		o.Set("code", "MODULE_NOT_FOUND")
		panic(o)
	}
	p, ok := r.resolveFile(dir, name)
	if !ok {
		panic(r.nodeError("MODULE_NOT_FOUND", fmt.Sprintf("Cannot find module '%s' from %s", name, r.displayName(dir))))
	}
	if m, ok := r.cache[p]; ok {
		return m.Get("exports")
	}
	data, err := r.readFile(p)
	if err != nil {
		panic(r.fsError(err, "open", p))
	}
	display := r.displayName(p)
	if strings.EqualFold(filepath.Ext(p), ".json") {
		tree, err := parseJSON(display, data)
		if err != nil {
			ce := &compileError{file: display, msg: err.Error()}
			if errors.As(err, &ce) {
				ce.msg = "SyntaxError: " + ce.msg
			}
			panic(r.vm.NewGoError(ce))
		}
		module := r.vm.NewObject()
		module.Set("exports", r.toJS(tree))
		r.cache[p] = module
		return module.Get("exports")
	}
	module, err := r.run(p, display, string(bytes.TrimPrefix(data, []byte("\ufeff"))))
	if err != nil {
		var ce *compileError
		if errors.As(err, &ce) {
			panic(r.vm.NewGoError(ce))
		}
		var ex *goja.Exception
		var ie *goja.InterruptedError
		var so *goja.StackOverflowError
		switch {
		case errors.As(err, &ie):
			panic(ie)
		case errors.As(err, &so):
			panic(so)
		case errors.As(err, &ex):
			panic(ex)
		}
		panic(r.vm.NewGoError(err))
	}
	return module.Get("exports")
}

// resolveFile finds the file a relative require names, as Node does for
// files: the name, then with .js, .cjs, .mjs and .json, then a folder's
// index.js or index.json.
func (r *runner) resolveFile(dir, name string) (string, bool) {
	if !isRelative(name) {
		return "", false
	}
	base := name
	if !filepath.IsAbs(base) {
		base = filepath.Join(dir, base)
	}
	for _, c := range []string{base, base + ".js", base + ".cjs", base + ".mjs", base + ".json",
		filepath.Join(base, "index.js"), filepath.Join(base, "index.cjs"), filepath.Join(base, "index.json")} {
		if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() {
			return c, true
		}
	}
	return "", false
}

// displayName names a file in messages: by its path from the config's
// folder, joined to the config's path as the caller wrote it.
func (r *runner) displayName(p string) string {
	if p == r.abs {
		return r.display
	}
	rel, err := filepath.Rel(filepath.Dir(r.abs), p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return p
	}
	return filepath.Join(filepath.Dir(r.display), rel)
}

// toJS makes JavaScript values of a tree (a required .json file).
func (r *runner) toJS(v any) goja.Value {
	switch v := v.(type) {
	case *object:
		o := r.vm.NewObject()
		for _, k := range v.keys {
			o.Set(k, r.toJS(v.vals[k]))
		}
		return o
	case []any:
		items := make([]any, len(v))
		for i, x := range v {
			items[i] = r.toJS(x)
		}
		return r.vm.NewArray(items...)
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return r.vm.ToValue(i)
		}
		f, _ := v.Float64()
		return r.vm.ToValue(f)
	case string, bool:
		return r.vm.ToValue(v)
	}
	return goja.Null()
}
