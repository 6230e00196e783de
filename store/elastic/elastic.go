// Package elastic is Vigie's store at scale: a store.Store on an
// Elasticsearch cluster, behind the same interfaces as the embedded SQLite
// store and held to the same conformance suite (store/storetest), so the
// API, the UI and the stages do not know which one they use. Kibana reads
// the same indices.
//
// Layout (prefix "vigie" by default; templates/*.json, embedded in the
// binary and installed by Open and by `vigie es setup`):
//
//   - posts: one index per UTC day of post time, vigie-posts-YYYY.MM.DD,
//     read through the pattern vigie-posts-* (alias vigie-posts). _id is
//     the post key. 7.17 without x-pack has neither data streams nor ILM,
//     so retention is deleting old daily indices.
//   - vigie-accounts, vigie-clusters (membership in members, edges with
//     evidence), vigie-alerts, vigie-briefings, vigie-checkpoints: one
//     document per stable ID.
//
// Semantics that need care on Elasticsearch:
//
//   - Writes go through the bulk API (bulk.go): bounded requests, retries
//     of 429 and 5xx items with backoff, per-item results. A Put returns
//     only when every item is acknowledged, and an acknowledged write is
//     durable (index.translog.durability=request, the default), so the
//     index stage can commit its offsets after it.
//   - "Never roll back" rules (clusters by Detected, alerts by Time,
//     account snapshots by observation time) use external_gte versioning,
//     since scripted updates need the painless module, which a server
//     built from Maven Central lacks.
//   - Full-text search matches the embedded store's FTS5 rules exactly:
//     the store tokenizes in Go (terms.go) and Elasticsearch indexes the
//     tokens with its whitespace analyzer.
//   - Exact time filters and ordering use Unix-nanosecond long fields
//     (vigie.time_ns...): Elasticsearch dates hold milliseconds.
//   - Searches see writes after a refresh (1 s by default, or at once with
//     WithRefresh); gets by ID are realtime.
package elastic

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/elastic/go-elasticsearch/v8"

	"github.com/vigie-osint/vigie/store"
)

//go:embed templates/*.json
var templateFS embed.FS

// Kinds of index, in the order Setup installs them. Every name is the
// template file's base name and the index's suffix after the prefix.
const (
	kindPosts       = "posts"
	kindAccounts    = "accounts"
	kindClusters    = "clusters"
	kindAlerts      = "alerts"
	kindBriefings   = "briefings"
	kindCheckpoints = "checkpoints"
)

var kinds = []string{kindPosts, kindAccounts, kindClusters, kindAlerts, kindBriefings, kindCheckpoints}

// DefaultPrefix starts every index and template name.
const DefaultPrefix = "vigie"

// Store is a store.Store on Elasticsearch. It is safe for concurrent use.
type Store struct {
	es     *elasticsearch.Client
	prefix string
	log    *slog.Logger
	opts   options

	// recent remembers the daily post indices written in the last
	// recentWindow, which a post lookup checks with realtime gets: a
	// search does not see writes until the next refresh.
	mu     sync.Mutex
	recent map[string]time.Time

	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// Config says how to reach the cluster. Secrets are never logged.
type Config struct {
	URLs     []string
	Username string
	Password string
	APIKey   string // base64 "id:key", as Elasticsearch issues it
	CACert   []byte // PEM, for a cluster with its own CA
}

type options struct {
	log          *slog.Logger
	prefix       string
	refresh      string // "", "wait_for" or "true"
	bulkBytes    int
	bulkActions  int
	maxAttempts  int
	backoff      time.Duration
	maxBackoff   time.Duration
	setup        bool
	recentWindow time.Duration
	transport    http.RoundTripper
	// lazyIndices leaves the fixed indices to be created by their first
	// write (from the templates), as after an index was deleted. Tests use
	// it: creating five indices per test doubles the suite's time.
	lazyIndices bool
}

// withLazyIndices: see options.lazyIndices.
func withLazyIndices() Option { return func(o *options) { o.lazyIndices = true } }

// Option configures Open.
type Option func(*options)

// WithLogger sets the logger; the default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithPrefix sets the prefix of every index and template name (default
// "vigie"). Tests give each store its own prefix.
func WithPrefix(p string) Option { return func(o *options) { o.prefix = p } }

// WithRefresh sets the bulk refresh policy: "" (default: writes become
// searchable within the index refresh interval, 1 s), "wait_for" (a Put
// returns once its writes are searchable) or "true" (force a refresh; for
// tests only, it costs a Lucene segment per Put).
func WithRefresh(policy string) Option { return func(o *options) { o.refresh = policy } }

// WithBulkLimits bounds one bulk request, in bytes of NDJSON and in
// actions (defaults 5 MiB and 1,000). A batch larger than that is sent as
// several requests, one at a time, so memory stays bounded.
func WithBulkLimits(bytes, actions int) Option {
	return func(o *options) { o.bulkBytes, o.bulkActions = bytes, actions }
}

// WithRetry sets how often an item refused with 429 or 5xx is retried and
// the first backoff (doubled each time, at most 10 s). Defaults: 8
// attempts, 100 ms.
func WithRetry(attempts int, backoff time.Duration) Option {
	return func(o *options) { o.maxAttempts, o.backoff = attempts, backoff }
}

// WithoutSetup skips installing templates and indices in Open, for a
// process whose credentials may only read and write documents (run
// `vigie es setup` once with an administrator's).
func WithoutSetup() Option { return func(o *options) { o.setup = false } }

// WithTransport replaces the HTTP transport (tests).
func WithTransport(rt http.RoundTripper) Option { return func(o *options) { o.transport = rt } }

// Open connects to the cluster, checks that it is Elasticsearch (the
// client's product check) and, unless WithoutSetup, installs the index
// templates and creates the fixed indices.
func Open(ctx context.Context, cfg Config, opts ...Option) (*Store, error) {
	o := options{
		log: slog.Default(), prefix: DefaultPrefix, bulkBytes: 5 << 20, bulkActions: 1000,
		maxAttempts: 8, backoff: 100 * time.Millisecond, maxBackoff: 10 * time.Second,
		setup: true, recentWindow: 10 * time.Second,
	}
	for _, opt := range opts {
		opt(&o)
	}
	switch {
	case len(cfg.URLs) == 0:
		return nil, errors.New("elastic: open: no URL")
	case o.prefix == "" || o.prefix != strings.ToLower(o.prefix) || strings.ContainsAny(o.prefix, `\/*?"<>| ,#:`):
		return nil, fmt.Errorf("elastic: open: prefix %q must be a lower-case index name part", o.prefix)
	case o.refresh != "" && o.refresh != "wait_for" && o.refresh != "true" && o.refresh != "false":
		return nil, fmt.Errorf("elastic: open: refresh %q must be empty, false, wait_for or true", o.refresh)
	case o.bulkBytes < 1 || o.bulkActions < 1 || o.maxAttempts < 1:
		return nil, errors.New("elastic: open: bulk limits and attempts must be positive")
	}
	if o.refresh == "false" {
		o.refresh = ""
	}
	escfg := elasticsearch.Config{
		Addresses: cfg.URLs,
		Username:  cfg.Username,
		Password:  cfg.Password,
		APIKey:    cfg.APIKey,
		CACert:    cfg.CACert,
		Transport: o.transport,
		// The transport retries whole requests on these (and on network
		// errors); bulk items refused inside a 200 are retried by bulk().
		RetryOnStatus: []int{429, 502, 503, 504},
		MaxRetries:    5,
		RetryBackoff: func(attempt int) time.Duration {
			return min(o.backoff<<min(attempt, 10), o.maxBackoff)
		},
	}
	es, err := elasticsearch.NewClient(escfg)
	if err != nil {
		return nil, fmt.Errorf("elastic: open: %w", err)
	}
	s := &Store{es: es, prefix: o.prefix, log: o.log.With("store", "elasticsearch", "prefix", o.prefix), opts: o, recent: map[string]time.Time{}}
	// The first request runs the client's product check: a server that is
	// not Elasticsearch (OpenSearch, a proxy's error page) is refused here.
	var info struct {
		Version struct {
			Number string `json:"number"`
		} `json:"version"`
	}
	if err := s.do(ctx, http.MethodGet, "/", nil, nil, &info); err != nil {
		s.Close()
		return nil, fmt.Errorf("elastic: open %s: %w", strings.Join(cfg.URLs, ","), err)
	}
	s.log.Debug("connected", "version", info.Version.Number)
	if o.setup {
		if err := s.Setup(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// Close closes the client's connections. Closing twice is harmless.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.es.Close(ctx); err != nil && !errors.Is(err, elasticsearch.ErrAlreadyClosed) {
			s.closeErr = fmt.Errorf("elastic: close: %w", err)
		}
	})
	return s.closeErr
}

// index names.
func (s *Store) index(kind string) string { return s.prefix + "-" + kind }

// postsPattern matches every daily posts index.
func (s *Store) postsPattern() string { return s.prefix + "-posts-*" }

// postIndex is the daily index of a post time.
func (s *Store) postIndex(t time.Time) string {
	return s.prefix + "-posts-" + t.UTC().Format("2006.01.02")
}

// Templates returns the index templates as Setup installs them for prefix,
// by template name, with index patterns and aliases renamed from the
// "vigie" of the embedded files.
func Templates(prefix string) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, kind := range kinds {
		raw, err := templateFS.ReadFile("templates/" + kind + ".json")
		if err != nil {
			return nil, fmt.Errorf("elastic: template %s: %w", kind, err)
		}
		var t map[string]any
		if err := json.Unmarshal(raw, &t); err != nil {
			return nil, fmt.Errorf("elastic: template %s: %w", kind, err)
		}
		rename := func(name string) string {
			return prefix + strings.TrimPrefix(name, DefaultPrefix)
		}
		if pats, ok := t["index_patterns"].([]any); ok {
			for i, p := range pats {
				pats[i] = rename(p.(string))
			}
		}
		if tmpl, ok := t["template"].(map[string]any); ok {
			if aliases, ok := tmpl["aliases"].(map[string]any); ok {
				renamed := map[string]any{}
				for k, v := range aliases {
					renamed[rename(k)] = v
				}
				tmpl["aliases"] = renamed
			}
		}
		b, err := json.MarshalIndent(t, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("elastic: template %s: %w", kind, err)
		}
		out[prefix+"-"+kind] = b
	}
	return out, nil
}

// Setup installs (or updates) the index templates, creates the fixed
// indices that do not exist, and brings the mappings of existing ones up
// to date with the templates (new fields only: a changed field type needs
// a reindex, and Elasticsearch refuses it with a message that says so).
// It is idempotent.
func (s *Store) Setup(ctx context.Context) error {
	tmpls, err := Templates(s.prefix)
	if err != nil {
		return err
	}
	for _, kind := range kinds {
		name := s.index(kind)
		body := tmpls[name]
		if err := s.do(ctx, http.MethodPut, "/_index_template/"+url.PathEscape(name), nil, body, nil); err != nil {
			return fmt.Errorf("elastic: setup: template %s: %w", name, err)
		}
		if kind == kindPosts || s.opts.lazyIndices {
			continue // daily indices are created by the first write of a day
		}
		err := s.do(ctx, http.MethodPut, "/"+url.PathEscape(name), nil, nil, nil)
		var ee *Error
		switch {
		case err == nil:
			s.log.Info("created index", "index", name)
			continue
		case errors.As(err, &ee) && ee.Type == "resource_already_exists_exception":
		default:
			return fmt.Errorf("elastic: setup: create index %s: %w", name, err)
		}
		var t struct {
			Template struct {
				Mappings json.RawMessage `json:"mappings"`
			} `json:"template"`
		}
		if err := json.Unmarshal(body, &t); err != nil {
			return fmt.Errorf("elastic: setup: template %s: %w", name, err)
		}
		if err := s.do(ctx, http.MethodPut, "/"+url.PathEscape(name)+"/_mapping", nil, t.Template.Mappings, nil); err != nil {
			return fmt.Errorf("elastic: setup: update mapping of %s: %w", name, err)
		}
	}
	return nil
}

// Refresh makes every write searchable now. The conformance suite calls it
// after each write (storetest.Refresher); production relies on the
// refresh interval or WithRefresh.
func (s *Store) Refresh(ctx context.Context) error {
	q := url.Values{"ignore_unavailable": {"true"}, "allow_no_indices": {"true"}}
	if err := s.do(ctx, http.MethodPost, "/"+s.prefix+"-*/_refresh", q, nil, nil); err != nil {
		return fmt.Errorf("elastic: refresh: %w", err)
	}
	return nil
}

// DeleteAll deletes every index and template of the store's prefix (tests
// and benchmarks clean up with it).
func (s *Store) DeleteAll(ctx context.Context) error {
	q := url.Values{"ignore_unavailable": {"true"}, "allow_no_indices": {"true"}, "expand_wildcards": {"all"}}
	if err := s.do(ctx, http.MethodDelete, "/"+s.prefix+"-*", q, nil, nil); err != nil {
		return fmt.Errorf("elastic: delete indices: %w", err)
	}
	for _, kind := range kinds {
		err := s.do(ctx, http.MethodDelete, "/_index_template/"+url.PathEscape(s.index(kind)), nil, nil, nil)
		var ee *Error
		if err != nil && !(errors.As(err, &ee) && ee.Status == http.StatusNotFound) {
			return fmt.Errorf("elastic: delete template: %w", err)
		}
	}
	return nil
}

// Error is an error answer of Elasticsearch.
type Error struct {
	Status int
	Type   string
	Reason string
}

func (e *Error) Error() string {
	if e.Type == "" {
		return fmt.Sprintf("HTTP %d: %s", e.Status, e.Reason)
	}
	return fmt.Sprintf("HTTP %d: %s: %s", e.Status, e.Type, e.Reason)
}

// maxErrorBody bounds how much of an error answer is read into a message.
const maxErrorBody = 64 << 10

// do sends one request and decodes a 2xx JSON answer into out (when not
// nil). Other statuses give an *Error. ctx's cancellation is returned
// wrapped, so errors.Is(err, context.Canceled) holds.
func (s *Store) do(ctx context.Context, method, path string, query url.Values, body []byte, out any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	u := path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	if body != nil {
		ct := "application/json"
		if strings.HasSuffix(path, "/_bulk") {
			ct = "application/x-ndjson"
		}
		req.Header.Set("Content-Type", ct)
	}
	res, err := s.es.Perform(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s %s: %w", method, path, context.Cause(ctx))
		}
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(res.Body, maxErrorBody))
		return fmt.Errorf("%s %s: %w", method, path, parseError(res.StatusCode, b))
	}
	if out == nil {
		_, err := io.Copy(io.Discard, res.Body)
		return err
	}
	dec := json.NewDecoder(res.Body)
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s %s: %w", method, path, context.Cause(ctx))
		}
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

func parseError(status int, b []byte) *Error {
	var e struct {
		Error json.RawMessage `json:"error"`
	}
	out := &Error{Status: status}
	if json.Unmarshal(b, &e) == nil && len(e.Error) > 0 {
		var obj struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		}
		if json.Unmarshal(e.Error, &obj) == nil && obj.Type != "" {
			out.Type, out.Reason = obj.Type, obj.Reason
			return out
		}
		var str string
		if json.Unmarshal(e.Error, &str) == nil {
			out.Reason = str
			return out
		}
	}
	out.Reason = strings.TrimSpace(string(b))
	if len(out.Reason) > 300 {
		out.Reason = out.Reason[:300] + "…"
	}
	return out
}

// docID gives the _id of a stable key. Elasticsearch refuses IDs over 512
// bytes; longer keys (never seen in practice, but platform IDs are not
// ours to bound) are hashed, deterministically.
func docID(key string) string {
	if len(key) <= 512 {
		return key
	}
	h := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(h[:])
}

// nanos gives t as Unix nanoseconds, clamped to the int64 range, like the
// embedded store: the zero time sorts first.
func nanos(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// version is the external version of a record stamped t. It is at least
// 1, the internal version of a document made by a create (an account seen
// before any profile), so that a snapshot always replaces such a
// document; times before 1970 thus share version 1 (the later write wins).
func version(t time.Time) int64 { return max(nanos(t), 1) }

// markRecent notes that a daily posts index was just written.
func (s *Store) markRecent(indices ...string) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ix := range indices {
		s.recent[ix] = now
	}
	for ix, at := range s.recent {
		if now.Sub(at) > s.opts.recentWindow {
			delete(s.recent, ix)
		}
	}
}

// recentIndices lists the daily posts indices written lately, sorted.
func (s *Store) recentIndices() []string {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for ix, at := range s.recent {
		if now.Sub(at) <= s.opts.recentWindow {
			out = append(out, ix)
		}
	}
	slices.Sort(out)
	return out
}
