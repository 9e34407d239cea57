package state

// Which trees tpm trusts, in the spirit of OpenSSH's StrictModes. tpm opens,
// writes and removes files by path in its tree, often as root, and a
// supervisor appends a program's output to logs/NAME.out for days. Whoever
// can rename or replace a folder on that path chooses which files those
// are: a symbolic link at logs/ or pids/ would have root append to, create
// or delete files anywhere. So before a command uses a tree, tpm checks that
// nobody but the caller (and root) can change it:
//
//   - every folder from / down to $TETRA_DIR is owned by root or by the
//     caller, and nobody else may write in it unless its sticky bit keeps
//     them from renaming what is not theirs (as in /tmp);
//   - the tpm folder and its four folders are real folders, not symbolic
//     links, owned by the caller and writable by nobody else.
//
// Root trusts only what root owns. A symbolic link on the way to $TETRA_DIR
// (~/tetra -> /data/tetra) is followed when it lies in a folder that passed,
// and the tree's Root is the resolved path, so that no later open goes
// through a link that could change. What is refused is refused before
// anything is created, written or removed, with exit 77.
//
// The cost is one lstat per folder on the way and in the tree, once per
// command; nothing is checked per record.

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tetra-toolkit/tpm/lib/exit"
)

// Folders is the tree's folders under Root, in the order they are checked.
var Folders = []string{ProcessesDir, PidsDir, LogsDir, RunDir}

// TreeError says why a tree cannot be used: refused as untrusted (77), not
// reachable (77 for a permission, 73 otherwise).
type TreeError struct {
	Root   string // the tree
	Reason string // what is wrong, naming the path
	Code   int
	// Untrusted is set when the tree is refused by the policy above.
	Untrusted bool
}

func (e *TreeError) Error() string {
	if e.Untrusted {
		return fmt.Sprintf("refusing the state tree %s: %s", e.Root, e.Reason)
	}
	return fmt.Sprintf("cannot use the state tree %s: %s", e.Root, e.Reason)
}

// ExitCode implements the exit code carrier of package exit.
func (e *TreeError) ExitCode() int { return e.Code }

// Hint says what to do about it (printed by cli.Report).
func (e *TreeError) Hint() string {
	if !e.Untrusted {
		return ""
	}
	return "another user could redirect its files; make it yours and writable only by you, or set TETRA_DIR to a folder of your own"
}

// checker applies the policy for the caller's effective uid.
type checker struct {
	root string // the tree being checked, for messages
	uid  int
}

func newChecker(root string) checker {
	return checker{root: root, uid: os.Geteuid()}
}

func (c checker) untrusted(format string, args ...any) error {
	return &TreeError{Root: c.root, Reason: fmt.Sprintf(format, args...), Code: exit.NoPerm, Untrusted: true}
}

// failed turns a system call's error on path into a TreeError.
func (c checker) failed(path string, err error) error {
	code := exit.CantCreate
	if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
		code = exit.NoPerm
	}
	var errno unix.Errno
	if errors.As(err, &errno) {
		err = errno // "permission denied", not "lstat ...: permission denied"
	}
	return &TreeError{Root: c.root, Reason: fmt.Sprintf("%s: %v", path, err), Code: code}
}

func (c checker) notFolder(path string) error {
	return &TreeError{Root: c.root, Reason: path + " is not a folder", Code: exit.CantCreate}
}

// owner names the owner of a file for a message.
func owner(uid uint32) string {
	id := strconv.FormatUint(uint64(uid), 10)
	if name := userName(id); name != "" {
		return name + " (uid " + id + ")"
	}
	return "uid " + id
}

// writable describes who else may write in a folder, "" for nobody.
func writable(mode uint32) string {
	switch mode & 0o022 {
	case 0o022:
		return "its group and others"
	case 0o020:
		return "its group"
	case 0o002:
		return "others"
	}
	return ""
}

// onTheWay checks a folder from / down to $TETRA_DIR.
func (c checker) onTheWay(path string, st *unix.Stat_t) error {
	if int(st.Uid) != c.uid && st.Uid != 0 {
		if c.uid == 0 {
			return c.untrusted("%s is owned by %s, and root uses only folders that root owns", path, owner(st.Uid))
		}
		return c.untrusted("%s is owned by %s, not by you or root", path, owner(st.Uid))
	}
	if w := writable(uint32(st.Mode)); w != "" && uint32(st.Mode)&unix.S_ISVTX == 0 {
		return c.untrusted("%s is writable by %s (mode %04o)", path, w, uint32(st.Mode)&0o7777)
	}
	return nil
}

// inTree checks the tpm folder or one of its folders.
func (c checker) inTree(path string, st *unix.Stat_t) error {
	switch uint32(st.Mode) & unix.S_IFMT {
	case unix.S_IFDIR:
	case unix.S_IFLNK:
		return c.untrusted("%s is a symbolic link", path)
	default:
		return c.notFolder(path)
	}
	if int(st.Uid) != c.uid {
		if c.uid == 0 {
			return c.untrusted("%s is owned by %s, and root uses only a tree that root owns", path, owner(st.Uid))
		}
		return c.untrusted("%s is owned by %s, not by you (uid %d)", path, owner(st.Uid), c.uid)
	}
	if w := writable(uint32(st.Mode)); w != "" {
		return c.untrusted("%s is writable by %s (mode %04o)", path, w, uint32(st.Mode)&0o7777)
	}
	return nil
}

func lstat(path string, st *unix.Stat_t) error {
	for {
		err := unix.Lstat(path, st)
		if err != unix.EINTR {
			return err
		}
	}
}

// maxLinks bounds the symbolic links followed on the way, as the kernel
// does (ELOOP).
const maxLinks = 40

// resolve walks the absolute path dir from /, checking each folder on the
// way, following symbolic links, and returns the path with every link
// resolved. When a part of it does not exist yet, missing is set and the
// rest is appended as it is: it will be created by the caller under a
// folder that passed.
func (c checker) resolve(dir string) (real string, missing bool, err error) {
	var st unix.Stat_t
	if err := lstat("/", &st); err != nil {
		return "", false, c.failed("/", err)
	}
	if err := c.onTheWay("/", &st); err != nil {
		return "", false, err
	}
	cur := "/"
	rest := components(dir)
	links := 0
	for len(rest) > 0 {
		name := rest[0]
		rest = rest[1:]
		switch name {
		case ".":
			continue
		case "..":
			cur = filepath.Dir(cur) // cur has no link in it: its parent is real
			continue
		}
		next := filepath.Join(cur, name)
		err := lstat(next, &st)
		if err == unix.ENOENT {
			return filepath.Join(append([]string{next}, rest...)...), true, nil
		}
		if err != nil {
			return "", false, c.failed(next, err)
		}
		switch uint32(st.Mode) & unix.S_IFMT {
		case unix.S_IFDIR:
		case unix.S_IFLNK:
			// The link lies in cur, which passed: nobody else can change
			// it. Where it points is checked like the rest of the way.
			if links++; links > maxLinks {
				return "", false, c.failed(next, unix.ELOOP)
			}
			target, err := os.Readlink(next)
			if err != nil {
				return "", false, c.failed(next, err)
			}
			if filepath.IsAbs(target) {
				cur = "/"
			}
			rest = append(components(target), rest...)
			continue
		default:
			return "", false, c.notFolder(next)
		}
		if err := c.onTheWay(next, &st); err != nil {
			return "", false, err
		}
		cur = next
	}
	return cur, false, nil
}

func components(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// check checks the tree under base, the resolved $TETRA_DIR, whose every
// folder on the way passed. It returns the first of the tree's folders that
// is missing or is not a folder, "" when the tree is complete: that is for
// the caller to create, or to fail on when it uses it. (A file in place of
// pids/ is a broken tree, not an untrusted one: nothing can be opened
// through it, and a reader may still read the rest.)
func (c checker) check(base string) (lacking string, err error) {
	var st unix.Stat_t
	root := filepath.Join(base, "tpm")
	switch err := lstat(root, &st); err {
	case nil:
	case unix.ENOENT:
		return root, nil
	default:
		return "", c.failed(root, err)
	}
	if err := c.inTree(root, &st); err != nil {
		return "", err
	}
	for _, d := range Folders {
		p := filepath.Join(root, d)
		err := lstat(p, &st)
		if err == unix.ENOENT {
			lacking = cmp.Or(lacking, p)
			continue
		}
		if err != nil {
			return "", c.failed(p, err)
		}
		if uint32(st.Mode)&unix.S_IFMT != unix.S_IFDIR && uint32(st.Mode)&unix.S_IFMT != unix.S_IFLNK {
			lacking = cmp.Or(lacking, p)
			continue
		}
		if err := c.inTree(p, &st); err != nil {
			return "", err
		}
	}
	return lacking, nil
}

// trusted checks the tree for $TETRA_DIR base (absolute) and returns it,
// rooted at the resolved path.
func trusted(base string) (*Tree, error) {
	c := newChecker(filepath.Join(base, "tpm"))
	real, missing, err := c.resolve(base)
	if err != nil {
		return nil, err
	}
	t := &Tree{Root: filepath.Join(real, "tpm")}
	if missing {
		return t, nil
	}
	lacking, err := c.check(real)
	if err != nil {
		return nil, err
	}
	t.complete.Store(lacking == "")
	return t, nil
}

// userName finds the name of a uid in /etc/passwd, for a message; "" when it
// cannot. (os/user would do it, and cost every binary that opens a tree,
// the supervisor included, its package and the C resolver's stand-in.)
func userName(uid string) string {
	data, err := os.ReadFile("/etc/passwd")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.SplitN(line, ":", 4)
		if len(f) == 4 && f[2] == uid {
			return f[0]
		}
	}
	return ""
}
