package ecosystem

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/dop251/goja"
	"golang.org/x/sys/unix"
)

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
