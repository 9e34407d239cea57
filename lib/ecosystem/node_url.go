package ecosystem

import (
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"

	"github.com/dop251/goja"
)

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
