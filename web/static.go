package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

// staticFS holds the built front-end (web/static/dist, made by `make ui`
// from web/ui), the licences of the libraries it bundles, and the icon.
// The built files are committed, so `go build` needs no Node.js: only a
// change to web/ui needs `make ui` before building.
//
//go:embed static
var staticFS embed.FS

// staticFiles serves /static/ from the embedded files, held in memory
// with a gzip copy (the bundle is 491 kB, 168 kB gzipped). Each file's
// ETag is a hash of its content, and pages link the bundle with that hash
// as ?v=, so a browser caches it for good yet never runs a stale one after
// an upgrade.
type staticFiles struct {
	files map[string]*staticFile // path under static/
}

type staticFile struct {
	etag  string // quoted
	ctype string
	raw   []byte
	gz    []byte // nil when gzip does not pay
}

func newStaticFiles() *staticFiles {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	s := &staticFiles{files: map[string]*staticFile{}}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		h := sha256.Sum256(b)
		f := &staticFile{etag: `"` + hex.EncodeToString(h[:8]) + `"`, raw: b, ctype: mime.TypeByExtension(path.Ext(p))}
		if f.ctype == "" {
			f.ctype = "application/octet-stream"
		}
		var z bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
		_, _ = zw.Write(b)
		_ = zw.Close()
		if z.Len() < len(b)*9/10 {
			f.gz = z.Bytes()
		}
		s.files[p] = f
		return nil
	})
	if err != nil {
		panic(err) // embedded files always read
	}
	return s
}

// version is the cache-busting token of a static path ("dist/app.js").
func (s *staticFiles) version(p string) string {
	if f, ok := s.files[p]; ok {
		return strings.Trim(f.etag, `"`)
	}
	return ""
}

func (s *staticFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f, ok := s.files[strings.TrimPrefix(r.URL.Path, "/static/")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("ETag", f.etag) // http.ServeContent answers If-None-Match with 304
	h.Set("Content-Type", f.ctype)
	h.Set("Vary", "Accept-Encoding")
	if v := r.URL.Query().Get("v"); v != "" && v == strings.Trim(f.etag, `"`) {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	body := f.raw
	if f.gz != nil && acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		h.Set("ETag", strings.TrimSuffix(f.etag, `"`)+`-gz"`) // another representation, another tag
		body = f.gz
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}
