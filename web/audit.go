package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
	"unicode/utf8"
)

// The audit log of exports. Who took which data out of Vigie, and how
// much, is what an inquiry after an election asks first: every response
// that carries bulk data (cluster lists and records, graphs, post
// searches, alerts, trends, briefings, graph exports) is recorded before
// it is sent, as a structured line on a dedicated slog logger and a line
// of an append-only JSONL file. If the line cannot be written, the data
// is not sent.

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	Time     time.Time `json:"time"`
	Identity string    `json:"identity"`
	Role     string    `json:"role"`
	Via      string    `json:"via,omitempty"`
	Remote   string    `json:"remote,omitempty"`
	Method   string    `json:"method,omitempty"`
	// Endpoint is the route ("GET /api/clusters/{id}/graph") or, for the
	// command line, the command ("vigie graph export").
	Endpoint string            `json:"endpoint"`
	Path     string            `json:"path,omitempty"`
	Params   map[string]string `json:"params,omitempty"`
	// Records is how many records left: clusters, posts, alerts, trends.
	Records int `json:"records"`
	// Detail counts what the records held (members, edges, nodes).
	Detail map[string]int `json:"detail,omitempty"`
}

// AuditLog writes audit entries. The zero-path log writes to its logger
// only.
type AuditLog struct {
	mu   sync.Mutex
	path string
	f    *os.File
	log  *slog.Logger
}

// OpenAudit opens (creating, mode 0600) the append-only audit file at
// path; "" keeps the audit on log alone.
func OpenAudit(path string, log *slog.Logger) (*AuditLog, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a := &AuditLog{path: path, log: log}
	if path == "" {
		return a, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	a.f = f
	return a, nil
}

// Close closes the file.
func (a *AuditLog) Close() error {
	if a == nil || a.f == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	err := a.f.Close()
	a.f = nil
	return err
}

// Record writes e to the logger and, durably (fsync), to the file.
func (a *AuditLog) Record(e AuditEntry) error {
	if a == nil {
		return nil
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Time = e.Time.UTC()
	a.log.Info("audit: export", "identity", e.Identity, "role", e.Role, "via", e.Via, "remote", e.Remote,
		"endpoint", e.Endpoint, "params", e.Params, "records", e.Records, "detail", e.Detail)
	if a.path == "" {
		return nil
	}
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	line = append(line, '\n')
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil {
		return errors.New("audit log: closed")
	}
	if _, err := a.f.Write(line); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	if err := a.f.Sync(); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	return nil
}

// maxAuditLine bounds one line (parameters are cut to auditParamLen).
const maxAuditLine = 16 << 10

// Tail returns the last n entries, oldest first.
func (a *AuditLog) Tail(n int) ([]AuditEntry, error) {
	if a == nil || a.path == "" || n <= 0 {
		return []AuditEntry{}, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	f, err := os.Open(a.path)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	window := min(st.Size(), int64(n+1)*maxAuditLine)
	buf := make([]byte, window)
	if _, err := f.ReadAt(buf, st.Size()-window); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	lines := bytes.Split(bytes.TrimRight(buf, "\n"), []byte("\n"))
	if window < st.Size() && len(lines) > 0 {
		lines = lines[1:] // cut in the middle
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := make([]AuditEntry, 0, len(lines))
	for _, l := range lines {
		var e AuditEntry
		if len(l) == 0 || json.Unmarshal(l, &e) != nil {
			continue // a line torn by a crash mid-write
		}
		out = append(out, e)
	}
	return out, nil
}

// auditParamLen bounds each recorded parameter value.
const auditParamLen = 256

// audit records an export of records (with detail counts) answering r.
// It answers 500 itself and returns false when the entry cannot be
// written: then the data must not be sent.
func (s *Server) audit(w http.ResponseWriter, r *http.Request, records int, detail map[string]int) bool {
	if s.Access == nil {
		return true
	}
	id := IdentityFrom(r.Context())
	e := AuditEntry{Identity: id.Name, Role: id.Role.String(), Via: id.Via, Remote: s.Access.clientIP(r).String(),
		Method: r.Method, Endpoint: r.Pattern, Path: r.URL.Path, Records: records, Detail: detail}
	if e.Endpoint == "" {
		e.Endpoint = r.Method + " " + r.URL.Path
	}
	q := r.URL.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i == 20 {
			break
		}
		if e.Params == nil {
			e.Params = map[string]string{}
		}
		e.Params[cut(k, 64)] = cut(q.Get(k), auditParamLen)
	}
	if err := s.Access.audit.Record(e); err != nil {
		s.Log.Error("web: export refused: the audit log cannot be written", "err", err)
		writeJSON(w, http.StatusInternalServerError, apiError{Error: "internal error: the audit log cannot be written"})
		return false
	}
	return true
}

// cut shortens s to at most n bytes on a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// apiAudit serves GET /api/audit (admins): the newest entries, oldest
// first. Parameter limit: default 100, at most 1000.
func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request) {
	p := &params{r: r}
	limit := p.int("limit")
	if p.err == nil && (limit < 0 || limit > 1000) {
		p.err = &paramError{"limit", "must be between 0 and 1000"}
	}
	if p.err != nil {
		s.fail(w, r, p.err)
		return
	}
	if limit == 0 {
		limit = 100
	}
	entries, err := s.Access.audit.Tail(limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !s.audit(w, r, len(entries), nil) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": entries, "count": len(entries)})
}
