package serve

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"path"
	"strings"
)

// The page: plain HTML, CSS and JavaScript embedded in the binary, no build
// step and nothing fetched from elsewhere. It holds no data: it asks the API
// for everything, with the token the user types (kept in the tab's
// sessionStorage), so it is served without one.
//
//go:embed web
var web embed.FS

// pageCSP allows the page its own files and its own API, and nothing else:
// no inline script, no other origin, no framing.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

var staticTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
}

func (s *Server) static(w http.ResponseWriter, r *http.Request, p string) {
	if p == "/" {
		p = "/index.html"
	}
	// Only the files of web/ itself, by their names: nothing else of the
	// binary, and no path to clean.
	ctype, ok := staticTypes[path.Ext(p)]
	var data []byte
	if ok && !strings.Contains(p[1:], "/") {
		var err error
		data, err = web.ReadFile("web" + p)
		ok = err == nil
	} else {
		ok = false
	}
	if !ok {
		s.fail(w, http.StatusNotFound, "not found")
		return
	}
	if !methods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	sum := sha256.Sum256(data)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(data)
	}
}
