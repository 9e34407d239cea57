// The documentation's examples cannot go stale: each is run.
//
// The rule: a fenced block of README.md or docs/*.md that shows commands
// and their output is a ```console block, and it is, byte for byte, a
// FILE.console of a testdata/scripts/doc_*.txtar script that runs it with
// "console FILE.console" (after what the reader does not need to see:
// files created, a wait). TestDocExamples fails when a console block has
// no such copy, when a script holds a .console file that no page shows or
// that it never runs, and when a block of another kind holds a "$ " line
// (a transcript that would escape the check). The scripts fail, as every
// script does, when a command's output is not what the page shows.
//
// In a console block, "$ CMD" is a command line, run by sh in the script's
// folder and environment, stdout and stderr together; it must exit 0 (show
// a failure as "CMD; echo "exit $?""). The lines up to the next "$ " are
// its output, compared line by line, where
//
//   - a run of blanks matches any run of blanks or tabs (aligned columns,
//     tab-separated fields);
//   - <pid>, <n>, <date>, <time>, <dur>, <size>, <token>, <path>, <version>
//     stand for what changes from run to run (placeholders, below);
//   - a line "..." stands for any number of lines.
//
// A command line without | or > runs as on a terminal (TPM_TERMINAL=1,
// NO_COLOR=1: aligned tables, human units, no colour), as a reader typing
// it sees it; one with them runs piped, as it is.
//
// The other tests of this file hold the docs' tables to the code's: the
// meta keys (lib/spec, keys.go), the statuses (lib/state), the event kinds
// (lib/events), the ecosystem fields tpm uses (lib/ecosystem, apps.go), and
// every --flag the docs name is a flag of some command's grammar; every link
// stays in the repository and finds its file and heading (TestDocLinks);
// and the supervisor links what design.md says it links.
package tpm_test

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
	"github.com/rogpeppe/go-internal/testscript"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/tetra-toolkit/tpm/lib/cmd/cleancmd"
	"github.com/tetra-toolkit/tpm/lib/cmd/ecocmd"
	"github.com/tetra-toolkit/tpm/lib/cmd/exportcmd"
	"github.com/tetra-toolkit/tpm/lib/cmd/logcmd"
	"github.com/tetra-toolkit/tpm/lib/cmd/lscmd"
	"github.com/tetra-toolkit/tpm/lib/cmd/metacmd"
	"github.com/tetra-toolkit/tpm/lib/cmd/servecmd"
	"github.com/tetra-toolkit/tpm/lib/cmd/startcmd"
	"github.com/tetra-toolkit/tpm/lib/cmd/startupcmd"
	"github.com/tetra-toolkit/tpm/lib/cmd/stopcmd"
	"github.com/tetra-toolkit/tpm/lib/cmd/upgradecmd"
	"github.com/tetra-toolkit/tpm/lib/spec"
	"github.com/tetra-toolkit/tpm/lib/state"
)

func init() {
	scriptCmds["console"] = cmdConsole
}

// placeholders are what may stand in an example's output for a value that
// changes from run to run.
var placeholders = map[string]string{
	"<pid>":     `[1-9][0-9]*`,
	"<n>":       `[0-9]+(?:\.[0-9]+)?`,
	"<date>":    `[0-9]{4}-[0-9]{2}-[0-9]{2}`,
	"<time>":    `[0-9]{2}:[0-9]{2}:[0-9]{2}`,
	"<dur>":     `(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|µs|ms|s|m|h|d))+`,
	"<size>":    `[0-9]+(?:\.[0-9]+)?[KMGT]?`,
	"<token>":   `[0-9]+@[0-9a-f]+`,
	"<path>":    `/[^ \t]*`,
	"<version>": `[^ \t]+`,
}

var placeholderRE = regexp.MustCompile(`<[a-z]+>|[ \t]+`)

// lineRE turns one expected line into a regular expression.
func lineRE(want string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	rest := want
	for {
		loc := placeholderRE.FindStringIndex(rest)
		if loc == nil {
			b.WriteString(regexp.QuoteMeta(rest))
			break
		}
		b.WriteString(regexp.QuoteMeta(rest[:loc[0]]))
		tok := rest[loc[0]:loc[1]]
		switch {
		case strings.TrimLeft(tok, " \t") == "":
			b.WriteString(`[ \t]+`)
		case placeholders[tok] != "":
			b.WriteString("(?:" + placeholders[tok] + ")")
		default:
			// <word> that is not a placeholder: literal text (an HTML-ish
			// example, a usage line).
			b.WriteString(regexp.QuoteMeta(tok))
		}
		rest = rest[loc[1]:]
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// matchLines reports whether got matches want, where a want line "..."
// matches any number of lines.
func matchLines(want, got []string) bool {
	if len(want) == 0 {
		return len(got) == 0
	}
	if want[0] == "..." {
		for i := 0; i <= len(got); i++ {
			if matchLines(want[1:], got[i:]) {
				return true
			}
		}
		return false
	}
	if len(got) == 0 {
		return false
	}
	re, err := lineRE(want[0])
	if err != nil || !re.MatchString(got[0]) {
		return false
	}
	return matchLines(want[1:], got[1:])
}

// A step is one command line of a console example and its output.
type step struct {
	line int // of the "$ " line, from 1
	cmd  string
	want []string
}

// parseConsole reads a console example: "$ " lines and their output.
func parseConsole(text string) ([]step, error) {
	var steps []step
	for i, l := range splitLines(text) {
		if cmd, ok := strings.CutPrefix(l, "$ "); ok {
			steps = append(steps, step{line: i + 1, cmd: cmd})
			continue
		}
		if len(steps) == 0 {
			return nil, fmt.Errorf("line %d: output before the first \"$ \" line", i+1)
		}
		steps[len(steps)-1].want = append(steps[len(steps)-1].want, l)
	}
	if len(steps) == 0 {
		return nil, fmt.Errorf("no \"$ \" line")
	}
	for i := range steps {
		steps[i].want = trimBlankEnd(steps[i].want)
	}
	return steps, nil
}

// splitLines splits text into lines without their ends, trailing blanks
// dropped.
func splitLines(text string) []string {
	text = strings.TrimSuffix(text, "\n")
	if text == "" {
		return nil
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t\r")
	}
	return lines
}

func trimBlankEnd(lines []string) []string {
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// console FILE runs the console example FILE (see the top of this file):
// each command line by sh, its output compared with the lines under it.
func cmdConsole(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: console FILE")
	}
	steps, err := parseConsole(ts.ReadFile(args[0]))
	if err != nil {
		ts.Fatalf("%s: %v", args[0], err)
	}
	for _, s := range steps {
		prelude := ""
		if !strings.ContainsAny(s.cmd, "|>") {
			prelude = "TPM_TERMINAL=1 NO_COLOR=1; export TPM_TERMINAL NO_COLOR\n"
		}
		// The braces take the command's comment, if any, and send both
		// streams to one pipe, in the order they were written.
		err := ts.Exec("sh", "-c", prelude+"{\n"+s.cmd+"\n} 2>&1")
		out := ts.ReadFile("stdout") + ts.ReadFile("stderr")
		if err != nil {
			ts.Fatalf("%s:%d: $ %s: %v (an example's command must exit 0)\n%s", args[0], s.line, s.cmd, err, out)
		}
		got := trimBlankEnd(splitLines(out))
		if !matchLines(s.want, got) {
			ts.Fatalf("%s:%d: $ %s\nwant:\n%s\ngot:\n%s", args[0], s.line, s.cmd,
				strings.Join(s.want, "\n"), strings.Join(got, "\n"))
		}
	}
}

// A block is a fenced block of a markdown page.
type block struct {
	file string
	line int // of the opening fence, from 1
	lang string
	text string
}

// docPages are the pages whose examples are checked.
func docPages(t *testing.T) []string {
	pages, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) == 0 {
		t.Fatal("no docs/*.md")
	}
	return append([]string{"README.md"}, pages...)
}

// blocks returns the fenced blocks of a page.
func blocks(t *testing.T, path string) []block {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []block
	var cur *block
	var text []string
	for i, l := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(l)
		if cur == nil {
			if lang, ok := strings.CutPrefix(trimmed, "```"); ok {
				cur = &block{file: path, line: i + 1, lang: strings.TrimSpace(lang)}
				text = nil
			}
			continue
		}
		if trimmed == "```" {
			cur.text = strings.Join(text, "\n") + "\n"
			out = append(out, *cur)
			cur = nil
			continue
		}
		text = append(text, l)
	}
	if cur != nil {
		t.Fatalf("%s:%d: a fenced block is never closed", path, cur.line)
	}
	return out
}

// consoleFile is a .console file of a doc script.
type consoleFile struct {
	script, name, text string
	run                bool // the script runs it with "console NAME"
}

func consoleFiles(t *testing.T) []consoleFile {
	scripts, err := filepath.Glob("testdata/scripts/doc_*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	var out []consoleFile
	for _, s := range scripts {
		a, err := txtar.ParseFile(s)
		if err != nil {
			t.Fatal(err)
		}
		runs := map[string]bool{}
		for _, l := range strings.Split(string(a.Comment), "\n") {
			f := strings.Fields(l)
			if len(f) >= 2 && f[len(f)-2] == "console" {
				runs[f[len(f)-1]] = true
			}
		}
		for _, f := range a.Files {
			if strings.HasSuffix(f.Name, ".console") {
				out = append(out, consoleFile{script: s, name: f.Name, text: string(f.Data), run: runs[f.Name]})
			}
		}
	}
	return out
}

// normalized is an example's text as compared: lines without trailing
// blanks, one final newline.
func normalized(text string) string {
	return strings.Join(splitLines(text), "\n") + "\n"
}

// TestDocExamples: every console block of the docs is a console file some
// doc script runs, and every such file is on a page.
func TestDocExamples(t *testing.T) {
	files := consoleFiles(t)
	used := make([]bool, len(files))
	for _, page := range docPages(t) {
		for _, b := range blocks(t, page) {
			if b.lang != "console" {
				for j, l := range strings.Split(b.text, "\n") {
					if strings.HasPrefix(l, "$ ") {
						t.Errorf("%s:%d: a ```%s block holds a command line %q: make it a ```console block, checked by a doc script",
							b.file, b.line+1+j, b.lang, l)
					}
				}
				continue
			}
			if _, err := parseConsole(b.text); err != nil {
				t.Errorf("%s:%d: console block: %v", b.file, b.line, err)
				continue
			}
			found := false
			for i, f := range files {
				if normalized(f.text) == normalized(b.text) {
					found, used[i] = true, true
				}
			}
			if !found {
				t.Errorf("%s:%d: this console block is in no testdata/scripts/doc_*.txtar as a .console file (copy it there, byte for byte, and run it with \"console FILE\")%s",
					b.file, b.line, nearest(b, files))
			}
		}
	}
	for i, f := range files {
		if !f.run {
			t.Errorf("%s: %s is never run (no \"console %s\" line)", f.script, f.name, f.name)
		}
		if !used[i] {
			t.Errorf("%s: %s is on no page of the docs (README.md, docs/*.md): remove it, or put it back where it was", f.script, f.name)
		}
	}
}

// nearest names the console file that starts like block b and where they
// part, to help whoever edited one of them.
func nearest(b block, files []consoleFile) string {
	bl := splitLines(b.text)
	for _, f := range files {
		fl := splitLines(f.text)
		if len(fl) == 0 || len(bl) == 0 || fl[0] != bl[0] {
			continue
		}
		for i := range max(len(fl), len(bl)) {
			var x, y string
			if i < len(bl) {
				x = bl[i]
			}
			if i < len(fl) {
				y = fl[i]
			}
			if x != y {
				return fmt.Sprintf("\n\t%s %s differs at its line %d:\n\tpage:   %q\n\tscript: %q", f.script, f.name, i+1, x, y)
			}
		}
	}
	return ""
}

// Examples of the check itself: it must be able to fail.
func TestConsoleMatch(t *testing.T) {
	tests := []struct {
		name      string
		want, got string
		ok        bool
	}{
		{"same", "a b\n", "a b\n", true},
		{"aligned columns", "NAME  PID\nweb   <pid>\n", "NAME PID\nweb\t48213\n", true},
		{"other text", "web-3000 stopped\n", "web-3000 not running\n", false},
		{"pid is a number", "pid=<pid>\n", "pid=abc\n", false},
		{"pid is not 0", "pid=<pid>\n", "pid=0\n", false},
		{"a line missing", "a\nb\n", "a\n", false},
		{"a line more", "a\n", "a\nb\n", false},
		{"dots match lines", "a\n...\nz\n", "a\nb\nc\nz\n", true},
		{"dots match none", "a\n...\nz\n", "a\nz\n", true},
		{"dots keep order", "a\n...\nz\n", "z\na\n", false},
		{"stamp", "<date> <time> event=start pid=<pid>\n", "2026-11-25 15:04:05 event=start pid=12\n", true},
		{"duration", "uptime=<dur>\n", "uptime=1m2.5s\n", true},
		{"not a duration", "uptime=<dur>\n", "uptime=soon\n", false},
		{"path", "script=<path>/web.sh\n", "script=/tmp/x y/web.sh\n", false},
		{"path in one word", "script=<path>/web.sh\n", "script=/tmp/x/web.sh\n", true},
		{"not a placeholder", "<html>\n", "<html>\n", true},
		{"regexp characters are text", "a.b (c)\n", "axb (c)\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := matchLines(splitLines(tt.want), splitLines(tt.got)); got != tt.ok {
				t.Errorf("match(%q, %q) = %v, want %v", tt.want, tt.got, got, tt.ok)
			}
		})
	}
}

// tableRows returns the rows under the first table of page whose header
// row starts with the cells header: each row's cells, backticks and
// blanks trimmed.
func tableRows(t *testing.T, page string, header ...string) [][]string {
	f, err := os.Open(page)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows [][]string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(l, "|") {
			if in {
				break
			}
			continue
		}
		cells := strings.Split(strings.Trim(l, "|"), "|")
		for i, c := range cells {
			cells[i] = strings.Trim(strings.TrimSpace(c), "`")
		}
		if !in {
			if len(cells) >= len(header) && slices.Equal(cells[:len(header)], header) {
				in = true
			}
			continue
		}
		if strings.Trim(cells[0], "-: ") == "" {
			continue // the separator row
		}
		rows = append(rows, cells)
	}
	if !in {
		t.Fatalf("%s: no table with the header %q", page, strings.Join(header, " | "))
	}
	return rows
}

// TestDocMetaKeys: docs/files.md's table of keys is lib/spec's, with the
// same owners.
func TestDocMetaKeys(t *testing.T) {
	rows := tableRows(t, "docs/files.md", "key", "owner", "meaning")
	doc := map[string]string{}
	for _, r := range rows {
		doc[r[0]] = r[1]
	}
	for _, k := range spec.Table {
		owner, ok := doc[k.Name]
		if !ok {
			t.Errorf("docs/files.md: the key %s (lib/spec, keys.go) is not in the table of keys", k.Name)
			continue
		}
		if owner != string(k.Owner) {
			t.Errorf("docs/files.md: %s is owned by %s, not %s", k.Name, k.Owner, owner)
		}
		delete(doc, k.Name)
	}
	for k := range doc {
		t.Errorf("docs/files.md: the table of keys has %s, which lib/spec's table (keys.go) has not", k)
	}
}

// TestDocStatuses: docs/supervision.md's table of statuses is lib/state's.
func TestDocStatuses(t *testing.T) {
	var doc []string
	for _, r := range tableRows(t, "docs/supervision.md", "status", "meaning") {
		doc = append(doc, r[0])
	}
	want := slices.Clone(state.Statuses)
	sort.Strings(doc)
	sort.Strings(want)
	if !slices.Equal(doc, want) {
		t.Errorf("docs/supervision.md: the statuses are %v; lib/state has %v", doc, want)
	}
}

// stringConsts returns the values of the string constants of a Go file,
// and the strings of the list assigned to the variable list when it is
// not "".
func stringConsts(t *testing.T, path, list string) (consts, vals []string) {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	str := func(e ast.Expr) (string, bool) {
		lit, ok := e.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(lit.Value)
		return s, err == nil
	}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, sp := range g.Specs {
			v, ok := sp.(*ast.ValueSpec)
			if !ok {
				continue
			}
			for i, val := range v.Values {
				if g.Tok == token.CONST {
					if s, ok := str(val); ok {
						consts = append(consts, s)
					}
				}
				if g.Tok == token.VAR && list != "" && v.Names[i].Name == list {
					if c, ok := val.(*ast.CompositeLit); ok {
						for _, e := range c.Elts {
							if s, ok := str(e); ok {
								vals = append(vals, s)
							}
						}
					}
				}
			}
		}
	}
	return consts, vals
}

// TestDocEventKinds: docs/files.md's table of events has every kind of
// lib/events, and no other.
func TestDocEventKinds(t *testing.T) {
	kinds, _ := stringConsts(t, "lib/events/events.go", "")
	var doc []string
	for _, r := range tableRows(t, "docs/files.md", "event", "fields", "when") {
		doc = append(doc, r[0])
	}
	sort.Strings(kinds)
	sort.Strings(doc)
	if !slices.Equal(doc, kinds) {
		t.Errorf("docs/files.md: the events table has %v; lib/events has %v", doc, kinds)
	}
}

// TestDocEcosystemFields: every field tpm knows (lib/ecosystem, apps.go,
// honoured) is in docs/ecosystem.md's table, as honoured, mapped or
// accepted (known, and of no effect: no warning); every field the table
// says so of is one tpm knows, and the others are ignored (with a warning).
func TestDocEcosystemFields(t *testing.T) {
	_, honoured := stringConsts(t, "lib/ecosystem/apps.go", "honoured")
	if len(honoured) == 0 {
		t.Fatal("lib/ecosystem/apps.go: no honoured list found")
	}
	doc := map[string]string{}
	fieldRE := regexp.MustCompile("`([a-z_<>A-Z]+)`")
	data, err := os.ReadFile("docs/ecosystem.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(l, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(l, "|"), "|")
		if len(cells) < 2 {
			continue
		}
		how := strings.Fields(strings.TrimSpace(cells[1]))
		if len(how) == 0 {
			continue
		}
		word := strings.Trim(how[0], ":,;.*")
		if !slices.Contains([]string{"honoured", "mapped", "accepted", "ignored"}, word) {
			t.Errorf("docs/ecosystem.md: %q: say honoured, mapped, accepted or ignored first", l)
		}
		for _, m := range fieldRE.FindAllStringSubmatch(cells[0], -1) {
			doc[m[1]] = word
		}
	}
	known := func(how string) bool { return how == "honoured" || how == "mapped" || how == "accepted" }
	for _, k := range honoured {
		switch how := doc[k]; {
		case known(how):
		case how == "":
			t.Errorf("docs/ecosystem.md: the field %s, which tpm uses, is not in the table", k)
		default:
			t.Errorf("docs/ecosystem.md: the field %s, which tpm uses, is said to be %q", k, doc[k])
		}
	}
	for k, how := range doc {
		if known(how) && !slices.Contains(honoured, k) && !strings.HasPrefix(k, "env_") {
			t.Errorf("docs/ecosystem.md: the field %s is said to be %s, but tpm does not use it (lib/ecosystem, apps.go)", k, how)
		}
	}
}

// models are the grammars the commands parse with (their Model, which the
// man pages are made from), by binary; tpm-supervise has none.
var models = map[string]func() (any, string){
	"tpm-clean":     cleancmd.Model,
	"tpm-ecosystem": ecocmd.Model,
	"tpm-export":    exportcmd.Model,
	"tpm-log":       logcmd.Model,
	"tpm-ls":        lscmd.Model,
	"tpm-meta":      metacmd.Model,
	"tpm-reload":    startcmd.ReloadModel,
	"tpm-restart":   startcmd.RestartModel,
	"tpm-serve":     servecmd.Model,
	"tpm-start":     startcmd.Model,
	"tpm-startup":   startupcmd.Model,
	"tpm-stop":      stopcmd.Model,
	"tpm-upgrade":   upgradecmd.Model,
}

// notOurs are flags the docs name that belong to other programs.
var notOurs = []string{
	"fd",         // uvicorn --fd 3
	"reuse-port", // gunicorn --reuse-port
	"version",    // tpm-supervise --version (it has no flag parser)
}

var flagRE = regexp.MustCompile(`(?:^|[^A-Za-z0-9_-])--([a-z][a-z0-9-]*)`)

// TestDocFlags: each --flag the docs name is a flag of a command (or of a
// program an example runs), and every binary of cmd/ has its section in
// docs/commands.md.
func TestDocFlags(t *testing.T) {
	have := map[string]bool{}
	for name, model := range models {
		grammar, _ := model()
		k, err := kong.New(grammar, kong.Name(name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, group := range k.Model.AllFlags(false) {
			for _, f := range group {
				have[f.Name] = true
			}
		}
	}
	for _, f := range notOurs {
		have[f] = true
	}
	for _, page := range docPages(t) {
		data, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range strings.Split(string(data), "\n") {
			for _, m := range flagRE.FindAllStringSubmatch(l, -1) {
				if !have[m[1]] {
					t.Errorf("%s:%d: --%s is a flag of no tpm command", page, i+1, m[1])
				}
			}
		}
	}

	bins, err := os.ReadDir("cmd")
	if err != nil {
		t.Fatal(err)
	}
	commands, err := os.ReadFile("docs/commands.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bins {
		if !bytes.Contains(commands, []byte("## `"+b.Name()+"`")) && !bytes.Contains(commands, []byte("`"+b.Name()+"`")) {
			t.Errorf("docs/commands.md does not name %s", b.Name())
		}
		if _, ok := models[b.Name()]; !ok && b.Name() != "tpm-supervise" {
			t.Errorf("%s: a binary this test does not know: add its Model to models", b.Name())
		}
	}
}

// TestSupervisorLinks keeps docs/design.md true: the supervisor's binary
// links neither the network package, nor the flag parser, nor
// encoding/json, nor the JavaScript engine.
func TestSupervisorLinks(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true and the go command is not on PATH")
		}
		t.Skip("no go command")
	}
	out, err := exec.Command("go", "list", "-deps", "./cmd/tpm-supervise").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	for _, banned := range []string{"net", "encoding/json", "github.com/alecthomas/kong", "github.com/dop251/goja"} {
		if slices.Contains(deps, banned) {
			t.Errorf("tpm-supervise links %s (docs/design.md says why it must not)", banned)
		}
	}
}

var linkRE = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// slug is the anchor a markdown heading gets: lower case, punctuation
// dropped, blanks made hyphens.
func slug(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}

// TestDocLinks: the docs stand alone. Every link of README.md and docs/ is
// to a file of the repository, and its #anchor to a heading of that file.
func TestDocLinks(t *testing.T) {
	anchors := func(path string) map[string]bool {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		out := map[string]bool{}
		fenced := false
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "```") {
				fenced = !fenced
			}
			if h, ok := strings.CutPrefix(l, "#"); ok && !fenced {
				out[slug(strings.TrimLeft(h, "#"))] = true
			}
		}
		return out
	}
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, page := range docPages(t) {
		data, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range strings.Split(string(data), "\n") {
			for _, m := range linkRE.FindAllStringSubmatch(l, -1) {
				target, anchor, _ := strings.Cut(m[1], "#")
				if strings.Contains(target, ":") || strings.HasPrefix(target, "/") {
					t.Errorf("%s:%d: %s: a link out of the repository", page, i+1, m[1])
					continue
				}
				path := page
				if target != "" {
					path = filepath.Join(filepath.Dir(page), target)
				}
				abs, err := filepath.Abs(path)
				if err != nil || !strings.HasPrefix(abs, root+string(filepath.Separator)) {
					t.Errorf("%s:%d: %s: a link out of the repository", page, i+1, m[1])
					continue
				}
				if _, err := os.Stat(path); err != nil {
					t.Errorf("%s:%d: %s: no such file", page, i+1, m[1])
					continue
				}
				if anchor != "" && !anchors(path)[anchor] {
					t.Errorf("%s:%d: %s: no heading #%s in %s", page, i+1, m[1], anchor, path)
				}
			}
		}
	}
}
