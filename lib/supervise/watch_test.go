package supervise

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/tetra-toolkit/tpm/lib/events"
	"github.com/tetra-toolkit/tpm/lib/spec"
)

func TestGlobMatch(t *testing.T) {
	for _, c := range []struct {
		glob, name string
		want       bool
	}{
		{"*.log", "app.log", true},
		{"*.log", "logs/app.log", false}, // * stays within a name: the name itself is matched apart
		{".*", ".env", true},
		{".*", "a/.env", false},
		{"node_modules", "node_modules", true},
		{"node_modules", "src/node_modules", false},
		{"build/*", "build/x.js", true},
		{"build/*", "build/sub/x.js", false},
		{"**/*.log", "a.log", true},
		{"**/*.log", "a/b/c.log", true},
		{"logs/**", "logs", true},
		{"logs/**", "logs/a/b", true},
		{"src/**/gen", "src/gen", true},
		{"src/**/gen", "src/a/b/gen", true},
		{"src/**/gen", "src/a/b/gen/x", false},
		{"[", "[", false}, // a bad glob matches nothing
		{"te?t", "test", true},
	} {
		if got := globMatch(c.glob, c.name); got != c.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", c.glob, c.name, got, c.want)
		}
	}
}

func TestCleanGlob(t *testing.T) {
	for in, want := range map[string]string{"./logs/": "logs", "*.log": "*.log", ".": "", " tmp ": "tmp", "././a": "a"} {
		if got := cleanGlob(in); got != want {
			t.Errorf("cleanGlob(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIgnored(t *testing.T) {
	c := watchConfig{cwd: "/app", ignore: append(slices.Clone(spec.DefaultWatchIgnore), "*.log", "src/gen", "public/**")}
	for _, x := range []struct {
		root, p string
		want    bool
	}{
		{"/app", "/app/server.js", false},
		{"/app", "/app/.env", true},                    // a dot-file
		{"/app", "/app/src/.cache", true},              // a dot-folder, at any depth (its name)
		{"/app", "/app/.git", true},                    // version control
		{"/app", "/app/lib/node_modules", true},        // packages, at any depth
		{"/app", "/app/out/app.log", true},             // the name matches *.log
		{"/app", "/app/src/gen", true},                 // from the watched folder
		{"/app/src", "/app/src/gen", true},             // from the program's folder, another root
		{"/app/src", "/app/src/main.go", false},        // nothing matches
		{"/app", "/app/public/img/a.png", true},        // ** across folders
		{"/app", "/app/publicity.txt", false},          // public/** is not a prefix match
		{"/shared", "/shared/src/gen", true},           // from the watched folder, outside the program's
		{"/shared", "/shared/lib/src/gen", false},      // neither from the folder nor from ../
		{"/shared", "/shared/gen.log", true},           // the name still counts
		{"/app/.config", "/app/.config/x.json", false}, // under a dot-folder watched on purpose
	} {
		if got := c.ignored(x.root, x.p); got != x.want {
			t.Errorf("ignored(%q, %q) = %v, want %v", x.root, x.p, got, x.want)
		}
	}
}

// fakeNotifier records watches; fail says which adds fail.
type fakeNotifier struct {
	watched map[string]bool
	fail    func(string) error
}

func (f *fakeNotifier) Add(p string) error {
	if f.fail != nil {
		if err := f.fail(p); err != nil {
			return err
		}
	}
	f.watched[p] = true
	return nil
}

func (f *fakeNotifier) Remove(p string) error { delete(f.watched, p); return nil }
func (f *fakeNotifier) Close() error          { return nil }

func (f *fakeNotifier) list(base string) []string {
	var out []string
	for p := range f.watched {
		r, _ := filepath.Rel(base, p)
		out = append(out, filepath.ToSlash(r))
	}
	sort.Strings(out)
	return out
}

// mkTree makes folders (names ending in /) and files under dir.
func mkTree(t *testing.T, dir string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		full := filepath.Join(dir, p)
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func testConfig(t *testing.T, cwd, tree string, roots ...string) watchConfig {
	t.Helper()
	c := watchConfig{cwd: cwd, tree: tree}
	for _, r := range roots {
		c.roots = append(c.roots, filepath.Join(cwd, r))
	}
	c.ignore = append(c.ignore, spec.DefaultWatchIgnore...)
	for _, p := range []string{tree, filepath.Join(tree, "logs")} {
		if fi, err := os.Stat(p); err == nil {
			c.own = append(c.own, fi)
		}
	}
	return c
}

func TestWatchSetsUpTheTree(t *testing.T) {
	dir := t.TempDir()
	mkTree(t, dir, "a/b/c/", "a/x.js", "node_modules/p/q/", ".git/objects/", ".cache/", "tetra/tpm/logs/", "tetra/other/", "d/.hidden/z/", "logs.d/")
	os.Symlink(filepath.Join(dir, "a"), filepath.Join(dir, "link"))
	n := &fakeNotifier{watched: map[string]bool{}}
	var said []string
	newFileWatch(testConfig(t, dir, filepath.Join(dir, "tetra/tpm"), "."), func(m string) { said = append(said, m) }, n)
	want := []string{".", "a", "a/b", "a/b/c", "d", "logs.d", "tetra", "tetra/other"}
	if got := n.list(dir); !slices.Equal(got, want) {
		t.Errorf("watched %q, want %q", got, want)
	}
	if len(said) != 0 {
		t.Errorf("said %q", said)
	}
}

func TestWatchNamedFileAndMissingRoot(t *testing.T) {
	dir := t.TempDir()
	mkTree(t, dir, "conf/app.json", "conf/sub/", ".env")
	n := &fakeNotifier{watched: map[string]bool{}}
	var said []string
	fw := newFileWatch(testConfig(t, dir, filepath.Join(dir, "tetra/tpm"), "conf/app.json", ".env", "dist"), func(m string) { said = append(said, m) }, n)
	if got, want := n.list(dir), []string{".", "conf"}; !slices.Equal(got, want) {
		t.Errorf("watched %q, want %q", got, want)
	}
	if len(said) != 1 || said[0] != "cannot watch dist: no such file or directory" {
		t.Errorf("said %q", said)
	}
	verdicts := make(chan verdict, 4)
	fw.arm(7, 0, func(string) {}, func(v verdict) { verdicts <- v })
	fw.mu.Lock()
	fw.handle(filepath.Join(dir, "conf/other.json"), fsnotify.Write) // a neighbour: not watched
	fw.handle(filepath.Join(dir, ".env"), fsnotify.Write)            // named: no default rule leaves it out
	fw.mu.Unlock()
	if v := <-verdicts; v.kind != events.Watch || !slices.Equal(v.kv, []string{"path", ".env"}) || v.pid != 7 {
		t.Errorf("verdict %+v", v)
	}
	// dist appears: the next run watches it, without a second word.
	mkTree(t, dir, "dist/js/")
	fw.arm(8, 0, func(m string) { said = append(said, m) }, func(v verdict) { verdicts <- v })
	if got, want := n.list(dir), []string{".", "conf", "dist", "dist/js"}; !slices.Equal(got, want) {
		t.Errorf("watched %q, want %q", got, want)
	}
	if len(said) != 1 {
		t.Errorf("said %q", said)
	}
}

func TestWatchNeverTheTree(t *testing.T) {
	dir := t.TempDir()
	mkTree(t, dir, "tetra/tpm/logs/", "tetra/tpm/processes/", "src/")
	os.Symlink(filepath.Join(dir, "tetra/tpm"), filepath.Join(dir, "state"))
	n := &fakeNotifier{watched: map[string]bool{}}
	var said []string
	newFileWatch(testConfig(t, dir, filepath.Join(dir, "tetra/tpm"), "tetra/tpm/logs", "tetra/tpm/processes", "state", "src"), func(m string) { said = append(said, m) }, n)
	if got, want := n.list(dir), []string{"src"}; !slices.Equal(got, want) {
		t.Errorf("watched %q, want %q", got, want)
	}
	want := []string{
		"cannot watch tetra/tpm/logs: tpm keeps its state there",
		"cannot watch tetra/tpm/processes: tpm keeps its state there",
		"cannot watch state: tpm keeps its state there",
	}
	if !slices.Equal(said, want) {
		t.Errorf("said %q, want %q", said, want)
	}
}

func TestWatchLimitSaidOnce(t *testing.T) {
	dir := t.TempDir()
	mkTree(t, dir, "a/", "b/", "c/x/", "d/")
	n := &fakeNotifier{watched: map[string]bool{}, fail: func(p string) error {
		if b := filepath.Base(p); b == "b" || b == "d" {
			return syscall.ENOSPC
		}
		return nil
	}}
	var said []string
	fw := newFileWatch(testConfig(t, dir, filepath.Join(dir, "tetra/tpm"), "."), func(m string) { said = append(said, m) }, n)
	if got, want := n.list(dir), []string{".", "a", "c", "c/x"}; !slices.Equal(got, want) {
		t.Errorf("watched %q, want %q", got, want)
	}
	if len(said) != 1 || !strings.Contains(said[0], "inotify watch limit reached") || !strings.Contains(said[0], "fs.inotify.max_user_watches") {
		t.Errorf("said %q", said)
	}
	// A new folder past the limit: not said again; what is watched still
	// counts.
	verdicts := make(chan verdict, 4)
	fw.arm(3, 0, func(m string) { said = append(said, m) }, func(v verdict) { verdicts <- v })
	mkTree(t, dir, "d2/")
	n.fail = func(string) error { return syscall.ENOSPC }
	fw.mu.Lock()
	fw.handle(filepath.Join(dir, "d2"), fsnotify.Create)
	fw.mu.Unlock()
	if v := <-verdicts; !slices.Equal(v.kv, []string{"path", "d2"}) {
		t.Errorf("verdict %+v", v)
	}
	if len(said) != 1 {
		t.Errorf("said %q", said)
	}
}

func TestWatchDropsRemovedFolders(t *testing.T) {
	dir := t.TempDir()
	mkTree(t, dir, "a/b/c/", "ab/")
	n := &fakeNotifier{watched: map[string]bool{}}
	fw := newFileWatch(testConfig(t, dir, filepath.Join(dir, "tetra/tpm"), "."), nil, n)
	// a is moved away: its watches and those under it go (not ab's).
	os.Rename(filepath.Join(dir, "a"), filepath.Join(dir, "z"))
	fw.mu.Lock()
	fw.handle(filepath.Join(dir, "a"), fsnotify.Rename)
	if got, want := n.list(dir), []string{".", "ab"}; !slices.Equal(got, want) {
		t.Errorf("after the move: watched %q, want %q", got, want)
	}
	// ... and come back under its new name.
	fw.handle(filepath.Join(dir, "z"), fsnotify.Create)
	if got, want := n.list(dir), []string{".", "ab", "z", "z/b", "z/b/c"}; !slices.Equal(got, want) {
		t.Errorf("after the move in: watched %q, want %q", got, want)
	}
	if len(fw.dirs) != 5 {
		t.Errorf("%d folders known, want 5", len(fw.dirs))
	}
	fw.mu.Unlock()
}

func TestWatchDebounce(t *testing.T) {
	dir := t.TempDir()
	n := &fakeNotifier{watched: map[string]bool{}}
	fw := newFileWatch(testConfig(t, dir, filepath.Join(dir, "tetra/tpm"), "."), nil, n)
	verdicts := make(chan verdict, 4)
	a := fw.arm(11, 50*time.Millisecond, nil, func(v verdict) { verdicts <- v })
	for i := range 20 {
		fw.mu.Lock()
		fw.handle(filepath.Join(dir, "f"+string(rune('a'+i))), fsnotify.Write)
		fw.mu.Unlock()
	}
	v := <-verdicts
	if !slices.Equal(v.kv, []string{"path", "fa"}) || v.pid != 11 {
		t.Errorf("verdict %+v", v)
	}
	fw.mu.Lock()
	pending := fw.timer != nil || fw.first != ""
	fw.mu.Unlock()
	if pending || len(verdicts) > 0 {
		t.Errorf("20 changes: more than one verdict on its way")
	}
	// Stopped, the run counts no more changes, and leaves no timer.
	fw.mu.Lock()
	fw.handle(filepath.Join(dir, "g"), fsnotify.Write)
	fw.mu.Unlock()
	a.stop()
	fw.mu.Lock()
	fw.handle(filepath.Join(dir, "h"), fsnotify.Write)
	left := fw.timer != nil || fw.first != "" || fw.pid != 0
	fw.mu.Unlock()
	if left {
		t.Errorf("a stopped run left a pending change")
	}
	// A stop that comes late, for an older run, leaves the new one armed.
	fw.arm(12, 0, nil, func(v verdict) { verdicts <- v })
	a.stop()
	fw.mu.Lock()
	fw.handle(filepath.Join(dir, "i"), fsnotify.Write)
	fw.mu.Unlock()
	if v := <-verdicts; v.pid != 12 || !slices.Equal(v.kv, []string{"path", "i"}) {
		t.Errorf("verdict %+v", v)
	}
}

// TestWatchReal watches a real tree with inotify: what is left out is never
// counted (the watched change that follows it names itself first), a new
// folder is watched, a removed one is forgotten.
func TestWatchReal(t *testing.T) {
	dir := t.TempDir()
	mkTree(t, dir, "src/app.js", "node_modules/p/index.js", ".git/HEAD", "tetra/tpm/logs/job.out")
	fw := newFileWatch(testConfig(t, dir, filepath.Join(dir, "tetra/tpm"), "."), func(m string) { t.Errorf("said %q", m) }, nil)
	defer fw.close()
	verdicts := make(chan verdict, 8)
	fw.arm(5, 20*time.Millisecond, nil, func(v verdict) { verdicts <- v })
	next := func() verdict {
		t.Helper()
		select {
		case v := <-verdicts:
			return v
		case <-time.After(10 * time.Second):
			t.Fatal("no verdict")
		}
		return verdict{}
	}
	for _, p := range []string{"node_modules/p/index.js", ".git/HEAD", ".env", "tetra/tpm/logs/job.out", "src/app.js"} {
		mkTree(t, dir, p)
	}
	if v := next(); !slices.Equal(v.kv, []string{"path", "src/app.js"}) {
		t.Errorf("verdict %v, want the watched file's", v.kv)
	}
	mkTree(t, dir, "new/deeper/")
	if v := next(); !slices.Equal(v.kv, []string{"path", "new"}) {
		t.Errorf("verdict %v, want the new folder's", v.kv)
	}
	mkTree(t, dir, "new/deeper/x.js")
	if v := next(); !slices.Equal(v.kv, []string{"path", "new/deeper/x.js"}) {
		t.Errorf("verdict %v, want the file in the new folder", v.kv)
	}
	os.RemoveAll(filepath.Join(dir, "new"))
	next()
	fw.mu.Lock()
	_, kept := fw.dirs[filepath.Join(dir, "new/deeper")]
	fw.mu.Unlock()
	if kept {
		t.Errorf("a removed folder is still known")
	}
}
