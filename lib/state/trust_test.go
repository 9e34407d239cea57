package state

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tetra-toolkit/tpm/lib/exit"
)

// mkTree makes $base/tetra/tpm with its four folders, 0700.
func mkTree(t *testing.T, base string) string {
	t.Helper()
	tetra := filepath.Join(base, "tetra")
	for _, d := range Folders {
		if err := os.MkdirAll(filepath.Join(tetra, "tpm", d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return tetra
}

func TestOpenTrust(t *testing.T) {
	root := os.Geteuid() == 0
	for _, tc := range []struct {
		name     string
		needRoot bool
		// setup returns TETRA_DIR.
		setup func(t *testing.T, base string) string
		code  int    // 0: trusted
		msg   string // in the message
	}{
		{"a tree of 0700 folders", false, func(t *testing.T, base string) string { return mkTree(t, base) }, 0, ""},
		{"a missing tree", false, func(t *testing.T, base string) string { return filepath.Join(base, "new", "tetra") }, 0, ""},
		{"a tree of 0755 folders", false, func(t *testing.T, base string) string {
			tetra := mkTree(t, base)
			os.Chmod(filepath.Join(tetra, "tpm", LogsDir), 0o755)
			return tetra
		}, 0, ""},
		{"a folder that is a link", false, func(t *testing.T, base string) string {
			tetra := mkTree(t, base)
			os.Remove(filepath.Join(tetra, "tpm", PidsDir))
			os.Symlink(base, filepath.Join(tetra, "tpm", PidsDir))
			return tetra
		}, exit.NoPerm, "tpm/pids is a symbolic link"},
		{"the tpm folder a link", false, func(t *testing.T, base string) string {
			tetra := mkTree(t, base)
			os.Rename(filepath.Join(tetra, "tpm"), filepath.Join(base, "elsewhere"))
			os.Symlink(filepath.Join(base, "elsewhere"), filepath.Join(tetra, "tpm"))
			return tetra
		}, exit.NoPerm, "tetra/tpm is a symbolic link"},
		{"the tpm folder writable by its group", false, func(t *testing.T, base string) string {
			tetra := mkTree(t, base)
			os.Chmod(filepath.Join(tetra, "tpm"), 0o770)
			return tetra
		}, exit.NoPerm, "tetra/tpm is writable by its group (mode 0770)"},
		{"a folder writable by others, even sticky", false, func(t *testing.T, base string) string {
			tetra := mkTree(t, base)
			os.Chmod(filepath.Join(tetra, "tpm", RunDir), os.ModeSticky|0o703)
			return tetra
		}, exit.NoPerm, "tpm/run is writable by others (mode 1703)"},
		{"TETRA_DIR writable by all", false, func(t *testing.T, base string) string {
			tetra := mkTree(t, base)
			os.Chmod(tetra, 0o777)
			return tetra
		}, exit.NoPerm, "tetra is writable by its group and others (mode 0777)"},
		{"TETRA_DIR sticky and writable by all", false, func(t *testing.T, base string) string {
			tetra := mkTree(t, base)
			os.Chmod(tetra, os.ModeSticky|0o777)
			return tetra
		}, 0, ""},
		{"a folder on the way writable by all", false, func(t *testing.T, base string) string {
			os.Mkdir(filepath.Join(base, "shared"), 0o700)
			tetra := mkTree(t, filepath.Join(base, "shared"))
			os.Chmod(filepath.Join(base, "shared"), 0o777)
			return tetra
		}, exit.NoPerm, "shared is writable by its group and others (mode 0777)"},
		{"a folder on the way writable by all, missing tree", false, func(t *testing.T, base string) string {
			os.Mkdir(filepath.Join(base, "shared"), 0o777)
			os.Chmod(filepath.Join(base, "shared"), 0o777)
			return filepath.Join(base, "shared", "tetra")
		}, exit.NoPerm, "shared is writable by its group and others"},
		{"TETRA_DIR a link in a trusted folder", false, func(t *testing.T, base string) string {
			tetra := mkTree(t, base)
			os.Symlink(tetra, filepath.Join(base, "link"))
			return filepath.Join(base, "link")
		}, 0, ""},
		{"TETRA_DIR a relative link", false, func(t *testing.T, base string) string {
			mkTree(t, base)
			os.Symlink("./tetra/../tetra", filepath.Join(base, "link"))
			return filepath.Join(base, "link")
		}, 0, ""},
		{"TETRA_DIR a link to a folder writable by all", false, func(t *testing.T, base string) string {
			os.Mkdir(filepath.Join(base, "shared"), 0o700)
			mkTree(t, filepath.Join(base, "shared"))
			os.Chmod(filepath.Join(base, "shared"), 0o777)
			os.Symlink(filepath.Join(base, "shared", "tetra"), filepath.Join(base, "link"))
			return filepath.Join(base, "link")
		}, exit.NoPerm, "shared is writable"},
		{"a loop of links", false, func(t *testing.T, base string) string {
			os.Symlink(filepath.Join(base, "b"), filepath.Join(base, "a"))
			os.Symlink(filepath.Join(base, "a"), filepath.Join(base, "b"))
			return filepath.Join(base, "a")
		}, exit.CantCreate, "too many levels of symbolic links"},
		{"TETRA_DIR a file", false, func(t *testing.T, base string) string {
			p := filepath.Join(base, "file")
			os.WriteFile(p, nil, 0o600)
			return p
		}, exit.CantCreate, "/file is not a folder"},
		{"the tpm folder a file", false, func(t *testing.T, base string) string {
			os.MkdirAll(filepath.Join(base, "tetra"), 0o700)
			os.WriteFile(filepath.Join(base, "tetra", "tpm"), nil, 0o600)
			return filepath.Join(base, "tetra")
		}, exit.CantCreate, "tetra/tpm is not a folder"},
		{"a tree of another user's", true, func(t *testing.T, base string) string {
			tetra := mkTree(t, base)
			os.Chown(filepath.Join(tetra, "tpm"), 65534, 65534)
			return tetra
		}, exit.NoPerm, "tetra/tpm is owned by"},
		{"TETRA_DIR another user's", true, func(t *testing.T, base string) string {
			tetra := mkTree(t, base)
			os.Chown(tetra, 65534, 65534)
			return tetra
		}, exit.NoPerm, "(uid 65534), and root uses only folders that root owns"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.needRoot && !root {
				t.Skip("needs root")
			}
			base, err := filepath.EvalSymlinks(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			t.Setenv("TETRA_DIR", tc.setup(t, base))
			tr, err := Open()
			if tc.code == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if err := tr.Ensure(); err != nil {
					t.Fatal(err)
				}
				if real, err := filepath.EvalSymlinks(tr.Root); err != nil || real != tr.Root {
					t.Fatalf("Root %s is not the real path %s (%v)", tr.Root, real, err)
				}
				for _, d := range Folders {
					if fi, err := os.Lstat(filepath.Join(tr.Root, d)); err != nil || !fi.IsDir() {
						t.Fatalf("%s not created: %v", d, err)
					}
				}
				return
			}
			if exit.Code(err) != tc.code || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v (exit %d), want exit %d and %q", err, exit.Code(err), tc.code, tc.msg)
			}
		})
	}
}

// Ensure refuses before it creates anything: a tree built by hand with a
// link at logs/ gets no run/ folder.
func TestEnsureCreatesNothingInAnUntrustedTree(t *testing.T) {
	base := t.TempDir()
	tr := &Tree{Root: filepath.Join(base, "tetra", "tpm")}
	os.MkdirAll(tr.Root, 0o700)
	os.Symlink(base, filepath.Join(tr.Root, LogsDir))
	if err := tr.Ensure(); exit.Code(err) != exit.NoPerm {
		t.Fatalf("err = %v, want exit 77", err)
	}
	for _, d := range []string{ProcessesDir, PidsDir, RunDir} {
		if _, err := os.Lstat(filepath.Join(tr.Root, d)); err == nil {
			t.Fatalf("%s was created", d)
		}
	}
}

// A file in place of one of the four folders is a broken tree, not an
// untrusted one: a reader goes on (and fails where it uses it), Ensure says
// it is not a folder.
func TestFileInPlaceOfAFolder(t *testing.T) {
	base := t.TempDir()
	tetra := mkTree(t, base)
	pids := filepath.Join(tetra, "tpm", PidsDir)
	os.Remove(pids)
	os.WriteFile(pids, nil, 0o600)
	t.Setenv("TETRA_DIR", tetra)
	tr, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Ensure(); exit.Code(err) != exit.CantCreate || !strings.Contains(err.Error(), "pids is not a folder") {
		t.Fatalf("err = %v, want exit 73 and pids is not a folder", err)
	}
}

func BenchmarkOpen(b *testing.B) {
	base := b.TempDir()
	tetra := filepath.Join(base, "tetra")
	for _, d := range Folders {
		os.MkdirAll(filepath.Join(tetra, "tpm", d), 0o700)
	}
	b.Setenv("TETRA_DIR", tetra)
	for b.Loop() {
		if _, err := Open(); err != nil {
			b.Fatal(err)
		}
	}
}
