package ecosystem

// The little of Node.js that ecosystem files use: process, and the modules
// path, os, fs (reads only), url and dotenv. Each behaves as its Node.js
// namesake for the calls configs make; a call that would change the
// machine (fs.writeFileSync, process.chdir) throws instead, because
// loading a config must not touch anything.

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/user"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/dop251/goja"
	"golang.org/x/sys/unix"

	"github.com/tetra-toolkit/tpm/lib/envfile"
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

func (r *runner) pathModule() *goja.Object {
	vm := r.vm
	m := vm.NewObject()
	strs := func(call goja.FunctionCall) []string {
		out := make([]string, len(call.Arguments))
		for i := range call.Arguments {
			out[i] = r.arg(call, i, "paths["+fmt.Sprint(i)+"]")
		}
		return out
	}
	m.Set("sep", "/")
	m.Set("delimiter", ":")
	m.Set("join", func(call goja.FunctionCall) goja.Value { return vm.ToValue(pathJoin(strs(call)...)) })
	m.Set("resolve", func(call goja.FunctionCall) goja.Value {
		return vm.ToValue(pathResolve(r.cwd(), strs(call)...))
	})
	m.Set("normalize", func(call goja.FunctionCall) goja.Value { return vm.ToValue(pathNormalize(r.arg(call, 0, "path"))) })
	m.Set("isAbsolute", func(call goja.FunctionCall) goja.Value {
		return vm.ToValue(strings.HasPrefix(r.arg(call, 0, "path"), "/"))
	})
	m.Set("dirname", func(call goja.FunctionCall) goja.Value { return vm.ToValue(pathDirname(r.arg(call, 0, "path"))) })
	m.Set("basename", func(call goja.FunctionCall) goja.Value {
		ext := ""
		if !goja.IsUndefined(call.Argument(1)) {
			ext = r.arg(call, 1, "ext")
		}
		return vm.ToValue(pathBasename(r.arg(call, 0, "path"), ext))
	})
	m.Set("extname", func(call goja.FunctionCall) goja.Value { return vm.ToValue(pathExtname(r.arg(call, 0, "path"))) })
	m.Set("relative", func(call goja.FunctionCall) goja.Value {
		return vm.ToValue(pathRelative(r.cwd(), r.arg(call, 0, "from"), r.arg(call, 1, "to")))
	})
	m.Set("toNamespacedPath", func(call goja.FunctionCall) goja.Value { return call.Argument(0) })
	m.Set("parse", func(call goja.FunctionCall) goja.Value {
		p := pathParse(r.arg(call, 0, "path"))
		o := vm.NewObject()
		for _, k := range []string{"root", "dir", "base", "ext", "name"} {
			o.Set(k, p[k])
		}
		return o
	})
	m.Set("format", func(call goja.FunctionCall) goja.Value {
		o, ok := call.Argument(0).(*goja.Object)
		if !ok {
			panic(r.typeError(`The "pathObject" argument must be of type object. Received %s`, describeArg(call.Argument(0))))
		}
		get := func(k string) string {
			v := o.Get(k)
			if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
				return ""
			}
			return v.String()
		}
		return vm.ToValue(pathFormat(get("root"), get("dir"), get("base"), get("name"), get("ext")))
	})
	m.Set("posix", m)
	return m
}

func pathNormalize(p string) string {
	if p == "" {
		return "."
	}
	trailing := strings.HasSuffix(p, "/")
	c := path.Clean(p)
	if trailing && c != "/" {
		c += "/"
	}
	return c
}

func pathJoin(parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p != "" {
			keep = append(keep, p)
		}
	}
	if len(keep) == 0 {
		return "."
	}
	return pathNormalize(strings.Join(keep, "/"))
}

func pathResolve(cwd string, parts ...string) string {
	resolved := ""
	for i := len(parts) - 1; i >= 0; i-- {
		if parts[i] == "" {
			continue
		}
		resolved = parts[i] + "/" + resolved
		if strings.HasPrefix(parts[i], "/") {
			return path.Clean(resolved)
		}
	}
	return path.Clean(cwd + "/" + resolved)
}

func trimSlashes(p string) string {
	for len(p) > 1 && strings.HasSuffix(p, "/") {
		p = p[:len(p)-1]
	}
	return p
}

// pathDirname is Node's: it drops the last name and the one slash before
// it, so that dirname("a//b") is "a/" there too.
func pathDirname(p string) string {
	if p == "" {
		return "."
	}
	root := p[0] == '/'
	end, matched := -1, true
	for i := len(p) - 1; i >= 1; i-- {
		if p[i] == '/' {
			if !matched {
				end = i
				break
			}
		} else {
			matched = false
		}
	}
	switch {
	case end == -1 && root:
		return "/"
	case end == -1:
		return "."
	case root && end == 1:
		return "//"
	}
	return p[:end]
}

func pathBasename(p, ext string) string {
	p = trimSlashes(p)
	if p == "/" {
		return ""
	}
	b := p[strings.LastIndexByte(p, '/')+1:]
	if ext != "" && strings.HasSuffix(b, ext) {
		b = b[:len(b)-len(ext)]
	}
	return b
}

func pathExtname(p string) string {
	b := pathBasename(p, "")
	i := strings.LastIndexByte(b, '.')
	if i <= 0 || b == ".." {
		return ""
	}
	return b[i:]
}

func pathRelative(cwd, from, to string) string {
	f, t := pathResolve(cwd, from), pathResolve(cwd, to)
	if f == t {
		return ""
	}
	rel, err := filepath.Rel(f, t)
	if err != nil {
		return t
	}
	return rel
}

func pathParse(p string) map[string]string {
	out := map[string]string{"root": "", "dir": "", "base": "", "ext": "", "name": ""}
	if p == "" {
		return out
	}
	if strings.HasPrefix(p, "/") {
		out["root"] = "/"
	}
	t := trimSlashes(p)
	if t == "/" {
		out["dir"] = "/"
		return out
	}
	out["base"] = pathBasename(p, "")
	out["ext"] = pathExtname(p)
	out["name"] = strings.TrimSuffix(out["base"], out["ext"])
	if strings.Contains(t, "/") {
		out["dir"] = pathDirname(p)
	}
	return out
}

func pathFormat(root, dir, base, name, ext string) string {
	if dir == "" {
		dir = root
	}
	if base == "" {
		if ext != "" && !strings.HasPrefix(ext, ".") {
			ext = "." + ext
		}
		base = name + ext
	}
	switch {
	case dir == "":
		return base
	case dir == root:
		return dir + base
	}
	return dir + "/" + base
}

// os

func (r *runner) osModule() *goja.Object {
	vm := r.vm
	m := vm.NewObject()
	m.Set("EOL", "\n")
	m.Set("devNull", "/dev/null")
	m.Set("cpus", func() goja.Value {
		cpus := make([]any, runtime.NumCPU())
		for i := range cpus {
			c := vm.NewObject()
			c.Set("model", "cpu")
			c.Set("speed", 0)
			t := vm.NewObject()
			for _, k := range []string{"user", "nice", "sys", "idle", "irq"} {
				t.Set(k, 0)
			}
			c.Set("times", t)
			cpus[i] = c
		}
		return vm.NewArray(cpus...)
	})
	m.Set("availableParallelism", runtime.NumCPU)
	m.Set("hostname", func() string {
		h, _ := os.Hostname()
		return h
	})
	m.Set("homedir", r.homedir)
	m.Set("tmpdir", func() string {
		for _, k := range []string{"TMPDIR", "TMP", "TEMP"} {
			if v := r.env(k); v != "" {
				return trimSlashes(v)
			}
		}
		return "/tmp"
	})
	m.Set("platform", func() string { return runtime.GOOS })
	m.Set("type", func() string {
		if runtime.GOOS == "darwin" {
			return "Darwin"
		}
		return strings.ToUpper(runtime.GOOS[:1]) + runtime.GOOS[1:]
	})
	m.Set("arch", nodeArch)
	m.Set("machine", func() string { return unameField(func(u *unix.Utsname) []byte { return u.Machine[:] }) })
	m.Set("release", func() string { return unameField(func(u *unix.Utsname) []byte { return u.Release[:] }) })
	m.Set("endianness", func() string { return "LE" })
	m.Set("totalmem", func() int64 { t, _ := memory(); return t })
	m.Set("freemem", func() int64 { _, f := memory(); return f })
	m.Set("loadavg", func() goja.Value { return vm.NewArray(0, 0, 0) })
	m.Set("uptime", func() float64 { return 0 })
	m.Set("networkInterfaces", func() goja.Value { return vm.NewObject() })
	m.Set("userInfo", func() goja.Value {
		o := vm.NewObject()
		o.Set("uid", os.Getuid())
		o.Set("gid", os.Getgid())
		name, home := r.env("USER"), r.homedir()
		if u, err := user.Current(); err == nil {
			name, home = u.Username, u.HomeDir
		}
		o.Set("username", name)
		o.Set("homedir", home)
		if sh := r.env("SHELL"); sh != "" {
			o.Set("shell", sh)
		} else {
			o.Set("shell", goja.Null())
		}
		return o
	})
	return m
}

// homedir is HOME of the config's environment, as for Node.js.
func (r *runner) homedir() string {
	if h := r.env("HOME"); h != "" {
		return h
	}
	if u, err := user.Current(); err == nil {
		return u.HomeDir
	}
	return ""
}

func unameField(f func(*unix.Utsname) []byte) string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return ""
	}
	b := f(&u)
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// fs

func (r *runner) fsModule() *goja.Object {
	vm := r.vm
	m := vm.NewObject()
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return filepath.Clean(p)
		}
		return filepath.Join(r.cwd(), p)
	}
	pathArg := func(call goja.FunctionCall) string {
		if o, ok := call.Argument(0).(*goja.Object); ok {
			if href := o.Get("href"); href != nil && !goja.IsUndefined(href) {
				p, err := fileURLPath(href.String())
				if err != nil {
					panic(r.typeError("%v", err))
				}
				return p
			}
		}
		return r.arg(call, 0, "path")
	}
	encoding := func(v goja.Value) string {
		if o, ok := v.(*goja.Object); ok {
			v = o.Get("encoding")
		}
		if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
			return ""
		}
		return v.String()
	}
	m.Set("readFileSync", func(call goja.FunctionCall) goja.Value {
		p := pathArg(call)
		data, err := r.readFile(abs(p))
		if err != nil {
			panic(r.fsError(err, "open", p))
		}
		enc := encoding(call.Argument(1))
		if enc == "" {
			buf, _ := goja.AssertFunction(r.helpers.Get("buffer"))
			v, err := buf(goja.Undefined(), vm.ToValue(vm.NewArrayBuffer(data)))
			if err != nil {
				panic(err)
			}
			return v
		}
		s, err := decodeBytes(data, enc)
		if err != nil {
			panic(r.typeError("%v", err))
		}
		return vm.ToValue(s)
	})
	m.Set("existsSync", func(call goja.FunctionCall) goja.Value {
		s, ok := call.Argument(0).Export().(string)
		if !ok {
			return vm.ToValue(false)
		}
		_, err := os.Stat(abs(s))
		return vm.ToValue(err == nil)
	})
	stat := func(call goja.FunctionCall, lstat bool) goja.Value {
		p := pathArg(call)
		var fi fs.FileInfo
		var err error
		if lstat {
			fi, err = os.Lstat(abs(p))
		} else {
			fi, err = os.Stat(abs(p))
		}
		if err != nil {
			if o, ok := call.Argument(1).(*goja.Object); ok {
				if t := o.Get("throwIfNoEntry"); t != nil && !t.ToBoolean() && errors.Is(err, fs.ErrNotExist) {
					return goja.Undefined()
				}
			}
			name := "stat"
			if lstat {
				name = "lstat"
			}
			panic(r.fsError(err, name, p))
		}
		return r.stats(fi)
	}
	m.Set("statSync", func(call goja.FunctionCall) goja.Value { return stat(call, false) })
	m.Set("lstatSync", func(call goja.FunctionCall) goja.Value { return stat(call, true) })
	m.Set("readdirSync", func(call goja.FunctionCall) goja.Value {
		p := pathArg(call)
		// Stat first: opening a FIFO to list it would block.
		fi, err := os.Stat(abs(p))
		if err == nil && !fi.IsDir() {
			err = syscall.ENOTDIR
		}
		var entries []fs.DirEntry
		if err == nil {
			entries, err = os.ReadDir(abs(p))
		}
		if err != nil {
			panic(r.fsError(err, "scandir", p))
		}
		types := false
		if o, ok := call.Argument(1).(*goja.Object); ok {
			if t := o.Get("withFileTypes"); t != nil {
				types = t.ToBoolean()
			}
		}
		out := make([]any, len(entries))
		for i, e := range entries {
			if !types {
				out[i] = e.Name()
				continue
			}
			d := vm.NewObject()
			d.Set("name", e.Name())
			d.Set("parentPath", p)
			d.Set("path", p)
			mode := e.Type()
			d.Set("isFile", func() bool { return mode.IsRegular() })
			d.Set("isDirectory", func() bool { return mode.IsDir() })
			d.Set("isSymbolicLink", func() bool { return mode&fs.ModeSymlink != 0 })
			out[i] = d
		}
		return vm.NewArray(out...)
	})
	m.Set("realpathSync", func(call goja.FunctionCall) goja.Value {
		p := pathArg(call)
		real, err := filepath.EvalSymlinks(abs(p))
		if err != nil {
			panic(r.fsError(err, "realpath", p))
		}
		return vm.ToValue(real)
	})
	m.Set("accessSync", func(call goja.FunctionCall) goja.Value {
		p := pathArg(call)
		mode := uint32(call.Argument(1).ToInteger())
		if err := unix.Access(abs(p), mode); err != nil {
			panic(r.fsError(err, "access", p))
		}
		return goja.Undefined()
	})
	consts := vm.NewObject()
	consts.Set("F_OK", 0)
	consts.Set("R_OK", 4)
	consts.Set("W_OK", 2)
	consts.Set("X_OK", 1)
	m.Set("constants", consts)
	for _, name := range []string{
		"writeFileSync", "appendFileSync", "mkdirSync", "mkdtempSync", "rmSync", "rmdirSync",
		"unlinkSync", "renameSync", "copyFileSync", "cpSync", "symlinkSync", "linkSync",
		"chmodSync", "chownSync", "truncateSync", "utimesSync", "openSync", "writeSync",
		"writeFile", "appendFile", "mkdir", "rm", "unlink", "rename", "copyFile",
	} {
		msg := "fs." + name + " is not available: tpm evaluates ecosystem files without writing files"
		m.Set(name, func(goja.FunctionCall) goja.Value { panic(r.nodeError("ERR_NOT_AVAILABLE", msg)) })
	}
	return m
}

func (r *runner) stats(fi fs.FileInfo) *goja.Object {
	vm := r.vm
	o := vm.NewObject()
	mode := fi.Mode()
	o.Set("isFile", func() bool { return mode.IsRegular() })
	o.Set("isDirectory", func() bool { return mode.IsDir() })
	o.Set("isSymbolicLink", func() bool { return mode&fs.ModeSymlink != 0 })
	o.Set("isFIFO", func() bool { return mode&fs.ModeNamedPipe != 0 })
	o.Set("isSocket", func() bool { return mode&fs.ModeSocket != 0 })
	o.Set("size", fi.Size())
	o.Set("mode", unixMode(mode))
	ms := float64(fi.ModTime().UnixNano()) / 1e6
	o.Set("mtimeMs", ms)
	if d, err := vm.New(vm.Get("Date"), vm.ToValue(ms)); err == nil {
		o.Set("mtime", d)
	}
	return o
}

func unixMode(m fs.FileMode) uint32 {
	bits := uint32(m.Perm())
	switch {
	case m.IsDir():
		bits |= unix.S_IFDIR
	case m&fs.ModeSymlink != 0:
		bits |= unix.S_IFLNK
	case m.IsRegular():
		bits |= unix.S_IFREG
	}
	return bits
}

// decode is toString of the Buffer stand-in.
func (r *runner) decode(call goja.FunctionCall) goja.Value {
	ab, ok := call.Argument(0).Export().(goja.ArrayBuffer)
	if !ok {
		return r.vm.ToValue("")
	}
	enc := ""
	if v := call.Argument(1); !goja.IsUndefined(v) && !goja.IsNull(v) {
		enc = v.String()
	}
	s, err := decodeBytes(ab.Bytes(), enc)
	if err != nil {
		panic(r.typeError("%v", err))
	}
	return r.vm.ToValue(s)
}

// encode is Buffer.from(string, encoding).
func (r *runner) encode(call goja.FunctionCall) goja.Value {
	s := call.Argument(0).String()
	enc := ""
	if v := call.Argument(1); !goja.IsUndefined(v) && !goja.IsNull(v) {
		enc = v.String()
	}
	var data []byte
	var err error
	switch strings.ToLower(enc) {
	case "", "utf8", "utf-8":
		data = []byte(s)
	case "latin1", "binary", "ascii":
		for _, c := range s {
			data = append(data, byte(c))
		}
	case "base64":
		data, err = base64.StdEncoding.DecodeString(strings.TrimRight(s, "=") + strings.Repeat("=", (4-len(strings.TrimRight(s, "="))%4)%4))
	case "base64url":
		data, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	case "hex":
		data, err = hex.DecodeString(s)
	default:
		err = fmt.Errorf("unknown encoding: %s", enc)
	}
	if err != nil {
		panic(r.typeError("%v", err))
	}
	return r.vm.ToValue(r.vm.NewArrayBuffer(data))
}

func decodeBytes(data []byte, enc string) (string, error) {
	switch strings.ToLower(enc) {
	case "", "utf8", "utf-8":
		return string(data), nil
	case "latin1", "binary":
		rs := make([]rune, len(data))
		for i, b := range data {
			rs[i] = rune(b)
		}
		return string(rs), nil
	case "ascii":
		b := make([]byte, len(data))
		for i, c := range data {
			b[i] = c & 0x7f
		}
		return string(b), nil
	case "base64":
		return base64.StdEncoding.EncodeToString(data), nil
	case "base64url":
		return base64.RawURLEncoding.EncodeToString(data), nil
	case "hex":
		return hex.EncodeToString(data), nil
	}
	return "", fmt.Errorf("unknown encoding: %s", enc)
}

// url

func fileURL(p string) string {
	return (&url.URL{Scheme: "file", Path: p}).String()
}

// fileURLPath is url.fileURLToPath.
func fileURLPath(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("invalid URL: %s", s)
	}
	if u.Scheme != "file" {
		return "", errors.New("the URL must be of scheme file")
	}
	if u.Host != "" && u.Host != "localhost" {
		return "", fmt.Errorf("file URL host must be \"localhost\" or empty on %s", runtime.GOOS)
	}
	return u.Path, nil
}

func (r *runner) parseURL(call goja.FunctionCall) goja.Value {
	vm := r.vm
	input := call.Argument(0).String()
	u, err := url.Parse(input)
	if b := call.Argument(1); !goja.IsUndefined(b) {
		base, berr := url.Parse(b.String())
		if berr != nil || !base.IsAbs() {
			panic(r.typeError("Invalid URL"))
		}
		if err == nil {
			u = base.ResolveReference(u)
		}
	}
	if err != nil || !u.IsAbs() {
		o := vm.NewTypeError("Invalid URL")
		o.Set("code", "ERR_INVALID_URL")
		o.Set("input", input)
		panic(o)
	}
	if u.Scheme == "file" && u.Path == "" {
		u.Path = "/"
	}
	o := vm.NewObject()
	o.Set("href", u.String())
	o.Set("protocol", u.Scheme+":")
	o.Set("username", u.User.Username())
	pw, _ := u.User.Password()
	o.Set("password", pw)
	o.Set("host", u.Host)
	o.Set("hostname", u.Hostname())
	o.Set("port", u.Port())
	o.Set("pathname", u.EscapedPath())
	search := ""
	if u.RawQuery != "" {
		search = "?" + u.RawQuery
	}
	o.Set("search", search)
	hash := ""
	if u.Fragment != "" {
		hash = "#" + u.EscapedFragment()
	}
	o.Set("hash", hash)
	origin := "null"
	if u.Scheme == "http" || u.Scheme == "https" {
		origin = u.Scheme + "://" + u.Host
	}
	o.Set("origin", origin)
	return o
}

func (r *runner) urlModule() *goja.Object {
	vm := r.vm
	m := vm.NewObject()
	ctor := r.helpers.Get("URL")
	m.Set("URL", ctor)
	m.Set("fileURLToPath", func(call goja.FunctionCall) goja.Value {
		v := call.Argument(0)
		s := v.String()
		if o, ok := v.(*goja.Object); ok {
			if href := o.Get("href"); href != nil && !goja.IsUndefined(href) {
				s = href.String()
			}
		}
		p, err := fileURLPath(s)
		if err != nil {
			panic(r.typeError("%v", err))
		}
		return vm.ToValue(p)
	})
	m.Set("pathToFileURL", func(call goja.FunctionCall) goja.Value {
		p := r.arg(call, 0, "path")
		full := pathResolve(r.cwd(), p)
		if strings.HasSuffix(p, "/") && full != "/" {
			full += "/"
		}
		u, err := vm.New(ctor, vm.ToValue(fileURL(full)))
		if err != nil {
			panic(err)
		}
		return u
	})
	return m
}

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
