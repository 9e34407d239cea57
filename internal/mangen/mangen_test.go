package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tetra-toolkit/tpm/lib/cli"
	"github.com/tetra-toolkit/tpm/lib/state"
)

// regen is what a failure tells the reader to run.
const regen = "run `go run ./internal/mangen` at the repository root"

// root is the repository, two folders up from this package.
const root = "../.."

// TestPagesUpToDate fails while the pages in man/ are not what the
// generator writes now: a flag, a help text or a description changed, or a
// command came or went, and nobody regenerated.
func TestPagesUpToDate(t *testing.T) {
	tmp := t.TempDir()
	if _, err := generate(tmp); err != nil {
		t.Fatal(err)
	}
	want, err := ours(tmp)
	if err != nil {
		t.Fatal(err)
	}
	have, err := ours(filepath.Join(root, "man"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range want {
		w, err := os.ReadFile(filepath.Join(tmp, p))
		if err != nil {
			t.Fatal(err)
		}
		h, err := os.ReadFile(filepath.Join(root, "man", p))
		if err != nil {
			t.Errorf("man/%s is missing: %s", p, regen)
			continue
		}
		if !bytes.Equal(h, w) {
			t.Errorf("man/%s is out of date (%s): %s", p, firstDiff(h, w), regen)
		}
	}
	for _, p := range have {
		if !slices.Contains(want, p) {
			t.Errorf("man/%s belongs to no command any more: %s", p, regen)
		}
	}
}

// firstDiff names the first line where the page in the tree (have) and the
// generated one (want) differ.
func firstDiff(have, want []byte) string {
	h, w := strings.Split(string(have), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(h), len(w)) {
		var hl, wl string
		if i < len(h) {
			hl = h[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if hl != wl {
			return fmt.Sprintf("line %d is %q, should be %q", i+1, hl, wl)
		}
	}
	return "same lines"
}

// TestEveryBinaryHasAPage: a binary added to cmd/ without its line in
// commands.go would have no page, and one removed would keep one.
func TestEveryBinaryHasAPage(t *testing.T) {
	ents, err := os.ReadDir(filepath.Join(root, "cmd"))
	if err != nil {
		t.Fatal(err)
	}
	var bins []string
	for _, e := range ents {
		if e.IsDir() {
			bins = append(bins, e.Name())
		}
	}
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
		if !slices.Contains(bins, c.name) {
			t.Errorf("commands.go registers %s, which is not in cmd/: remove its line, then %s", c.name, regen)
		}
	}
	for _, b := range bins {
		if !slices.Contains(names, b) {
			t.Errorf("cmd/%s has no man page: add a line for it to commands in internal/mangen/commands.go (with a Model function beside its Main, as lib/cmd/lscmd/model.go), then %s", b, regen)
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("commands.go: keep the commands in alphabetical order")
	}
}

// TestModelIsWhatMainParses runs each command with --help and compares its
// output with the help of its Model: a Model that returned another grammar
// or description than the one Main parses with would make a page that
// describes another command.
func TestModelIsWhatMainParses(t *testing.T) {
	// tpm-start starts a spare supervisor before it parses anything; with
	// no tpm-supervise to be found, it starts none.
	t.Setenv("PATH", t.TempDir())
	t.Setenv("TPM_BIN", t.TempDir())
	t.Setenv("COLUMNS", "80")
	for _, c := range commands {
		if c.main == nil {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := c.main(&cli.Env{Name: c.name, Args: []string{"--help"}, Stdout: &out, Stderr: &errOut})
			if code != 0 || errOut.Len() > 0 {
				t.Fatalf("%s --help: exit %d, stderr %q", c.name, code, errOut.String())
			}
			var want bytes.Buffer
			grammar, description := c.model()
			e := &cli.Env{Name: c.name, Args: []string{"--help"}, Stdout: &want, Stderr: &want}
			if _, _, done := e.Parse(grammar, description); !done {
				t.Fatal("--help did not end the parse")
			}
			if out.String() != want.String() {
				t.Errorf("%s --help is not the help of its Model (%s): make Model return the grammar and description Main parses with",
					c.name, firstDiff(out.Bytes(), want.Bytes()))
			}
		})
	}
}

// TestPagesFormat runs groff over every page, when it is installed, and
// fails on any warning (a bad request, a font escape left open). The pages'
// test does not need it: the generator's output is checked above.
func TestPagesFormat(t *testing.T) {
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Skip("groff is not installed")
	}
	all, err := pages()
	if err != nil {
		t.Fatal(err)
	}
	for p, data := range all {
		cmd := exec.Command(groff, "-man", "-Tutf8", "-ww", "-z")
		cmd.Stdin = bytes.NewReader(data)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 {
			t.Errorf("groff on %s: %v %s", p, err, stderr.String())
		}
	}
}

// TestOverviewNamesEveryStatus: tpm(7) explains each status tpm-ls can show.
func TestOverviewNamesEveryStatus(t *testing.T) {
	_, rest, _ := strings.Cut(overviewSource, "\n# STATUSES\n")
	section, _, _ := strings.Cut(rest, "\n# ")
	for _, s := range state.Statuses {
		if !strings.Contains(section, "\n  "+s+" ") {
			t.Errorf("tpm.7.txt: the STATUSES section does not explain %s", s)
		}
	}
}

func TestSummary(t *testing.T) {
	for _, tc := range []struct{ name, desc, want string }{
		{"one sentence", "List tpm's processes.\n\nColumns: ...", "list tpm's processes"},
		{"up to the colon", "Stop processes: the first signal (TERM unless set otherwise) and CONT to the\nwhole process group.", "stop processes"},
		{"up to the first sentence", "Restart them. Then more: things.", "restart them"},
		{"an acronym keeps its capital", "PM2 files read here.", "PM2 files read here"},
		{"a sentence over two lines", "Replace running programs with no moment\nwhen nothing answers.", "replace running programs with no moment when nothing answers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := summary(tc.desc); got != tc.want {
				t.Errorf("summary(%q) = %q, want %q", tc.desc, got, tc.want)
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		para []string
		want []row
	}{
		{"plain", []string{"Exit codes: 0 ok, 64 usage, 66 a name or pattern matches nothing."},
			[]row{{"0", []string{"ok"}}, {"64", []string{"usage"}}, {"66", []string{"a name or pattern matches nothing"}}}},
		{"a comma inside a meaning", []string{"Exit codes: 0 ok, 66 no such process, file", "or interpreter, 77 permission denied."},
			[]row{{"0", []string{"ok"}}, {"66", []string{"no such process, file or interpreter"}}, {"77", []string{"permission denied"}}}},
		{"several codes", []string{"Exit codes: 0 done, 1 and 64 to 77 it failed: see why."},
			[]row{{"0", []string{"done"}}, {"1 and 64 to 77", []string{"it failed: see why"}}}},
		{"a number in a meaning", []string{"Exit codes: 0 ok (also after 2 tries), 1 failed."},
			[]row{{"0", []string{"ok (also after 2 tries)"}}, {"1", []string{"failed"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := exitCodes(tc.para)
			if !ok || fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("exitCodes = %v, %v; want %v", got, ok, tc.want)
			}
		})
	}
	if _, ok := exitCodes([]string{"Exit codes: all is well."}); ok {
		t.Error("a paragraph with no code was read as exit codes")
	}
}

func TestColumns(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string
		want  []row // nil: not columns
	}{
		{"two rows", []string{
			"  tpm-clean [flags]        tidy: the default",
			"  tpm-clean [flags] NAME   delete their files",
		}, []row{{"tpm-clean [flags]", []string{"tidy: the default"}}, {"tpm-clean [flags] NAME", []string{"delete their files"}}}},
		{"continuation lines", []string{
			"  systemd  a user unit (enabled with",
			"           systemctl --user)",
			"  cron     an @reboot line",
		}, []row{{"systemd", []string{"a user unit (enabled with", "systemctl --user)"}}, {"cron", []string{"an @reboot line"}}}},
		{"a row with one space before its text", []string{
			"  tpm-meta NAME             print the line",
			"  tpm-meta --path NAME KIND print paths",
		}, []row{{"tpm-meta NAME", []string{"print the line"}}, {"tpm-meta --path NAME KIND", []string{"print paths"}}}},
		{"a long left part alone", []string{
			"  a       short",
			"  a very long left part",
			"          its text",
		}, []row{{"a", []string{"short"}}, {"a very long left part", []string{"its text"}}}},
		{"a left part running past the column", []string{
			"  GET  /                  the page",
			"  POST /v1/processes/NAME/start   body",
		}, nil},
		{"prose", []string{
			"  some indented prose",
			"  on two lines",
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := columns(tc.lines)
			if tc.want == nil {
				if ok {
					t.Errorf("columns = %q, want none", got)
				}
				return
			}
			if !ok || fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) {
				t.Errorf("columns = %q, %v; want %q", got, ok, tc.want)
			}
		})
	}
}

func TestEscapes(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"--port", `\-\-port`},
		{"'api-*'", `\(aqapi\-*\(aq`},
		{`a\b`, `a\(rsb`},
		{"~/.config", `\(ti/.config`},
		{"`x` ^", `\(gax\(ga \(ha`},
	} {
		if got := esc(tc.in); got != tc.want {
			t.Errorf("esc(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	p := &page{}
	p.line(esc(".config and more"))
	p.line(esc("'quoted'"))
	if got, want := p.b.String(), "\\&.config and more\n\\(aqquoted\\(aq\n"; got != want {
		t.Errorf("lines = %q, want %q", got, want)
	}
}
