package ecosystem

// The little of Node.js that ecosystem files use: process, and the modules
// path, os, fs (reads only), url and dotenv. Each behaves as its Node.js
// namesake for the calls configs make; a call that would change the
// machine (fs.writeFileSync, process.chdir) throws instead, because
// loading a config must not touch anything.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/dop251/goja"
	"golang.org/x/sys/unix"

	"github.com/tetra-toolkit/tpm/lib/spec"
)

// nodeVersion is the Node.js that process.version claims to be: one whose
// features configs may test for.
const nodeVersion = "20.0.0"

func (r *runner) nodeError(code, msg string) *goja.Object {
	o, err := r.vm.New(r.vm.Get("Error"), r.vm.ToValue(msg))
	if err != nil {
		return r.vm.NewGoError(errors.New(msg))
	}
	o.Set("code", code)
	return o
}

func (r *runner) typeError(format string, args ...any) *goja.Object {
	o := r.vm.NewTypeError(fmt.Sprintf(format, args...))
	o.Set("code", "ERR_INVALID_ARG_TYPE")
	return o
}

// fsError makes the error Node.js throws for a failed system call:
// "ENOENT: no such file or directory, open '/x'" with code, errno,
// syscall and path.
func (r *runner) fsError(err error, call, p string) *goja.Object {
	code, desc, errno := "EIO", err.Error(), 0
	var en syscall.Errno
	if errors.As(err, &en) {
		code, desc, errno = unix.ErrnoName(en), en.Error(), int(en)
	}
	o := r.nodeError(code, fmt.Sprintf("%s: %s, %s '%s'", code, desc, call, p))
	o.Set("errno", -errno)
	o.Set("syscall", call)
	o.Set("path", p)
	return o
}

// readFile reads a file for the config: a regular file only (a FIFO or
// /dev/zero would block the evaluation where no interrupt reaches, and
// opening a FIFO blocks already, hence O_NONBLOCK), and no more of it than
// the memory bound allows.
func (r *runner) readFile(p string) ([]byte, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, syscall.EISDIR
	}
	if !fi.Mode().IsRegular() {
		return nil, syscall.EINVAL
	}
	data, err := io.ReadAll(io.LimitReader(f, r.opt.MemoryLimit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > r.opt.MemoryLimit {
		return nil, syscall.EFBIG
	}
	return data, nil
}

// native returns a module tpm provides in place of Node.js's.
func (r *runner) native(name string) (goja.Value, bool) {
	key := strings.TrimPrefix(name, "node:")
	if key == "dotenv" || key == "dotenv/config" {
		if key != name {
			return nil, false
		}
	}
	if v, ok := r.natives[key]; ok {
		return v, true
	}
	var v goja.Value
	switch key {
	case "path", "path/posix":
		v = r.pathModule()
	case "os":
		v = r.osModule()
	case "fs":
		v = r.fsModule()
	case "url":
		v = r.urlModule()
	case "process":
		v = r.process
	case "module":
		v = r.moduleModule()
	case "dotenv":
		v = r.dotenvModule()
	case "dotenv/config":
		// As the real one: load .env (or DOTENV_CONFIG_PATH) on require.
		opts := r.vm.NewObject()
		if p := r.envObj.Get("DOTENV_CONFIG_PATH"); p != nil && !goja.IsUndefined(p) {
			opts.Set("path", p)
		}
		if o := r.envObj.Get("DOTENV_CONFIG_OVERRIDE"); o != nil && o.String() == "true" {
			opts.Set("override", true)
		}
		r.dotenvConfig(opts)
		v = r.vm.NewObject()
	default:
		return nil, false
	}
	r.natives[key] = v
	return v, true
}

func (r *runner) cwd() string { return r.opt.Cwd }

func (r *runner) env(name string) string {
	if v := r.envObj.Get(name); v != nil && !goja.IsUndefined(v) {
		return v.String()
	}
	return ""
}

func (r *runner) processObject() *goja.Object {
	vm := r.vm
	p := vm.NewObject()
	p.Set("env", r.helpers.Get("env"))
	p.Set("cwd", r.cwd)
	execPath := ""
	if node, err := spec.LookPath("node", r.env("PATH")); err == nil {
		execPath = node
	}
	p.Set("execPath", execPath)
	p.Set("platform", runtime.GOOS)
	p.Set("arch", nodeArch())
	p.Set("argv", vm.NewArray("node", r.abs))
	p.Set("argv0", "node")
	p.Set("execArgv", vm.NewArray())
	p.Set("title", "node")
	p.Set("pid", os.Getpid())
	p.Set("ppid", os.Getppid())
	p.Set("version", "v"+nodeVersion)
	versions := vm.NewObject()
	versions.Set("node", nodeVersion)
	p.Set("versions", versions)
	release := vm.NewObject()
	release.Set("name", "node")
	p.Set("release", release)
	p.Set("getuid", os.Getuid)
	p.Set("geteuid", os.Geteuid)
	p.Set("getgid", os.Getgid)
	p.Set("getegid", os.Getegid)
	p.Set("umask", func() int { return 0o022 })
	p.Set("uptime", func() float64 { return time.Since(started).Seconds() })
	p.Set("hrtime", func() goja.Value {
		n := time.Now().UnixNano()
		return vm.NewArray(n/1e9, n%1e9)
	})
	p.Set("memoryUsage", func() goja.Value {
		o := vm.NewObject()
		for _, k := range []string{"rss", "heapTotal", "heapUsed", "external"} {
			o.Set(k, 0)
		}
		return o
	})
	p.Set("exit", func(call goja.FunctionCall) goja.Value {
		code := call.Argument(0)
		if goja.IsUndefined(code) {
			panic(r.nodeError("ERR_PROCESS_EXIT", "the config called process.exit()"))
		}
		panic(r.nodeError("ERR_PROCESS_EXIT", fmt.Sprintf("the config called process.exit(%s)", code.String())))
	})
	p.Set("chdir", func(string) {
		panic(r.nodeError("ERR_NOT_AVAILABLE", "process.chdir is not available: tpm evaluates ecosystem files without side effects"))
	})
	noop := func(goja.FunctionCall) goja.Value { return p }
	for _, k := range []string{"on", "once", "off", "addListener", "removeListener", "removeAllListeners", "emitWarning", "nextTick"} {
		p.Set(k, noop)
	}
	write := vm.NewObject()
	write.Set("write", func(s string) bool {
		if r.opt.Console != nil {
			io.WriteString(r.opt.Console, s)
		}
		return true
	})
	write.Set("isTTY", false)
	p.Set("stdout", write)
	p.Set("stderr", write)
	return p
}

var started = time.Now()

func nodeArch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x64"
	case "386":
		return "ia32"
	}
	return runtime.GOARCH
}

// arg reads argument i as a string, or throws the TypeError Node.js does.
func (r *runner) arg(call goja.FunctionCall, i int, what string) string {
	v := call.Argument(i)
	s, ok := v.Export().(string)
	if !ok {
		panic(r.typeError("The %q argument must be of type string. Received %s", what, describeArg(v)))
	}
	return s
}

func describeArg(v goja.Value) string {
	switch {
	case goja.IsUndefined(v):
		return "undefined"
	case goja.IsNull(v):
		return "null"
	}
	return fmt.Sprintf("type %s (%s)", jsType(v), v.String())
}

func jsType(v goja.Value) string {
	switch v.Export().(type) {
	case int64, float64:
		return "number"
	case bool:
		return "boolean"
	}
	if _, ok := goja.AssertFunction(v); ok {
		return "function"
	}
	return "object"
}

// path
