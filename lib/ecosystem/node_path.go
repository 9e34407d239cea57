package ecosystem

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/dop251/goja"
)

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
