package main

import (
	_ "embed"
	"fmt"
	"strings"
)

// overviewSource is tpm(7), in the plain text the descriptions are written
// in (paragraphs; indented two-column tables become tagged lists), plus:
//
//	# TITLE        a section
//	## Title       a subsection
//	{{commands}}   every command and what it does (the NAME line of its page)
//	{{see also}}   a reference to every command's page
//
// the last two alone in their paragraph.
//
//go:embed tpm.7.txt
var overviewSource string

// overviewPage is tpm(7).
func overviewPage(names []string) ([]byte, error) {
	summaries := map[string]string{}
	for _, c := range commands {
		app, err := model(c)
		if err != nil {
			return nil, err
		}
		summaries[c.name] = summary(app.Help)
	}

	p := &page{}
	p.b.WriteString(header)
	p.macro("TH", "TPM", "7", "", "tpm", "tpm manual")
	p.settings()
	var body []string
	flush := func() {
		p.text(paragraphs(strings.Join(body, "\n")))
		body = nil
	}
	for l := range strings.SplitSeq(overviewSource, "\n") {
		switch {
		case strings.HasPrefix(l, "# "):
			flush()
			p.section(strings.TrimPrefix(l, "# "))
		case strings.HasPrefix(l, "## "):
			flush()
			p.macro("SS", esc(strings.TrimPrefix(l, "## ")))
			p.fresh = true
		case l == "{{commands}}":
			flush()
			var rows []row
			for _, n := range names {
				rows = append(rows, row{tag: n, text: []string{summaries[n]}})
			}
			p.list(rows, bold)
		case l == "{{see also}}":
			flush()
			var refs []string
			for _, n := range names {
				refs = append(refs, n+"(1)")
			}
			seeAlso(p, refs)
		case strings.HasPrefix(l, "{{"):
			return nil, fmt.Errorf("tpm.7.txt: unknown %s", l)
		default:
			body = append(body, l)
		}
	}
	flush()
	return p.b.Bytes(), nil
}
