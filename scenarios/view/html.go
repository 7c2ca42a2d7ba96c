package view

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/replica-io/replica/checker"
	"github.com/replica-io/replica/sim/capsule"
)

//go:embed page.js
var pageJS string

//go:embed page.css
var pageCSS string

// WriteHTML writes the page: one self-contained HTML file, its style and script inline and
// the run as JSON beside them, nothing loaded from anywhere. The JSON escapes <, > and & (as
// encoding/json does), so no text of the run can close the script element it sits in; the
// script puts every text into the page as text, never as markup.
func (p *Page) WriteHTML(w io.Writer) error {
	data, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("page data: %w", err)
	}
	if bytes.Contains(data, []byte("</")) { // cannot happen with encoding/json; checked anyway
		return fmt.Errorf("page data holds markup")
	}
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	b.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	b.WriteString("<title>" + html.EscapeString(p.Title) + "</title>\n")
	b.WriteString("<style>\n" + pageCSS + "</style>\n</head>\n<body>\n")
	b.WriteString("<header id=\"head\"></header>\n<div id=\"controls\"></div>\n")
	b.WriteString("<div id=\"main\"><div id=\"diagram\"><div id=\"heads\"></div><svg id=\"svg\" xmlns=\"http://www.w3.org/2000/svg\"></svg></div><aside id=\"detail\"></aside></div>\n")
	b.WriteString("<noscript>This page draws the run with JavaScript; `replica show` prints it as text.</noscript>\n")
	b.WriteString("<script type=\"application/json\" id=\"replica-data\">")
	b.Write(data)
	b.WriteString("</script>\n<script>\n" + pageJS + "</script>\n</body>\n</html>\n")
	_, err = io.WriteString(w, b.String())
	return err
}

// Explain writes, beside the page at path, the files in which the run's checkers explain its
// violation (porcupine's visualization of a history that is not linearizable), and links the
// page to them. It returns the files written.
func (p *Page) Explain(path string) ([]string, error) {
	base := strings.TrimSuffix(path, filepath.Ext(path)) + ".capsule"
	var written []string
	for _, m := range p.monitors {
		e, ok := m.(checker.Explainer)
		if !ok {
			continue
		}
		paths, err := e.Explain(base)
		if err != nil {
			return written, err
		}
		written = append(written, paths...)
	}
	for _, w := range written {
		if strings.HasSuffix(w, ".linearizability.html") {
			p.Lin = filepath.Base(w)
		}
	}
	return written, nil
}

// WriteFile builds the page of the capsule at capsulePath and writes it to out, with the
// checkers' explanations beside it. It returns the page and the other files it wrote.
func WriteFile(capsulePath, out string) (*Page, []string, error) {
	c, err := capsule.Read(capsulePath)
	if err != nil {
		return nil, nil, err
	}
	p, err := Build(c, filepath.Base(capsulePath))
	if err != nil {
		return nil, nil, fmt.Errorf("capsule %s: %w", capsulePath, err)
	}
	extra, err := p.Explain(out)
	if err != nil {
		return nil, nil, err
	}
	var b bytes.Buffer
	if err := p.WriteHTML(&b); err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		return nil, nil, err
	}
	return p, extra, nil
}
