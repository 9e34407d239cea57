package ecosystem

// ES module syntax, rewritten as CommonJS.
//
// goja runs scripts, not modules, so a config written as an ES module
// (export default {...}, export const apps = [...], import path from 'path')
// is rewritten before it is compiled. The rewrite works on tokens, never on
// raw text, so that an "export" inside a string, a template literal, a
// regular expression or a comment is left alone, and it keeps every line
// where it was, so that errors still point at the right line of the file.
//
// What the rewrite makes of a module:
//
//	import x from 'm'             const x = __tpm_default(require('m'))
//	import * as x from 'm'        const x = __tpm_ns(require('m'))
//	import { a, b as c } from 'm' const { a, b: c } = __tpm_ns(require('m'))
//	import 'm'                    require('m')
//	export default EXPR           exports.default = EXPR
//	export const|let|var|function|class ...   the declaration, and a getter
//	export { a, b as c }          getters on exports
//	export ... from 'm'           require('m') and getters
//	import.meta                   __tpm_meta
//
// (The code written calls require and exports by private names,
// __tpm_require and __tpm_exports, since a module may declare its own
// require, as with createRequire.) Getters make the exports live bindings,
// as in a real module; they are installed by a prologue the loader puts in
// front of the module's first line. The exports object is marked
// __esModule, so that the loader and __tpm_default can tell a module's
// default export from module.exports.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/parser"
)

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tPunct
	tString
	tTemplate
	tRegex
	tNumber
)

type token struct {
	kind       tokKind
	start, end int
	depth      int  // brackets open before the token
	nl         bool // a line break comes between the previous token and this one
	open       bool // a template part that ends with "${"
}

// lex splits src into tokens. It knows just enough of JavaScript to find
// where strings, templates, regular expressions and comments start and
// end; it never fails: what it cannot read becomes a punctuator, and the
// real parser reports the error later.
func lex(src string) []token {
	l := &lexer{src: src}
	var toks []token
	for {
		t := l.next()
		toks = append(toks, t)
		if t.kind == tEOF {
			return toks
		}
		l.prev2, l.prev = l.prev, t
	}
}

type lexer struct {
	src         string
	pos         int
	stack       []byte // '(', '[', '{', or '$' for a template substitution
	prev, prev2 token
}

func (l *lexer) text(t token) string { return l.src[t.start:t.end] }

func (l *lexer) next() token {
	nl := l.skipSpace()
	t := token{start: l.pos, depth: len(l.stack), nl: nl}
	if l.pos >= len(l.src) {
		t.kind = tEOF
		t.end = l.pos
		return t
	}
	c := l.src[l.pos]
	switch {
	case identStart(c):
		l.pos++
		for l.pos < len(l.src) && identPart(l.src[l.pos]) {
			l.pos++
		}
		t.kind = tIdent
	case c >= '0' && c <= '9' || c == '.' && l.pos+1 < len(l.src) && isDigit(l.src[l.pos+1]):
		l.number()
		t.kind = tNumber
	case c == '"' || c == '\'':
		l.quoted(c)
		t.kind = tString
	case c == '`':
		l.pos++
		t.kind = tTemplate
		t.open = l.template()
	case c == '}' && len(l.stack) > 0 && l.stack[len(l.stack)-1] == '$':
		l.stack = l.stack[:len(l.stack)-1]
		t.depth--
		l.pos++
		t.kind = tTemplate
		t.open = l.template()
	case c == '/' && l.regexAllowed():
		l.regex()
		t.kind = tRegex
	default:
		t.kind = tPunct
		switch {
		case c == '(' || c == '[' || c == '{':
			l.stack = append(l.stack, c)
		case c == ')' || c == ']' || c == '}':
			if len(l.stack) > 0 {
				l.stack = l.stack[:len(l.stack)-1]
				t.depth--
			}
		case (c == '+' || c == '-') && l.pos+1 < len(l.src) && l.src[l.pos+1] == c:
			l.pos++ // ++ and -- are one token: a / after them divides
		}
		l.pos++
	}
	t.end = l.pos
	return t
}

// skipSpace skips white space and comments and reports whether a line
// break was among them.
func (l *lexer) skipSpace() bool {
	nl := false
	if l.pos == 0 && strings.HasPrefix(l.src, "#!") {
		l.pos = lineEnd(l.src, 0)
	}
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == '\n' || c == '\r':
			nl = true
			l.pos++
		case c == ' ' || c == '\t' || c == '\f' || c == '\v':
			l.pos++
		case c == '/' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '/':
			l.pos = lineEnd(l.src, l.pos)
		case c == '/' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '*':
			end := strings.Index(l.src[l.pos+2:], "*/")
			if end < 0 {
				l.pos = len(l.src)
				return nl
			}
			if strings.ContainsAny(l.src[l.pos:l.pos+2+end], "\n\r") {
				nl = true
			}
			l.pos += 2 + end + 2
		case c >= 0x80:
			r, size := utf8.DecodeRuneInString(l.src[l.pos:])
			switch {
			case r == '\u2028' || r == '\u2029':
				nl = true
			case r == '\ufeff' || unicode.Is(unicode.Zs, r):
			default:
				return nl
			}
			l.pos += size
		default:
			return nl
		}
	}
	return nl
}

func lineEnd(s string, i int) int {
	if j := strings.IndexAny(s[i:], "\n\r"); j >= 0 {
		return i + j
	}
	return len(s)
}

func identStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '$' || c == '\\' || c >= 0x80
}

func identPart(c byte) bool { return identStart(c) || isDigit(c) }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (l *lexer) number() {
	start := l.pos
	hex := strings.HasPrefix(l.src[start:], "0x") || strings.HasPrefix(l.src[start:], "0X")
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case identPart(c) || c == '.':
			l.pos++
		case (c == '+' || c == '-') && !hex && (l.src[l.pos-1] == 'e' || l.src[l.pos-1] == 'E'):
			l.pos++
		default:
			return
		}
	}
}

func (l *lexer) quoted(q byte) {
	l.pos++
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		l.pos++
		switch c {
		case '\\':
			l.pos++
		case q, '\n':
			return
		}
	}
	l.pos = min(l.pos, len(l.src))
}

// template scans a template literal from just after its opening ` or } to
// its end, and reports whether it stopped at a substitution.
func (l *lexer) template() bool {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		l.pos++
		switch c {
		case '\\':
			l.pos++
		case '`':
			return false
		case '$':
			if l.pos < len(l.src) && l.src[l.pos] == '{' {
				l.pos++
				l.stack = append(l.stack, '$')
				return true
			}
		}
	}
	l.pos = min(l.pos, len(l.src))
	return false
}

func (l *lexer) regex() {
	l.pos++
	class := false
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		l.pos++
		switch {
		case c == '\\':
			l.pos++
		case c == '\n':
			return
		case c == '[':
			class = true
		case c == ']':
			class = false
		case c == '/' && !class:
			for l.pos < len(l.src) && identPart(l.src[l.pos]) {
				l.pos++
			}
			return
		}
	}
	l.pos = min(l.pos, len(l.src))
}

// keywordsBeforeExpr are the words after which a / starts a regular
// expression rather than a division.
var keywordsBeforeExpr = []string{
	"return", "typeof", "instanceof", "in", "of", "new", "delete", "void",
	"throw", "case", "do", "else", "yield", "await",
}

// regexAllowed decides whether a / at the cursor starts a regular
// expression, from the token before it. After ) or ] it divides; after }
// it is taken as a regular expression (a block ended), the rarer mistake.
func (l *lexer) regexAllowed() bool {
	p := l.prev
	switch p.kind {
	case tEOF:
		return true
	case tPunct:
		switch l.text(p) {
		case ")", "]", "++", "--":
			return false
		}
		return true
	case tTemplate:
		return p.open
	case tIdent:
		if l.prev2.kind == tPunct && l.text(l.prev2) == "." {
			return false
		}
		return slices.Contains(keywordsBeforeExpr, l.text(p))
	}
	return false
}

// esmResult is a module rewritten as CommonJS.
type esmResult struct {
	src      string
	isModule bool   // it had import or export declarations
	prologue string // code for the module's first line: the export getters
}

// esmError is an import or export the rewrite cannot read.
type esmError struct {
	offset int
	msg    string
}

func (e *esmError) Error() string { return e.msg }

type edit struct {
	start, end int
	text       string
}

type exportName struct {
	name string // as exported
	expr string // the expression that reads it
}

type esm struct {
	src     string
	toks    []token
	edits   []edit
	decls   []int // offsets of exported declarations
	exports []exportName
	module  bool
	ns      int // modules required so far, for unique names
}

// transformESM rewrites the ES module syntax of src (see the file comment).
// A script without any comes back unchanged.
func transformESM(src string) (esmResult, error) {
	e := &esm{src: src, toks: lex(src)}
	for i := 0; i < len(e.toks); i++ {
		t := e.toks[i]
		if t.kind != tIdent || i > 0 && e.isPunct(i-1, ".") {
			continue
		}
		var err error
		switch e.text(i) {
		case "import":
			switch {
			case e.isPunct(i+1, ".") && e.isIdent(i+2, "meta"):
				e.edits = append(e.edits, edit{t.start, e.toks[i+2].end, "__tpm_meta"})
				i += 2
			case t.depth == 0 && !e.isPunct(i+1, "("):
				i, err = e.importDecl(i)
			}
		case "export":
			if t.depth == 0 {
				i, err = e.exportDecl(i)
			}
		}
		if err != nil {
			return esmResult{}, err
		}
	}
	if len(e.edits) == 0 && !e.module {
		return esmResult{src: src}, nil
	}
	out, decls := e.apply()
	res := esmResult{src: out, isModule: e.module}
	if e.module {
		names := slices.Clone(e.exports)
		for _, n := range declaredNames(out, decls) {
			names = append(names, exportName{n, n})
		}
		var b strings.Builder
		b.WriteString(`__tpm_export(__tpm_exports, {`)
		for i, n := range names {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s: () => %s", strconv.Quote(n.name), n.expr)
		}
		b.WriteString("});")
		res.prologue = b.String()
	}
	return res, nil
}

func (e *esm) text(i int) string {
	if i >= len(e.toks) {
		return ""
	}
	return e.src[e.toks[i].start:e.toks[i].end]
}

func (e *esm) isPunct(i int, s string) bool {
	return i < len(e.toks) && e.toks[i].kind == tPunct && e.text(i) == s
}

func (e *esm) isIdent(i int, s string) bool {
	return i < len(e.toks) && e.toks[i].kind == tIdent && e.text(i) == s
}

func (e *esm) fail(i int, format string, args ...any) error {
	off := len(e.src)
	if i < len(e.toks) {
		off = e.toks[i].start
	}
	return &esmError{offset: off, msg: fmt.Sprintf(format, args...)}
}

// binding reads a name to bind: an identifier.
func (e *esm) binding(i int) (string, error) {
	if i >= len(e.toks) || e.toks[i].kind != tIdent {
		return "", e.fail(i, "SyntaxError: expected a name, found %q", e.text(i))
	}
	return e.text(i), nil
}

// moduleName reads the 'm' of from 'm'.
func (e *esm) moduleName(i int) (string, int, error) {
	if !e.isIdent(i, "from") {
		return "", i, e.fail(i, "SyntaxError: expected from, found %q", e.text(i))
	}
	if i+1 >= len(e.toks) || e.toks[i+1].kind != tString {
		return "", i, e.fail(i+1, "SyntaxError: expected a module name after from")
	}
	return e.text(i + 1), i + 2, nil
}

// tail skips import attributes (with { type: 'json' }) and a semicolon,
// and returns the index of the last token of the statement.
func (e *esm) tail(i int) int {
	if (e.isIdent(i, "with") || e.isIdent(i, "assert") && !e.toks[i].nl) && e.isPunct(i+1, "{") {
		d := e.toks[i+1].depth
		j := i + 2
		for j < len(e.toks) && !(e.isPunct(j, "}") && e.toks[j].depth == d) {
			j++
		}
		i = j + 1
	}
	if e.isPunct(i, ";") {
		return i
	}
	return i - 1
}

// specifiers reads { a, b as c, 'd' as e } from the { at i; it returns
// (imported or local, bound or exported) pairs and the index after the }.
func (e *esm) specifiers(i int) ([][2]string, int, error) {
	var out [][2]string
	i++
	for !e.isPunct(i, "}") {
		if i >= len(e.toks) || e.toks[i].kind != tIdent && e.toks[i].kind != tString {
			return nil, i, e.fail(i, "SyntaxError: unexpected %q in an import or export list", e.text(i))
		}
		from := e.text(i)
		if e.toks[i].kind == tString {
			s, err := strconv.Unquote(jsStringToGo(from))
			if err != nil {
				return nil, i, e.fail(i, "SyntaxError: bad name %s", from)
			}
			from = s
		}
		to := from
		i++
		if e.isIdent(i, "as") {
			t := e.text(i + 1)
			if i+1 >= len(e.toks) || e.toks[i+1].kind != tIdent && e.toks[i+1].kind != tString {
				return nil, i, e.fail(i+1, "SyntaxError: expected a name after as")
			}
			if e.toks[i+1].kind == tString {
				s, err := strconv.Unquote(jsStringToGo(t))
				if err != nil {
					return nil, i, e.fail(i+1, "SyntaxError: bad name %s", t)
				}
				t = s
			}
			to = t
			i += 2
		}
		out = append(out, [2]string{from, to})
		if e.isPunct(i, ",") {
			i++
		} else if !e.isPunct(i, "}") {
			return nil, i, e.fail(i, "SyntaxError: expected , or } in an import or export list, found %q", e.text(i))
		}
	}
	return out, i + 1, nil
}

// jsStringToGo turns a single-quoted JavaScript string into a double-quoted
// one strconv can read.
func jsStringToGo(s string) string {
	if len(s) >= 2 && s[0] == '\'' {
		body := strings.ReplaceAll(s[1:len(s)-1], `\'`, `'`)
		body = strings.ReplaceAll(body, `"`, `\"`)
		return `"` + body + `"`
	}
	return s
}

func (e *esm) newNS() string {
	e.ns++
	return "__tpm_m" + strconv.Itoa(e.ns)
}

func (e *esm) replace(first, last int, text string) {
	e.edits = append(e.edits, edit{e.toks[first].start, e.toks[last].end, text})
}

func (e *esm) importDecl(i int) (int, error) {
	e.module = true
	j := i + 1
	if j < len(e.toks) && e.toks[j].kind == tString {
		mod := e.text(j)
		last := e.tail(j + 1)
		e.replace(i, last, "__tpm_require("+mod+");")
		return last, nil
	}
	var def, star string
	var specs [][2]string
	var err error
	if j < len(e.toks) && e.toks[j].kind == tIdent && !e.isIdent(j, "from") {
		def = e.text(j)
		j++
		if e.isPunct(j, ",") {
			j++
		}
	}
	switch {
	case e.isPunct(j, "*"):
		if !e.isIdent(j+1, "as") {
			return i, e.fail(j+1, "SyntaxError: expected as after import *")
		}
		if star, err = e.binding(j + 2); err != nil {
			return i, err
		}
		j += 3
	case e.isPunct(j, "{"):
		if specs, j, err = e.specifiers(j); err != nil {
			return i, err
		}
	case def == "":
		return i, e.fail(j, "SyntaxError: unexpected %q after import", e.text(j))
	}
	mod, j, err := e.moduleName(j)
	if err != nil {
		return i, err
	}
	last := e.tail(j)
	m := e.newNS()
	var b strings.Builder
	fmt.Fprintf(&b, "const %s = __tpm_require(%s);", m, mod)
	if def != "" {
		fmt.Fprintf(&b, " const %s = __tpm_default(%s);", def, m)
	}
	if star != "" {
		fmt.Fprintf(&b, " const %s = __tpm_ns(%s);", star, m)
	}
	if specs != nil {
		b.WriteString(" const {")
		for k, s := range specs {
			if k > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, " %s: %s", strconv.Quote(s[0]), s[1])
		}
		fmt.Fprintf(&b, " } = __tpm_ns(%s);", m)
	}
	e.replace(i, last, b.String())
	return last, nil
}

func (e *esm) exportDecl(i int) (int, error) {
	e.module = true
	j := i + 1
	switch {
	case e.isIdent(j, "default"):
		k := j + 1
		if e.isIdent(k, "async") && e.isIdent(k+1, "function") && !e.toks[k+1].nl {
			k++
		}
		name := ""
		switch {
		case e.isIdent(k, "function"):
			n := k + 1
			if e.isPunct(n, "*") {
				n++
			}
			if n < len(e.toks) && e.toks[n].kind == tIdent {
				name = e.text(n)
			}
		case e.isIdent(k, "class"):
			if k+1 < len(e.toks) && e.toks[k+1].kind == tIdent && !e.isIdent(k+1, "extends") {
				name = e.text(k + 1)
			}
		}
		if name != "" {
			// A named declaration stays one, so that the module can use
			// the name; the default export reads it.
			e.edits = append(e.edits, edit{e.toks[i].start, e.toks[j+1].start, blank(e.src[e.toks[i].start:e.toks[j+1].start])})
			e.exports = append(e.exports, exportName{"default", name})
			return j, nil
		}
		e.replace(i, j, "__tpm_exports.default =")
		return j, nil
	case e.isIdent(j, "const") || e.isIdent(j, "let") || e.isIdent(j, "var") ||
		e.isIdent(j, "function") || e.isIdent(j, "class") || e.isIdent(j, "async"):
		e.edits = append(e.edits, edit{e.toks[i].start, e.toks[j].start, blank(e.src[e.toks[i].start:e.toks[j].start])})
		e.decls = append(e.decls, e.toks[j].start)
		return j, nil
	case e.isPunct(j, "*"):
		m := e.newNS()
		if e.isIdent(j+1, "as") {
			t := e.text(j + 2)
			if j+2 >= len(e.toks) || e.toks[j+2].kind != tIdent && e.toks[j+2].kind != tString {
				return i, e.fail(j+2, "SyntaxError: expected a name after export * as")
			}
			if e.toks[j+2].kind == tString {
				s, err := strconv.Unquote(jsStringToGo(t))
				if err != nil {
					return i, e.fail(j+2, "SyntaxError: bad name %s", t)
				}
				t = s
			}
			mod, k, err := e.moduleName(j + 3)
			if err != nil {
				return i, err
			}
			last := e.tail(k)
			e.replace(i, last, fmt.Sprintf("const %s = __tpm_ns(__tpm_require(%s));", m, mod))
			e.exports = append(e.exports, exportName{t, m})
			return last, nil
		}
		mod, k, err := e.moduleName(j + 1)
		if err != nil {
			return i, err
		}
		last := e.tail(k)
		e.replace(i, last, fmt.Sprintf("__tpm_star(__tpm_exports, __tpm_require(%s));", mod))
		return last, nil
	case e.isPunct(j, "{"):
		specs, k, err := e.specifiers(j)
		if err != nil {
			return i, err
		}
		if e.isIdent(k, "from") {
			mod, k2, err := e.moduleName(k)
			if err != nil {
				return i, err
			}
			last := e.tail(k2)
			m := e.newNS()
			e.replace(i, last, fmt.Sprintf("const %s = __tpm_ns(__tpm_require(%s));", m, mod))
			for _, s := range specs {
				e.exports = append(e.exports, exportName{s[1], m + "[" + strconv.Quote(s[0]) + "]"})
			}
			return last, nil
		}
		last := e.tail(k)
		for _, s := range specs {
			e.exports = append(e.exports, exportName{s[1], s[0]})
		}
		e.replace(i, last, "")
		return last, nil
	}
	return i, e.fail(j, "SyntaxError: unexpected %q after export", e.text(j))
}

// blank replaces s with spaces, keeping its line breaks.
func blank(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c != '\n' && c != '\r' {
			b[i] = ' '
		}
	}
	return string(b)
}

// apply makes the edits; each keeps the line breaks of the text it
// replaces, so that every later line stays where it was. It returns the
// new source and the offsets of the exported declarations in it.
func (e *esm) apply() (string, []int) {
	slices.SortFunc(e.edits, func(a, b edit) int { return a.start - b.start })
	var b strings.Builder
	var decls []int
	pos, delta, d := 0, 0, 0
	for _, ed := range e.edits {
		for d < len(e.decls) && e.decls[d] < ed.start {
			decls = append(decls, e.decls[d]+delta)
			d++
		}
		b.WriteString(e.src[pos:ed.start])
		text := ed.text
		if old := e.src[ed.start:ed.end]; strings.ContainsAny(old, "\n\r") && !strings.ContainsAny(text, "\n\r") {
			text += strings.Repeat("\n", strings.Count(strings.ReplaceAll(old, "\r\n", "\n"), "\n")+
				strings.Count(strings.ReplaceAll(old, "\r\n", ""), "\r"))
		}
		b.WriteString(text)
		delta += len(text) - (ed.end - ed.start)
		pos = ed.end
	}
	for ; d < len(e.decls); d++ {
		decls = append(decls, e.decls[d]+delta)
	}
	b.WriteString(e.src[pos:])
	return b.String(), decls
}

// declaredNames returns the names declared by the top-level statements of
// src that start at the offsets decls. The source is parsed for this, so
// that destructuring (export const { a, b: [c] } = x) needs no parser of
// its own; if it does not parse, the compiler will say why soon enough.
func declaredNames(src string, decls []int) []string {
	if len(decls) == 0 {
		return nil
	}
	prg, err := parser.ParseFile(nil, "", src, 0, parser.WithDisableSourceMaps)
	if err != nil {
		return nil
	}
	var names []string
	for _, st := range prg.Body {
		start, end := int(st.Idx0())-1, int(st.Idx1())-1
		if !slices.ContainsFunc(decls, func(d int) bool { return d >= start && d < end }) {
			continue
		}
		switch s := st.(type) {
		case *ast.VariableStatement:
			for _, b := range s.List {
				bindingNames(b.Target, &names)
			}
		case *ast.LexicalDeclaration:
			for _, b := range s.List {
				bindingNames(b.Target, &names)
			}
		case *ast.FunctionDeclaration:
			if s.Function.Name != nil {
				names = append(names, s.Function.Name.Name.String())
			}
		case *ast.ClassDeclaration:
			if s.Class.Name != nil {
				names = append(names, s.Class.Name.Name.String())
			}
		}
	}
	return names
}

func bindingNames(n ast.Node, out *[]string) {
	switch n := n.(type) {
	case *ast.Identifier:
		*out = append(*out, n.Name.String())
	case *ast.ObjectPattern:
		for _, p := range n.Properties {
			switch p := p.(type) {
			case *ast.PropertyShort:
				*out = append(*out, p.Name.Name.String())
			case *ast.PropertyKeyed:
				bindingNames(p.Value, out)
			}
		}
		if n.Rest != nil {
			bindingNames(n.Rest, out)
		}
	case *ast.ArrayPattern:
		for _, el := range n.Elements {
			if el != nil {
				bindingNames(el, out)
			}
		}
		if n.Rest != nil {
			bindingNames(n.Rest, out)
		}
	case *ast.AssignExpression:
		bindingNames(n.Left, out)
	}
}
