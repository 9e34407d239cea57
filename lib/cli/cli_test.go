package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/tetra-toolkit/tpm/lib/exit"
	"github.com/tetra-toolkit/tpm/lib/state"
)

// A library error that carries a hint (state.TreeError) is reported with
// its hint line and its exit code, as one made with WithHint.
func TestReportLibraryHint(t *testing.T) {
	base := t.TempDir()
	os.MkdirAll(filepath.Join(base, "tetra", "tpm"), 0o700)
	os.Chmod(filepath.Join(base, "tetra", "tpm"), 0o770)
	t.Setenv("TETRA_DIR", filepath.Join(base, "tetra"))
	_, err := state.Open()
	var out bytes.Buffer
	e := &Env{Name: "tpm-ls", Stdout: &out, Stderr: &out}
	if code := e.Report(err); code != exit.NoPerm {
		t.Fatalf("exit %d, want 77", code)
	}
	want := "tpm-ls: refusing the state tree " + filepath.Join(base, "tetra", "tpm") + ": " + filepath.Join(base, "tetra", "tpm") +
		" is writable by its group (mode 0770)\ntpm-ls: hint: another user could redirect its files; make it yours and writable only by you, or set TETRA_DIR to a folder of your own\n"
	if out.String() != want {
		t.Fatalf("printed\n%s\nwant\n%s", out.String(), want)
	}
}

// A plain failure has no hint line.
func TestReportNoHint(t *testing.T) {
	var out bytes.Buffer
	e := &Env{Name: "tpm-ls", Stdout: &out, Stderr: &out}
	e.Report(exit.Errorf(exit.NoInput, "no process named %q", "x"))
	if out.String() != "tpm-ls: no process named \"x\"\n" {
		t.Fatalf("printed %q", out.String())
	}
}

// A name whose meta file cannot be looked at is a permission error (77),
// never "no process named" (66). Root reads through any mode: run as
// another user to see it.
func TestResolvePermission(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root is never denied")
	}
	root := filepath.Join(t.TempDir(), "tpm")
	os.MkdirAll(filepath.Join(root, state.ProcessesDir), 0o700)
	os.WriteFile(filepath.Join(root, state.ProcessesDir, "a.meta"), nil, 0o600)
	os.Chmod(filepath.Join(root, state.ProcessesDir), 0)
	defer os.Chmod(filepath.Join(root, state.ProcessesDir), 0o700)
	tr := &state.Tree{Root: root}
	for _, args := range [][]string{{"a"}, {"a*"}} {
		if _, err := Resolve(tr, args); exit.Code(err) != exit.NoPerm {
			t.Errorf("Resolve(%q): %v (exit %d), want exit 77", args, err, exit.Code(err))
		}
	}
}
