package ecosystem

import (
	"os"
	"os/user"
	"runtime"
	"strings"

	"github.com/dop251/goja"
	"golang.org/x/sys/unix"
)

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
