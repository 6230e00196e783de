// Package web serves Vigie's HTTP API and its analyst pages (pages.go,
// templates/). It reads through store.Reader only, so it works unchanged
// on the embedded store and on Elasticsearch. Every handler validates its
// parameters and answers 400 with an error naming the parameter, never
// 500, for bad input; templates escape all text, since the posts shown are
// written by the very people Vigie watches, and the CSP allows no inline
// script or style. The front-end script (web/ui, built into web/static)
// only adds the network picture and charts to pages that read fully
// without it.
package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigie-osint/vigie/alert"
	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/store"
)

//go:embed templates/*.html
var templateFS embed.FS

// LiveStats reports the pipeline's counters for /api/stats; nil when the
// server runs apart from the pipeline (`vigie serve`).
type LiveStats func() map[string]any

// Server is the HTTP API and UI.
type Server struct {
	Addr  string
	Store store.Reader
	Live  LiveStats
	Log   *slog.Logger
	Ready func() bool // nil = always ready
	// Metrics, when set, serves GET /metrics (package ops: Prometheus).
	Metrics http.Handler
	// Subscriptions, when set, serves the webhook subscriptions API
	// (subscriptions.go); APIToken must then be presented to change them.
	Subscriptions *alert.Registry
	APIToken      string
	// Access is the access control (auth.go): authentication, roles,
	// rate limits, CORS, CSRF and the audit log. Nil builds the open
	// loopback mode, with APIToken as the admin token.
	Access *Access
	tmpl   *template.Template
	static *staticFiles
	trends trendCache
	ln     net.Listener
	server *http.Server
}

// Handler builds the routes.
func (s *Server) Handler() http.Handler {
	if s.tmpl == nil {
		s.static = newStaticFiles()
		s.tmpl = template.Must(template.New("").Funcs(s.templateFuncs()).ParseFS(templateFS, "templates/*.html"))
	}
	if s.Access == nil {
		var tokens []Token
		if s.APIToken != "" {
			tokens = []Token{{Name: legacyTokenName, Role: RoleAdmin, Value: s.APIToken}}
		}
		a, err := NewAccess(AccessOptions{Tokens: tokens, Log: s.Log})
		if err != nil {
			panic(err) // no file to open, no key to read: cannot fail
		}
		s.Access = a
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", s.static)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /api/clusters", s.listClusters)
	mux.HandleFunc("GET /api/clusters/{id}", s.getCluster)
	mux.HandleFunc("GET /api/clusters/{id}/graph", s.getClusterGraph)
	mux.HandleFunc("GET /api/accounts/{key}", s.getAccount)
	mux.HandleFunc("GET /api/posts", s.searchPosts)
	mux.HandleFunc("GET /api/posts/{key}", s.getPost)
	mux.HandleFunc("GET /api/alerts", s.listAlerts)
	mux.HandleFunc("GET /api/stats", s.stats)
	// trends_api.go: narratives pushed by clusters.
	mux.HandleFunc("GET /api/trends", s.apiTrends)
	// export.go, audit.go, auth.go: graph export, the audit log, sign-in.
	mux.HandleFunc("GET /api/export/graph", s.apiExportGraph)
	mux.HandleFunc("GET /api/audit", s.apiAudit)
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	s.routeSubscriptions(mux) // subscriptions.go: webhooks and briefings API
	if s.Metrics != nil {
		mux.Handle("GET /metrics", s.Metrics)
	}
	// Analyst pages (pages.go).
	mux.HandleFunc("GET /{$}", s.overviewPage)
	mux.HandleFunc("GET /clusters/{id}", s.clusterPage)
	mux.HandleFunc("GET /accounts/{key}", s.accountPage)
	mux.HandleFunc("GET /posts", s.searchPage)
	mux.HandleFunc("GET /posts/{key}", s.postPage)
	mux.HandleFunc("GET /alerts", s.alertsPage)
	mux.HandleFunc("GET /briefings", s.briefingsPage)
	mux.HandleFunc("GET /briefings/{date}", s.briefingDocument)
	return securityHeaders(s.Access.wrap(mux))
}

// Listen binds the address; Serve then serves on it. Split so that callers
// (and tests) learn the bound address before serving.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("web: listen %s: %w", s.Addr, err)
	}
	s.ln = ln
	return nil
}

// BoundAddr is the address actually listened on.
func (s *Server) BoundAddr() string { return s.ln.Addr().String() }

// Serve serves until ctx is done, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context) error {
	if s.ln == nil {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	s.server = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- s.server.Serve(s.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("web: %w", err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := s.server.Shutdown(sctx)
		<-errc
		return err
	}
}

// CSP is the Content-Security-Policy of every answer. Text written by the
// accounts Vigie watches is shown on every page; should an escaping bug
// ever let markup through, this policy still keeps it from running.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Frame-Options", "DENY")
		// Strict: scripts and styles only from our own embedded files, no
		// inline script or style, no plug-ins, no framing, no foreign
		// requests. A handler may replace it with a stricter one.
		w.Header().Set("Content-Security-Policy", CSP)
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Cross-Origin-Opener-Policy", "same-origin")
		w.Header().Set("Cross-Origin-Resource-Policy", "same-origin")
		if strings.HasPrefix(r.URL.Path, "/api/") {
			// API answers may be personal data: no shared cache keeps them.
			w.Header().Set("Cache-Control", "no-store")
		}
		h.ServeHTTP(w, r)
	})
}

type apiError struct {
	Error string `json:"error"`
	Param string `json:"param,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// fail maps store errors to HTTP answers.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var qe *store.QueryError
	var pe *paramError
	switch {
	case errors.As(err, &pe):
		writeJSON(w, http.StatusBadRequest, apiError{Error: pe.Error(), Param: pe.param})
	case errors.As(err, &qe):
		writeJSON(w, http.StatusBadRequest, apiError{Error: qe.Error(), Param: qe.Field})
	case errors.Is(err, store.ErrNotFound):
		writeJSON(w, http.StatusNotFound, apiError{Error: "not found"})
	case errors.Is(err, context.Canceled):
	default:
		s.Log.Error("web: request failed", "path", r.URL.Path, "err", err)
		writeJSON(w, http.StatusInternalServerError, apiError{Error: "internal error"})
	}
}

type paramError struct {
	param, reason string
}

func (e *paramError) Error() string { return fmt.Sprintf("parameter %q: %s", e.param, e.reason) }

// params reads query parameters with typed accessors that record the
// first bad one.
type params struct {
	r   *http.Request
	err error
}

func (p *params) str(name string, maxLen int) string {
	v := p.r.URL.Query().Get(name)
	if len(v) > maxLen && p.err == nil {
		p.err = &paramError{name, fmt.Sprintf("longer than %d bytes", maxLen)}
	}
	return v
}

func (p *params) int(name string) int {
	v := p.r.URL.Query().Get(name)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil && p.err == nil {
		p.err = &paramError{name, "not an integer"}
	}
	return n
}

func (p *params) float(name string) float64 {
	v := p.r.URL.Query().Get(name)
	if v == "" {
		return 0
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil && p.err == nil {
		p.err = &paramError{name, "not a number"}
	}
	return x
}

func (p *params) time(name string) time.Time {
	v := p.r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		if d, derr := time.Parse("2006-01-02", v); derr == nil {
			return d
		}
		if p.err == nil {
			p.err = &paramError{name, "not an RFC 3339 time or a YYYY-MM-DD date"}
		}
	}
	return t
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.Ready != nil && !s.Ready() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "starting"})
		return
	}
	if _, err := s.Store.Stats(r.Context()); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "store unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) clusterQuery(r *http.Request) (store.ClusterQuery, error) {
	p := &params{r: r}
	q := store.ClusterQuery{
		Status:  p.str("status", 16),
		MinRisk: p.float("min_risk"),
		Since:   p.time("since"),
		Account: p.str("account", 300),
		Limit:   p.int("limit"),
		Offset:  p.int("offset"),
	}
	if p.err != nil {
		return q, p.err
	}
	return q.Normalized()
}

func (s *Server) listClusters(w http.ResponseWriter, r *http.Request) {
	q, err := s.clusterQuery(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cs, err := s.Store.ListClusters(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if cs == nil {
		cs = []store.ClusterSummary{}
	}
	if !s.audit(w, r, len(cs), nil) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"clusters": cs, "count": len(cs), "limit": q.Limit, "offset": q.Offset})
}

func (s *Server) getCluster(w http.ResponseWriter, r *http.Request) {
	c, err := s.Store.GetCluster(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !s.audit(w, r, 1, map[string]int{"members": len(c.Members), "edges": len(c.Edges), "posts": len(c.Posts)}) {
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request) {
	a, err := s.Store.GetAccount(r.Context(), r.PathValue("key"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) getPost(w http.ResponseWriter, r *http.Request) {
	p, err := s.Store.GetPost(r.Context(), r.PathValue("key"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) searchPosts(w http.ResponseWriter, r *http.Request) {
	p := &params{r: r}
	q := store.PostQuery{
		Text:     p.str("q", 1000),
		Author:   p.str("author", 300),
		Platform: post.Platform(p.str("platform", 32)),
		Hashtag:  p.str("hashtag", 300),
		From:     p.time("from"),
		To:       p.time("to"),
		Limit:    p.int("limit"),
		Offset:   p.int("offset"),
	}
	if p.err != nil {
		s.fail(w, r, p.err)
		return
	}
	posts, total, err := s.Store.SearchPosts(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if posts == nil {
		posts = []post.Post{}
	}
	if !s.audit(w, r, len(posts), map[string]int{"total": total}) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"posts": posts, "total": total})
}

func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) {
	p := &params{r: r}
	q := store.AlertQuery{ClusterID: p.str("cluster", 64), Since: p.time("since"), Limit: p.int("limit"), Offset: p.int("offset")}
	if p.err != nil {
		s.fail(w, r, p.err)
		return
	}
	as, err := s.Store.ListAlerts(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if as == nil {
		as = []post.Alert{}
	}
	if !s.audit(w, r, len(as), nil) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": as, "count": len(as)})
}

func (s *Server) stats(w http.ResponseWriter, r *http.Request) {
	st, err := s.Store.Stats(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := map[string]any{"store": st}
	if s.Live != nil {
		out["pipeline"] = s.Live()
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, data any) {
	var b strings.Builder
	if err := s.tmpl.ExecuteTemplate(&b, name, data); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}
