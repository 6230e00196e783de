// Package mastodon reads posts from a Mastodon instance, live through the
// streaming API's server-sent events (Stream) or back in time through the
// REST timelines (Backfill). Both implement ingest.Source and yield
// normalised posts; see status.go for the ID scheme.
//
// A source is named by the endpoint it reads, as Mastodon documents it:
//
//	https://mastodon.social/api/v1/streaming/public            live, federated
//	https://mastodon.social/api/v1/streaming/public/local      live, local
//	https://mastodon.social/api/v1/streaming/hashtag?tag=x     live, one hashtag
//	https://mastodon.social/api/v1/streaming/user              live, home (needs a user token)
//	https://mastodon.social/api/v1/timelines/public?since=2024-06-01T00:00:00Z
//	https://mastodon.social/api/v1/timelines/tag/x?max_posts=5000
//
// Two query parameters are Vigie's, not Mastodon's, and are not sent:
// since (RFC 3339 time; a backfill stops at older statuses) and max_posts.
//
// Note that Mastodon's public and hashtag streams and timelines never
// carry boosts (and public ones carry no replies to others): reposts
// reach Vigie only through the user (home) and list endpoints.
package mastodon

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigie-osint/vigie/ingest"
)

// Environment variables holding the OAuth token. The token is read from
// the environment or a file, never from the source URL, so it never
// appears in a log line, a checkpoint name or a dead-letter record.
const (
	TokenEnv     = "VIGIE_MASTODON_TOKEN"
	TokenFileEnv = "VIGIE_MASTODON_TOKEN_FILE"
)

// Config configures a Stream or a Backfill. Zero values are defaults.
type Config struct {
	// URL is the streaming or timelines endpoint (see the package doc).
	URL string
	// Token is an OAuth bearer token. It is sent only over HTTPS (or to
	// loopback) and never logged.
	Token string
	// Instance is the observing instance's name: the prefix of status
	// keys and the domain of its local accounts. Default: URL's host
	// name. Set it when the instance's account domain differs from its
	// web host (LOCAL_DOMAIN vs WEB_DOMAIN).
	Instance string
	// Since stops a backfill at the first status created before it.
	Since time.Time
	// MaxPosts stops a backfill after that many statuses (0: no limit).
	MaxPosts int
	// CatchUp bounds how many statuses a stream fetches over REST, after
	// a reconnection or a restart, to fill what it missed while
	// disconnected (0: 400; negative: never).
	CatchUp int
	// MaxEventBytes bounds one event or status (0: ingest.MaxLineBytes).
	MaxEventBytes int
	// MinBackoff and MaxBackoff bound the delay between reconnections
	// and retries (0: 1s and 2m). A server's "retry:" replaces MinBackoff.
	MinBackoff, MaxBackoff time.Duration
	// MaxRetries is how many failed requests in a row end a backfill
	// (0: 8).
	MaxRetries int
	// IdleTimeout drops a stream that sent nothing, not even a heartbeat,
	// for that long (0: 90s; Mastodon sends one every 15s or so).
	IdleTimeout time.Duration
	// RequestTimeout bounds one REST request (0: 30s).
	RequestTimeout time.Duration
	// Client makes the requests (nil: a client with sane timeouts).
	Client *http.Client
	Log    *slog.Logger
	// Now and Sleep are the clock and the waiting, replaced in tests.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// LogValue keeps the token out of logs even when a Config is logged whole.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("url", c.URL), slog.Bool("token", c.Token != ""),
		slog.String("instance", c.Instance))
}

// endpoint is what a Config's URL names.
type endpoint struct {
	base      *url.URL // scheme://host of the instance
	u         *url.URL // the endpoint, without Vigie's own parameters
	streaming bool
	// timeline is the REST timeline matching a stream, for catching up
	// after a reconnection ("" when there is none).
	timeline *url.URL
}

func (c *Config) setDefaults() error {
	if c.URL == "" {
		return fmt.Errorf("mastodon: no URL")
	}
	if c.MaxEventBytes <= 0 {
		c.MaxEventBytes = ingest.MaxLineBytes
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 2 * time.Minute
	}
	if c.MaxRetries <= 0 {
		c.MaxRetries = 8
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 90 * time.Second
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 30 * time.Second
	}
	if c.CatchUp == 0 {
		c.CatchUp = 400
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = sleepCtx
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Client == nil {
		c.Client = &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   15 * time.Second,
			ResponseHeaderTimeout: 30 * time.Second,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		}}
	}
	return nil
}

// parseEndpoint checks the URL and tells a stream from a timeline.
func (c *Config) parseEndpoint() (endpoint, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return endpoint{}, fmt.Errorf("mastodon: URL %q: %w", c.URL, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return endpoint{}, fmt.Errorf("mastodon: URL %q: want an https://instance/api/v1/ endpoint", c.URL)
	}
	q := u.Query()
	if q.Has("access_token") {
		return endpoint{}, fmt.Errorf("mastodon: URL carries an access_token; put the token in %s or %s so it is never logged",
			TokenEnv, TokenFileEnv)
	}
	if c.Token != "" && u.Scheme != "https" && !isLoopback(u.Hostname()) {
		return endpoint{}, fmt.Errorf("mastodon: refusing to send the token over plain HTTP to %s", u.Host)
	}
	if c.Instance == "" {
		c.Instance = strings.ToLower(u.Hostname())
	}
	ep := endpoint{base: &url.URL{Scheme: u.Scheme, Host: u.Host}, u: u}
	path := strings.TrimSuffix(u.Path, "/")
	switch {
	case strings.HasPrefix(path, "/api/v1/streaming/") || path == "/api/v1/streaming":
		ep.streaming = true
		ep.timeline = catchUpTimeline(ep.base, path, q)
	case strings.HasPrefix(path, "/api/v1/timelines/"):
	default:
		return endpoint{}, fmt.Errorf("mastodon: URL %q: not a streaming (/api/v1/streaming/...) or timelines (/api/v1/timelines/...) endpoint", c.URL)
	}
	return ep, nil
}

// catchUpTimeline is the REST timeline holding what a stream carries, or
// nil when there is none.
func catchUpTimeline(base *url.URL, path string, q url.Values) *url.URL {
	t := *base
	tq := url.Values{}
	stream := strings.TrimPrefix(path, "/api/v1/streaming")
	switch stream {
	case "/public", "/public/local", "/public/remote":
		t.Path = "/api/v1/timelines/public"
		if strings.HasSuffix(stream, "/local") {
			tq.Set("local", "true")
		}
		if strings.HasSuffix(stream, "/remote") {
			tq.Set("remote", "true")
		}
		if q.Get("only_media") != "" {
			tq.Set("only_media", q.Get("only_media"))
		}
	case "/hashtag", "/hashtag/local":
		tag := q.Get("tag")
		if tag == "" {
			return nil
		}
		t.Path = "/api/v1/timelines/tag/" + url.PathEscape(tag)
		if stream == "/hashtag/local" {
			tq.Set("local", "true")
		}
	case "/user":
		t.Path = "/api/v1/timelines/home"
	case "/list":
		list := q.Get("list")
		if list == "" {
			return nil
		}
		t.Path = "/api/v1/timelines/list/" + url.PathEscape(list)
	default:
		return nil
	}
	t.RawQuery = tq.Encode()
	return &t
}

// New returns the source cfg.URL names: a *Stream for a streaming
// endpoint, a *Backfill for a timeline. from is a saved Position (zero to
// start afresh).
func New(cfg Config, from ingest.Position) (ingest.Source, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	ep, err := cfg.parseEndpoint()
	if err != nil {
		return nil, err
	}
	if ep.streaming {
		return newStream(cfg, ep, from), nil
	}
	return newBackfill(cfg, ep, from)
}

// Open opens the source named by name, a Mastodon endpoint URL (see the
// package doc), reading the token from $VIGIE_MASTODON_TOKEN or the file
// named by $VIGIE_MASTODON_TOKEN_FILE. It connects lazily: the first Next
// does.
func Open(ctx context.Context, name string, from ingest.Position) (ingest.Source, error) {
	cfg, err := ParseName(name)
	if err != nil {
		return nil, err
	}
	if cfg.Token, err = tokenFromEnv(); err != nil {
		return nil, err
	}
	return New(cfg, from)
}

// ParseName turns a source name into a Config, taking Vigie's own
// parameters (since, max_posts) out of the URL.
func ParseName(name string) (Config, error) {
	u, err := url.Parse(strings.TrimSpace(name))
	if err != nil {
		return Config{}, fmt.Errorf("mastodon: source %q: %w", name, err)
	}
	var cfg Config
	q := u.Query()
	if s := q.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return Config{}, fmt.Errorf("mastodon: source %q: since: want an RFC 3339 time: %w", name, err)
		}
		cfg.Since = t
	}
	if s := q.Get("max_posts"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return Config{}, fmt.Errorf("mastodon: source %q: max_posts: want a count, got %q", name, s)
		}
		cfg.MaxPosts = n
	}
	q.Del("since")
	q.Del("max_posts")
	u.RawQuery = q.Encode()
	cfg.URL = u.String()
	return cfg, nil
}

func tokenFromEnv() (string, error) {
	if t := strings.TrimSpace(os.Getenv(TokenEnv)); t != "" {
		return t, nil
	}
	if f := os.Getenv(TokenFileEnv); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			// The path is not secret; the content is never shown.
			return "", fmt.Errorf("mastodon: token file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return "", nil
}

// Stats counts what a source read. Skipped events are not errors, but
// they are counted, so that nothing disappears unseen.
type Stats struct {
	Events     int64            // stream events or REST statuses read
	Posts      int64            // posts returned
	Rejected   int64            // records returned as *ingest.RecordError
	Skipped    map[string]int64 // by reason: "delete", "notification", "duplicate", ...
	Reconnects int64
	Heartbeats int64
	Requests   int64 // REST requests
	RateWaits  int64 // waits for a rate-limit window
}

type stats struct {
	mu sync.Mutex
	s  Stats
}

func (st *stats) add(f func(*Stats)) {
	st.mu.Lock()
	f(&st.s)
	st.mu.Unlock()
}

// maxSkipReasons bounds the skip counters: event types come from the
// server, and a hostile one could send endless new ones.
const maxSkipReasons = 64

func (st *stats) skip(reason string) {
	st.add(func(s *Stats) {
		if s.Skipped == nil {
			s.Skipped = map[string]int64{}
		}
		if _, ok := s.Skipped[reason]; !ok && len(s.Skipped) >= maxSkipReasons {
			reason = "other"
		}
		s.Skipped[reason]++
	})
}

func (st *stats) snapshot() Stats {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := st.s
	out.Skipped = make(map[string]int64, len(st.s.Skipped))
	for k, v := range st.s.Skipped {
		out.Skipped[k] = v
	}
	return out
}

// idLess orders Mastodon IDs: snowflakes as numbers, others (ULIDs)
// as strings of equal length.
func idLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// clip bounds raw bytes kept in a RecordError.
func clip(b []byte) []byte {
	if len(b) > ingest.MaxLineBytes {
		b = b[:ingest.MaxLineBytes]
	}
	return append([]byte(nil), b...)
}
