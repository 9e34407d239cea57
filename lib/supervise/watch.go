package supervise

// The file watch (SPEC §12, --watch): when a file under the watched paths
// changes, the run is replaced (event watch, with the path that changed
// first), once the changes have stopped for watch_delay.
//
// What is never watched, so that a program writing inside its own watched
// folder cannot restart itself in a loop: .git, node_modules, dot-files and
// dot-folders, tpm's own tree (wherever TETRA_DIR puts it: the program's
// logs are written there), and what the watch_ignore globs match. A glob
// matches a path's name, its path from the watched folder, or its path from
// the program's folder ("/" between folders; *, ? and [...] within a name,
// ** across folders). An ignored folder is not watched at all: what happens
// inside it costs nothing; an ignored file in a watched folder wakes the
// supervisor for a moment when it changes.
//
// The cost: one inotify instance per supervisor and one watch per folder
// (inotify watches folders, not trees: every sub-folder is added, new ones
// as they appear, removed ones dropped), read by one goroutine blocked in a
// read; a timer exists only while changes are pending. The watches are set
// up once, at the first run, and kept for the supervisor's life: a restart
// of a big tree does not walk it again (only a watched path that was
// missing is looked for again at each run). What the watch sees between
// two runs is not counted: the next run starts after it.
//
// When the system's limit of watches is reached (ENOSPC), the events say so
// once and the supervisor goes on watching what it could.

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/tetra-toolkit/tpm/lib/events"
	"github.com/tetra-toolkit/tpm/lib/logfile"
	"github.com/tetra-toolkit/tpm/lib/spec"
	"github.com/tetra-toolkit/tpm/lib/state"
)

func init() { watchers = append(watchers, watchRun) }

// fileWatches holds the supervisor's watch, which outlives its runs (a
// field of its own, kept here with the policy rather than in sup). Only
// the supervisor's loop reaches it, through watchRun.
var fileWatches = struct {
	sync.Mutex
	of map[*sup]*fileWatch
}{of: map[*sup]*fileWatch{}}

// watchRun is the policy's constructor: it arms the supervisor's watch (set
// up on first use, or again when the watched paths changed) for the run pid.
func watchRun(s *sup, pid int) watcher {
	fileWatches.Lock()
	defer fileWatches.Unlock()
	fw := fileWatches.of[s]
	if len(s.spec.Watch) == 0 {
		if fw != nil {
			fw.close()
			delete(fileWatches.of, s)
		}
		return nil
	}
	cfg := watchConfigOf(s)
	if fw != nil && !fw.cfg.same(cfg) {
		fw.close()
		fw = nil
	}
	// The events file is the run's: an upgrade that failed opens it anew.
	say := eventSayer(s.evLog)
	if fw == nil {
		fw = newFileWatch(cfg, say, nil)
		fileWatches.of[s] = fw
	}
	return fw.arm(pid, s.spec.WatchDelay, say, s.judge)
}

// eventSayer writes event=watch error=MSG. Not through s.event: the watch's
// own goroutine says it too, and the loop's fields are the loop's.
func eventSayer(l *logfile.Writer) func(string) {
	return func(msg string) {
		if l != nil {
			l.Write(events.Line(events.Watch, "error", msg))
		}
	}
}

// watchConfig is what a watch is made of; a new one replaces the watch.
type watchConfig struct {
	cwd    string   // the program's folder: paths in events are relative to it
	roots  []string // what to watch, absolute
	ignore []string // globs, "/"-separated, the defaults first
	tree   string   // tpm's tree, never watched
	own    []fs.FileInfo
}

func watchConfigOf(s *sup) watchConfig {
	c := watchConfig{cwd: s.spec.Cwd}
	if c.cwd == "" {
		c.cwd, _ = os.Getwd() // the program runs where its supervisor does
	}
	for _, p := range s.spec.Watch {
		if !filepath.IsAbs(p) {
			p = filepath.Join(c.cwd, p)
		}
		c.roots = append(c.roots, filepath.Clean(p))
	}
	for _, g := range append(append([]string(nil), spec.DefaultWatchIgnore...), s.spec.WatchIgnore...) {
		if g = cleanGlob(g); g != "" {
			c.ignore = append(c.ignore, g)
		}
	}
	if s.tree != nil {
		c.tree = s.tree.Root
		// The tree and its logs folder, however they are reached (a link,
		// a bind mount): compared by identity when a walk meets them.
		for _, p := range []string{c.tree, filepath.Join(c.tree, state.LogsDir)} {
			if fi, err := os.Stat(p); err == nil {
				c.own = append(c.own, fi)
			}
		}
	}
	return c
}

func (c watchConfig) same(o watchConfig) bool {
	return c.cwd == o.cwd && c.tree == o.tree && equal(c.roots, o.roots) && equal(c.ignore, o.ignore)
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// cleanGlob makes a glob "/"-separated, without a leading ./ or a final /.
func cleanGlob(g string) string {
	g = strings.TrimSpace(filepath.ToSlash(g))
	for strings.HasPrefix(g, "./") {
		g = g[2:]
	}
	g = strings.TrimRight(g, "/")
	if g == "." {
		return ""
	}
	return g
}

// globMatch reports whether the "/"-separated name matches the glob: *, ?
// and [...] within a name (path.Match), ** for any number of folders.
func globMatch(glob, name string) bool {
	return matchParts(strings.Split(glob, "/"), strings.Split(name, "/"))
}

func matchParts(g, n []string) bool {
	for len(g) > 0 {
		if g[0] == "**" {
			for i := 0; i <= len(n); i++ {
				if matchParts(g[1:], n[i:]) {
					return true
				}
			}
			return false
		}
		if len(n) == 0 {
			return false
		}
		if ok, err := path.Match(g[0], n[0]); err != nil || !ok {
			return false
		}
		g, n = g[1:], n[1:]
	}
	return len(n) == 0
}

// ignored reports whether p, under the watched folder root, is left out:
// a glob matches its name, its path from root, or its path from the
// program's folder.
func (c watchConfig) ignored(root, p string) bool {
	fromRoot, fromCwd := relSlash(root, p), relSlash(c.cwd, p)
	if strings.HasPrefix(fromCwd, "../") || fromCwd == ".." {
		fromCwd = ""
	}
	name := filepath.Base(p)
	for _, g := range c.ignore {
		if globMatch(g, name) || globMatch(g, fromRoot) || (fromCwd != "" && globMatch(g, fromCwd)) {
			return true
		}
	}
	return false
}

// relSlash is p relative to base, "/"-separated ("" if it cannot be).
func relSlash(base, p string) string {
	r, err := filepath.Rel(base, p)
	if err != nil {
		return ""
	}
	return filepath.ToSlash(r)
}

// isOwn reports whether a folder is tpm's tree or its logs.
func (c watchConfig) isOwn(fi fs.FileInfo) bool {
	for _, o := range c.own {
		if os.SameFile(fi, o) {
			return true
		}
	}
	return false
}

// notifier is what a watch needs of fsnotify (a fake in the tests).
type notifier interface {
	Add(path string) error
	Remove(path string) error
	Close() error
}

// watchedDir is a folder with an inotify watch: part of the tree of a
// watched folder (root), and/or the folder of watched files.
type watchedDir struct {
	root  string   // the watched folder it is under, "" none
	files []string // files watched by name in it
}

// A fileWatch is one supervisor's: its watches, and the run it is armed
// for.
type fileWatch struct {
	cfg watchConfig

	mu    sync.Mutex
	n     notifier // nil: could not be made (said once)
	dirs  map[string]*watchedDir
	own   []string        // paths under the roots that are tpm's tree
	said  map[string]bool // the errors said, one event each
	say   func(msg string)
	gone  bool
	pid   int // the armed run, 0 none
	gen   int // counts the arms: a late stop or timer of an older run is a no-op
	delay time.Duration
	judge func(verdict)
	first string      // the first path changed since the last verdict, "" none
	timer *time.Timer // the debounce, only while changes are pending
	tick  int         // counts the timers: a timer that fired late is a no-op
}

// newFileWatch sets up the watches: with n, or (n nil) with an fsnotify
// watcher of its own, read by a goroutine of its own.
func newFileWatch(cfg watchConfig, say func(string), n notifier) *fileWatch {
	fw := &fileWatch{cfg: cfg, n: n, dirs: map[string]*watchedDir{}, said: map[string]bool{}, say: say}
	fw.mu.Lock()
	fw.setup()
	fw.mu.Unlock()
	return fw
}

// read handles fsnotify's events until the watcher is closed.
func (fw *fileWatch) read(w *fsnotify.Watcher) {
	for {
		select {
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			fw.mu.Lock()
			fw.handle(ev.Name, ev.Op)
			fw.mu.Unlock()
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			fw.mu.Lock()
			fw.failed(err)
			fw.mu.Unlock()
		}
	}
}

// failed handles an error of the watcher's own. An overflowed queue lost
// changes: they count as one, and new folders may have been missed.
func (fw *fileWatch) failed(err error) {
	if errors.Is(err, fsnotify.ErrEventOverflow) {
		if len(fw.cfg.roots) > 0 {
			fw.changed(fw.cfg.roots[0])
		}
		for _, r := range fw.cfg.roots {
			fw.addRoot(r, true)
		}
		return
	}
	fw.sayOnce("read", "watch: "+err.Error())
}

// setup watches the roots not watched yet: all at the first run, and later
// those that were missing. Without an inotify instance (the system's limit
// of instances was reached) it tries again.
func (fw *fileWatch) setup() {
	if fw.gone {
		return
	}
	if fw.n == nil {
		w, err := fsnotify.NewWatcher()
		if err != nil {
			msg := "cannot watch: " + err.Error()
			if errors.Is(err, syscall.EMFILE) {
				msg = "cannot watch: inotify instance limit reached (fs.inotify.max_user_instances)"
			}
			fw.sayOnce("new", msg)
			return
		}
		go fw.read(w)
		fw.n = w
	}
	for _, r := range fw.cfg.roots {
		fw.addRoot(r, false)
	}
}

// addRoot watches one root: a folder and its tree, or a file by name in its
// folder (editors replace a file they save: a watch on the file itself
// would be lost). again: walk a tree already watched, for missed folders.
func (fw *fileWatch) addRoot(r string, again bool) {
	fi, err := os.Stat(r)
	if err != nil {
		fw.sayOnce("root "+r, "cannot watch "+fw.rel(r)+": "+errText(err))
		return
	}
	if fw.inTree(r, fi) {
		fw.sayOnce("root "+r, "cannot watch "+fw.rel(r)+": tpm keeps its state there")
		return
	}
	if !fi.IsDir() {
		d := filepath.Dir(r)
		wd := fw.dirs[d]
		if wd != nil && contains(wd.files, r) {
			return
		}
		if wd == nil {
			if !fw.add(d) {
				return
			}
			wd = &watchedDir{}
			fw.dirs[d] = wd
		}
		wd.files = append(wd.files, r)
		return
	}
	if wd := fw.dirs[r]; wd != nil && wd.root != "" && !again {
		return
	}
	fw.walk(r, r)
}

// inTree reports whether a root is tpm's tree, its logs, or inside the tree.
func (fw *fileWatch) inTree(r string, fi fs.FileInfo) bool {
	if fw.cfg.isOwn(fi) {
		return true
	}
	if fw.cfg.tree == "" {
		return false
	}
	real, err1 := filepath.EvalSymlinks(r)
	tree, err2 := filepath.EvalSymlinks(fw.cfg.tree)
	return err1 == nil && err2 == nil && strings.HasPrefix(real, tree+string(filepath.Separator))
}

// walk watches dir and every folder under it that is not left out, as part
// of root's tree. Links are not followed (a root that is one is).
func (fw *fileWatch) walk(root, dir string) {
	wd := fw.dirs[dir]
	if wd == nil {
		if !fw.add(dir) {
			return // not watched: neither is what is made under it
		}
		wd = &watchedDir{}
		fw.dirs[dir] = wd
	}
	if wd.root == "" {
		wd.root = root
	}
	ents, _ := os.ReadDir(dir) // unreadable: watched, but not its sub-folders
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if fw.cfg.ignored(root, p) || fw.ownPath(p) {
			continue
		}
		if fi, err := e.Info(); err == nil && fw.cfg.isOwn(fi) {
			fw.own = append(fw.own, p)
			continue
		}
		fw.walk(root, p)
	}
}

// add adds a watch, saying why once if it cannot.
func (fw *fileWatch) add(dir string) bool {
	err := fw.n.Add(dir)
	switch {
	case err == nil:
		return true
	case errors.Is(err, syscall.ENOSPC):
		fw.sayOnce("ENOSPC", "inotify watch limit reached (fs.inotify.max_user_watches): "+
			fw.rel(dir)+" and maybe other folders are not watched")
	case errors.Is(err, fs.ErrNotExist):
		// Gone meanwhile: its removal is on its way as an event.
	default:
		var errno syscall.Errno
		key := "add"
		if errors.As(err, &errno) {
			key += " " + errno.Error()
		}
		fw.sayOnce(key, "cannot watch "+fw.rel(dir)+": "+errText(err))
	}
	return false
}

// handle takes one change seen by inotify.
func (fw *fileWatch) handle(p string, op fsnotify.Op) {
	if fw.gone {
		return
	}
	wd := fw.dirs[filepath.Dir(p)]
	if wd == nil {
		// The root itself (removed or renamed), or an event of a folder
		// dropped meanwhile.
		if contains(fw.cfg.roots, p) && op.Has(fsnotify.Remove|fsnotify.Rename) {
			fw.drop(p)
			fw.changed(p)
		}
		return
	}
	if contains(wd.files, p) {
		fw.changed(p) // watched by name: no rule leaves it out
		return
	}
	if wd.root == "" || fw.cfg.ignored(wd.root, p) || fw.ownPath(p) {
		return
	}
	if op.Has(fsnotify.Remove | fsnotify.Rename) {
		fw.drop(p)
	}
	if op.Has(fsnotify.Create) {
		if fi, err := os.Lstat(p); err == nil && fi.IsDir() {
			if fw.cfg.isOwn(fi) {
				if !contains(fw.own, p) {
					fw.own = append(fw.own, p)
				}
				return
			}
			// Before the change counts: once it does, what is made in the
			// new folder is seen (mkdir -p: the walk finds what the watch
			// came too late for).
			fw.walk(wd.root, p)
		}
	}
	fw.changed(p)
}

// ownPath reports whether p is (under) a folder of tpm's own.
func (fw *fileWatch) ownPath(p string) bool {
	for _, o := range fw.own {
		if p == o || strings.HasPrefix(p, o+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// drop forgets the watches of a folder that was removed or moved away, and
// of the folders under it (inotify keeps those of a moved tree, under paths
// that are no longer theirs).
func (fw *fileWatch) drop(p string) {
	under := p + string(filepath.Separator)
	for d := range fw.dirs {
		if d == p || strings.HasPrefix(d, under) {
			fw.n.Remove(d) // already gone with a removed folder: no matter
			delete(fw.dirs, d)
		}
	}
	for i := 0; i < len(fw.own); i++ {
		if fw.own[i] == p || strings.HasPrefix(fw.own[i], under) {
			fw.own = append(fw.own[:i], fw.own[i+1:]...)
			i--
		}
	}
}

// changed counts a change for the armed run: the verdict comes delay after
// the last one.
func (fw *fileWatch) changed(p string) {
	if fw.pid == 0 {
		return // between two runs: the next starts after it
	}
	if fw.first == "" {
		fw.first = p
	}
	if fw.timer == nil {
		fw.tick++
		tick := fw.tick
		fw.timer = time.AfterFunc(fw.delay, func() { fw.fire(tick) })
	} else {
		fw.timer.Reset(fw.delay)
	}
}

// fire sends the verdict: the changes have stopped for the delay.
func (fw *fileWatch) fire(tick int) {
	fw.mu.Lock()
	if tick != fw.tick || fw.timer == nil || fw.pid == 0 {
		fw.mu.Unlock()
		return
	}
	v := verdict{kind: events.Watch, kv: []string{"path", fw.rel(fw.first)}, pid: fw.pid}
	fw.first, fw.timer = "", nil
	judge := fw.judge
	fw.mu.Unlock()
	judge(v)
}

// arm counts the changes for run pid, until its stop.
func (fw *fileWatch) arm(pid int, delay time.Duration, say func(string), judge func(verdict)) watcher {
	fw.mu.Lock()
	defer fw.mu.Unlock()
	fw.disarm()
	fw.say, fw.judge, fw.delay, fw.pid = say, judge, delay, pid
	fw.gen++
	fw.setup()
	return armed{fw, fw.gen}
}

// disarm forgets the pending changes and the run.
func (fw *fileWatch) disarm() {
	if fw.timer != nil {
		fw.timer.Stop()
		fw.timer = nil
	}
	fw.first, fw.pid = "", 0
	fw.gen++
	fw.tick++
}

// close ends the watch for good (the policy was removed or changed).
func (fw *fileWatch) close() {
	fw.mu.Lock()
	fw.disarm()
	fw.gone = true
	n := fw.n
	fw.mu.Unlock()
	if n != nil {
		n.Close() // not under mu: the reader may be waiting for it
	}
}

// armed is a run's hold on the watch; stop disarms it.
type armed struct {
	fw  *fileWatch
	gen int
}

func (a armed) stop() {
	a.fw.mu.Lock()
	defer a.fw.mu.Unlock()
	if a.fw.gen == a.gen {
		a.fw.disarm()
	}
}

// sayOnce writes an error event the first time key comes.
func (fw *fileWatch) sayOnce(key, msg string) {
	if fw.said[key] {
		return
	}
	fw.said[key] = true
	if fw.say != nil {
		fw.say(msg)
	}
}

// rel is p as events show it: relative to the program's folder.
func (fw *fileWatch) rel(p string) string {
	if r, err := filepath.Rel(fw.cfg.cwd, p); err == nil {
		return r
	}
	return p
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// errText is an error without the path it repeats.
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
