package supervise

import (
	"os"
	"runtime/debug"
	"sync"
)

// version is set at build time (-ldflags -X ...supervise.version=V); when
// it is not, the version comes from the build's VCS stamp.
var version string

// Version names the build of this binary: what tpm-ls --json shows as a
// supervisor's sup_version, so that supervisors older than the installed
// binary can be found and upgraded (tpm-upgrade).
var Version = sync.OnceValue(func() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return devel()
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return v
		}
		return devel()
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
})

// devel names a build without a version or VCS stamp (-buildvcs=false, a
// test binary) by when its file was written, so that a rebuilt binary is
// still told from the one a running supervisor started with.
func devel() string {
	if exe, err := os.Executable(); err == nil {
		if fi, err := os.Stat(exe); err == nil {
			return "devel-" + fi.ModTime().UTC().Format("20060102T150405")
		}
	}
	return "devel"
}
