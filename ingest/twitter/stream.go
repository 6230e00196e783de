package twitter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	//lint:ignore SA1019 go-twitter is frozen (the v1.1 API it speaks is too); it is kept for its stream framing and message types, and connecting is Vigie's own (see Stream).
	gotwitter "github.com/dghubble/go-twitter/twitter"
	"github.com/dghubble/oauth1"

	"github.com/vigie-osint/vigie/ingest"
	"github.com/vigie-osint/vigie/post"
)

// DefaultStreamURL is the v1.1 public streaming API, go-twitter's base.
const DefaultStreamURL = "https://stream.twitter.com/1.1/"

// DefaultStallTimeout is how long a connection may stay silent before it
// is dropped and reopened. Twitter sends a keep-alive newline every 30 s
// and documents 90 s as the stall timeout.
const DefaultStallTimeout = 90 * time.Second

// StreamConfig configures a v1.1 filter stream.
type StreamConfig struct {
	// Track, Follow, Locations and Language are statuses/filter's
	// predicates (Follow takes user IDs). At least one of Track, Follow
	// and Locations is required.
	Track     []string
	Follow    []string
	Locations []string
	Language  []string
	// Credentials sign every connection (OAuth1 user context).
	Credentials Credentials
	// BaseURL replaces DefaultStreamURL (tests point it at a loopback
	// server); it must end with the API version's "/".
	BaseURL string
	// Transport sends the requests; nil uses a fresh http.Transport.
	Transport http.RoundTripper
	// StallTimeout defaults to DefaultStallTimeout.
	StallTimeout time.Duration
	// Log receives connection events (never credentials); nil uses
	// slog.Default().
	Log *slog.Logger
}

// Stream is the v1.1 statuses/filter stream as an ingest.Source. Framing
// and message decoding are go-twitter's; connecting is Vigie's, because
// go-twitter's own reconnect loop does not follow Twitter's rules and
// cannot be configured (its backoffs are built inside newStream):
//
//   - it stops for good on any TCP/IP error (client.Do failing) instead of
//     backing off linearly, and on any HTTP status but 200, 420, 429 and
//     503, without telling the caller;
//   - its exponential backoffs are randomised (±50 %), and
//     cenkalti/backoff gives up after 15 minutes of retries, which ends
//     the stream;
//   - it has no stall timeout, and its Stop races with the goroutine that
//     sets the body it closes.
//
// So the HTTP client handed to go-twitter has a RoundTripper that retries
// inside RoundTrip with the documented backoff (see backoff.go) until it
// gets a 200, and returns an error only when the stream is closed or the
// status says retrying is pointless (401, 403, 404, 406, 413, 416). go-
// twitter never sees a non-200 answer; when a body ends it calls the
// client again, and the RoundTripper reconnects at once if that
// connection had delivered data, or backs off if it had not. Stop is
// never called: Close cancels the context under every request and drains
// Messages until go-twitter closes it.
//
// Position's Cursor is the ID of the last tweet returned. The v1.1 filter
// stream cannot replay, so a restarted stream resumes from now, not from
// the cursor; the cursor tells an operator where the gap starts.
type Stream struct {
	cfg     StreamConfig
	name    string
	log     *slog.Logger
	ctx     context.Context
	cancel  context.CancelFunc
	rt      *reconnector
	own     *http.Transport // the transport NewStream made, closed by Close
	once    sync.Once
	msgs    <-chan any
	openErr error

	seq    int64 // messages received, for naming records
	lastID string
	fatal  error

	mu      sync.Mutex
	skipped Skipped
}

// NewStream checks cfg and returns a stream that connects on the first
// Next.
func NewStream(cfg StreamConfig) (*Stream, error) {
	if len(cfg.Track) == 0 && len(cfg.Follow) == 0 && len(cfg.Locations) == 0 {
		return nil, errors.New("twitter stream: need at least one of track, follow, locations")
	}
	if m := cfg.Credentials.missing(); len(m) > 0 {
		return nil, fmt.Errorf("twitter stream: credentials missing %s", strings.Join(m, ", "))
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultStreamURL
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("twitter stream: base URL %q: want http(s)://host/path/", cfg.BaseURL)
	}
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = DefaultStallTimeout
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	var own *http.Transport
	if cfg.Transport == nil {
		own = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 30 * time.Second,
			ForceAttemptHTTP2:     false, // the v1.1 stream is HTTP/1.1 chunked
		}
		cfg.Transport = own
	}
	log := cfg.Log.With("source", "twitter-stream")
	ctx, cancel := context.WithCancel(context.Background())
	oc := oauth1.NewConfig(cfg.Credentials.ConsumerKey, cfg.Credentials.ConsumerSecret)
	signed := oauth1.NewClient(context.WithValue(ctx, oauth1.HTTPClient, &http.Client{Transport: cfg.Transport}),
		oc, oauth1.NewToken(cfg.Credentials.AccessToken, cfg.Credentials.AccessSecret))
	s := &Stream{
		cfg: cfg, name: base.String() + "statuses/filter.json", log: log, ctx: ctx, cancel: cancel,
		own: own, skipped: Skipped{},
	}
	s.rt = &reconnector{
		ctx: ctx, next: signed.Transport, base: base, stall: cfg.StallTimeout,
		sleep: sleepCtx, log: log,
	}
	return s, nil
}

func (s *Stream) start() {
	s.once.Do(func() {
		client := gotwitter.NewClient(&http.Client{Transport: s.rt})
		st, err := client.Streams.Filter(&gotwitter.StreamFilterParams{
			Track: s.cfg.Track, Follow: s.cfg.Follow, Locations: s.cfg.Locations, Language: s.cfg.Language,
			StallWarnings: gotwitter.Bool(true),
		})
		if err != nil {
			s.openErr = fmt.Errorf("twitter stream: %w", err)
			return
		}
		s.msgs = st.Messages
		s.log.Info("twitter stream starting", "url", s.name, "track", len(s.cfg.Track), "follow", len(s.cfg.Follow))
	})
}

// Next returns the next tweet. Notices (delete, limit, warning,
// disconnect...) are counted and logged, not returned. A message that is
// not valid JSON or not a valid tweet is a *ingest.RecordError whose Line
// is the message's number since the stream started. Next ends only with
// ctx's error, or a fatal error when Twitter refuses the connection for
// good (*HTTPError: bad credentials, unknown endpoint...).
func (s *Stream) Next(ctx context.Context) (post.Post, error) {
	if s.ctx.Err() != nil && s.fatal == nil {
		s.fatal = errors.New("twitter stream: closed")
	}
	s.start()
	if s.openErr != nil {
		return post.Post{}, s.openErr
	}
	if s.fatal != nil {
		return post.Post{}, s.fatal
	}
	for {
		var m any
		var ok bool
		select {
		case <-ctx.Done():
			return post.Post{}, ctx.Err()
		case m, ok = <-s.msgs:
		}
		if !ok {
			s.fatal = errors.New("twitter stream: closed")
			return post.Post{}, s.fatal
		}
		s.seq++
		record := fmt.Sprintf("%s#%d", s.name, s.seq)
		var t *v1Tweet
		switch v := m.(type) {
		case *gotwitter.Tweet:
			t = fromGoTwitter(v)
		case map[string]any:
			// A message go-twitter could not classify: it looks for
			// "retweet_count" to recognise tweets. Give one without it a
			// chance as a tweet; anything else is counted.
			if _, ok := v["id_str"]; ok {
				b, _ := json.Marshal(v)
				p, notice, err := DecodeV1(record, b)
				if err != nil {
					return post.Post{}, &ingest.RecordError{Source: s.name, Line: s.seq, Raw: b, Err: err}
				}
				if notice == "" {
					s.lastID = p.ID
					return p, nil
				}
			}
			s.skip("unknown")
			continue
		case *gotwitter.StatusDeletion:
			s.skip("delete")
			continue
		case *gotwitter.LocationDeletion:
			s.skip("scrub_geo")
			continue
		case *gotwitter.StreamLimit:
			s.skip("limit")
			s.log.Info("twitter stream limit: tweets matched but not delivered", "undelivered_total", v.Track)
			continue
		case *gotwitter.StallWarning:
			s.skip("warning")
			s.log.Warn("twitter stream stall warning", "code", v.Code, "message", v.Message, "percent_full", v.PercentFull)
			continue
		case *gotwitter.StreamDisconnect:
			s.skip("disconnect")
			s.log.Warn("twitter stream disconnect notice", "code", v.Code, "reason", v.Reason)
			continue
		case *gotwitter.StatusWithheld:
			s.skip("status_withheld")
			continue
		case *gotwitter.UserWithheld:
			s.skip("user_withheld")
			continue
		case error:
			var ue *url.Error
			if errors.As(v, &ue) {
				// The client failed: the reconnector gave up (Close, or a
				// status that retrying cannot fix). go-twitter stops after
				// reporting it.
				if s.ctx.Err() != nil {
					s.fatal = fmt.Errorf("twitter stream: closed: %w", s.ctx.Err())
				} else {
					s.fatal = fmt.Errorf("twitter stream: %w", ue.Err)
				}
				return post.Post{}, s.fatal
			}
			return post.Post{}, &ingest.RecordError{Source: s.name, Line: s.seq, Err: jsonError(record, v)}
		default:
			s.skip("other")
			continue
		}
		p, err := t.toPost(record)
		if err != nil {
			return post.Post{}, &ingest.RecordError{Source: s.name, Line: s.seq, Err: err}
		}
		s.lastID = p.ID
		return p, nil
	}
}

func (s *Stream) skip(kind string) {
	s.mu.Lock()
	s.skipped[kind]++
	s.mu.Unlock()
}

// Skipped returns how many notices of each kind were skipped.
func (s *Stream) Skipped() Skipped {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.skipped.clone()
}

// Stats returns connection counters.
func (s *Stream) Stats() StreamStats { return s.rt.stats() }

// Position returns the ID of the last tweet returned as Cursor.
func (s *Stream) Position() ingest.Position { return ingest.Position{Cursor: s.lastID} }

// Close ends the stream and waits for go-twitter's goroutine to stop.
func (s *Stream) Close() error {
	s.cancel()
	s.once.Do(func() {}) // never start after Close
	if s.msgs != nil {
		for range s.msgs { // go-twitter closes Messages when its loop ends
		}
	}
	if s.own != nil {
		s.own.CloseIdleConnections()
	}
	return nil
}

// HTTPError is an answer that reconnecting cannot fix (bad credentials,
// unknown endpoint, parameters refused); it ends the stream.
type HTTPError struct {
	StatusCode int
	Status     string
	Body       string // the start of the answer, which says why
}

func (e *HTTPError) Error() string {
	if e.Body == "" {
		return "HTTP " + e.Status
	}
	return fmt.Sprintf("HTTP %s: %s", e.Status, e.Body)
}

// fatalStatus lists the statuses Twitter documents for streaming that
// retrying does not fix.
func fatalStatus(code int) bool {
	switch code {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusNotAcceptable,
		http.StatusRequestEntityTooLarge, http.StatusRequestedRangeNotSatisfiable:
		return true
	}
	return false
}

// StreamStats counts connection attempts and waits.
type StreamStats struct {
	Attempts    int64         // requests sent
	Connections int64         // 200 answers
	Failures    int64         // attempts that failed (network or HTTP)
	Waited      time.Duration // total backoff
	LastWait    time.Duration
}

// reconnector is the RoundTripper go-twitter's client uses: it rewrites
// the URL onto the configured base, and retries with Twitter's backoff
// until a 200 (see Stream). go-twitter calls it from one goroutine at a
// time; mu guards only the counters others read.
type reconnector struct {
	ctx   context.Context
	next  http.RoundTripper // signs (OAuth1) and sends
	base  *url.URL
	stall time.Duration
	sleep func(context.Context, time.Duration) error
	log   *slog.Logger

	b    backoff
	last *watchedBody // the previous connection's body

	mu sync.Mutex
	st StreamStats
}

func (r *reconnector) stats() StreamStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st
}

func (r *reconnector) count(f func(*StreamStats)) {
	r.mu.Lock()
	f(&r.st)
	r.mu.Unlock()
}

// RoundTrip connects, retrying until a 200, the stream's end or a fatal
// status.
func (r *reconnector) RoundTrip(req *http.Request) (*http.Response, error) {
	var wait time.Duration
	var why string
	if last := r.last; last != nil {
		r.last = nil
		if last.got.Load() {
			r.b.delivered()
			if r.ctx.Err() == nil {
				r.log.Info("twitter stream dropped; reconnecting at once", "stalled", last.stalled.Load())
			}
		} else {
			wait, why = r.b.fail(failNetwork), "connection ended before any data"
		}
	}
	u := r.rewrite(req.URL)
	for {
		if wait > 0 {
			r.count(func(s *StreamStats) { s.Waited += wait; s.LastWait = wait })
			r.log.Warn("twitter stream: backing off", "wait", wait, "reason", why)
			if err := r.sleep(r.ctx, wait); err != nil {
				return nil, err
			}
		}
		if err := r.ctx.Err(); err != nil {
			return nil, err
		}
		conn, cancel := context.WithCancel(r.ctx)
		out := req.Clone(conn)
		out.URL, out.Host = u, ""
		r.count(func(s *StreamStats) { s.Attempts++ })
		resp, err := r.next.RoundTrip(out)
		if err != nil {
			cancel()
			if r.ctx.Err() != nil {
				return nil, r.ctx.Err()
			}
			r.count(func(s *StreamStats) { s.Failures++ })
			wait, why = r.b.fail(failNetwork), err.Error()
			continue
		}
		if resp.StatusCode == http.StatusOK {
			r.b.connected()
			r.count(func(s *StreamStats) { s.Connections++ })
			body := &watchedBody{rc: resp.Body, cancel: cancel, stall: r.stall, log: r.log}
			body.timer = time.AfterFunc(r.stall, body.onStall)
			r.last = body
			resp.Body = body
			return resp, nil
		}
		snippet := readSnippet(resp.Body)
		resp.Body.Close()
		cancel()
		r.count(func(s *StreamStats) { s.Failures++ })
		if fatalStatus(resp.StatusCode) {
			r.log.Error("twitter stream refused; not retrying", "status", resp.Status, "body", snippet)
			return nil, &HTTPError{StatusCode: resp.StatusCode, Status: resp.Status, Body: snippet}
		}
		kind := failHTTP
		if resp.StatusCode == 420 || resp.StatusCode == http.StatusTooManyRequests {
			kind = failRate
		}
		wait, why = r.b.fail(kind), "HTTP "+resp.Status+" "+snippet
	}
}

// rewrite moves a URL under DefaultStreamURL (go-twitter's, not
// configurable) onto the configured base, before signing: the OAuth1
// signature covers the URL.
func (r *reconnector) rewrite(in *url.URL) *url.URL {
	rest := strings.TrimPrefix(in.Path, "/1.1/")
	u := *r.base
	u.Path = r.base.Path + rest
	u.RawPath = ""
	u.RawQuery = in.RawQuery
	return &u
}

// readSnippet reads the start of an error answer for logs and errors.
func readSnippet(rc io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(rc, 512))
	return strings.TrimSpace(strings.ToValidUTF8(string(b), "?"))
}

// watchedBody is a 200 answer's body. It records whether any byte (a
// tweet or a keep-alive) arrived, which decides how to reconnect after
// it ends, and drops the connection when nothing arrives for stall.
type watchedBody struct {
	rc      io.ReadCloser
	cancel  context.CancelFunc
	stall   time.Duration
	timer   *time.Timer
	log     *slog.Logger
	got     atomic.Bool
	stalled atomic.Bool
}

func (w *watchedBody) Read(p []byte) (int, error) {
	if w.rc == nil {
		return 0, errors.New("read after close")
	}
	n, err := w.rc.Read(p)
	if n > 0 {
		w.got.Store(true)
		w.timer.Reset(w.stall)
	}
	if err != nil && w.stalled.Load() {
		err = fmt.Errorf("stream stalled (no data for %s): %w", w.stall, err)
	}
	return n, err
}

func (w *watchedBody) onStall() {
	w.stalled.Store(true)
	w.log.Warn("twitter stream stalled; dropping the connection", "silent_for", w.stall)
	w.cancel()
}

// Close closes the answer and lets it go: go-twitter defers a Close of
// every response it got until its loop ends, so a long-lived stream keeps
// each connection's response; dropping the body here keeps that to a few
// hundred bytes per reconnection instead of a connection's buffers.
func (w *watchedBody) Close() error {
	w.timer.Stop()
	w.cancel()
	if w.rc == nil {
		return nil
	}
	err := w.rc.Close()
	w.rc = nil
	return err
}

// fromGoTwitter converts go-twitter's Tweet for the shared mapping. It
// has no timestamp_ms, so streamed posts have second precision.
func fromGoTwitter(t *gotwitter.Tweet) *v1Tweet {
	if t == nil {
		return nil
	}
	out := &v1Tweet{
		IDStr: t.IDStr, CreatedAt: t.CreatedAt, Text: t.Text, FullText: t.FullText, Lang: t.Lang,
		Entities: fromGoEntities(t.Entities), InReplyToStatusIDStr: t.InReplyToStatusIDStr,
		QuotedStatusIDStr: t.QuotedStatusIDStr, RetweetedStatus: fromGoTwitter(t.RetweetedStatus),
	}
	if t.ID != 0 {
		out.ID = jsonNum(strconv.FormatInt(t.ID, 10))
	}
	if t.InReplyToStatusID != 0 {
		out.InReplyToStatusID = jsonNum(strconv.FormatInt(t.InReplyToStatusID, 10))
	}
	if t.QuotedStatusID != 0 {
		out.QuotedStatusID = jsonNum(strconv.FormatInt(t.QuotedStatusID, 10))
	}
	if t.ExtendedEntities != nil {
		out.ExtendedEntities = &v1Entities{Media: fromGoMedia(t.ExtendedEntities.Media)}
	}
	if x := t.ExtendedTweet; x != nil {
		out.ExtendedTweet = &v1Extended{FullText: x.FullText, Entities: fromGoEntities(x.Entities)}
		if x.ExtendedEntities != nil {
			out.ExtendedTweet.ExtendedEntities = &v1Entities{Media: fromGoMedia(x.ExtendedEntities.Media)}
		}
	}
	if u := t.User; u != nil {
		out.User = &v1User{
			IDStr: u.IDStr, ScreenName: u.ScreenName, Name: u.Name, Description: u.Description,
			CreatedAt: u.CreatedAt, FollowersCount: int64(u.FollowersCount), FriendsCount: int64(u.FriendsCount),
			StatusesCount: int64(u.StatusesCount), Verified: u.Verified, DefaultProfile: u.DefaultProfile,
		}
		if u.ID != 0 {
			out.User.ID = jsonNum(strconv.FormatInt(u.ID, 10))
		}
	}
	return out
}

func fromGoEntities(e *gotwitter.Entities) *v1Entities {
	if e == nil {
		return nil
	}
	out := &v1Entities{Media: fromGoMedia(e.Media)}
	for _, h := range e.Hashtags {
		out.Hashtags = append(out.Hashtags, v1Hashtag{Text: h.Text})
	}
	for _, u := range e.Urls {
		out.URLs = append(out.URLs, v1URL{URL: u.URL, ExpandedURL: u.ExpandedURL})
	}
	for _, m := range e.UserMentions {
		out.UserMentions = append(out.UserMentions, v1Mention{ScreenName: m.ScreenName})
	}
	return out
}

func fromGoMedia(ms []gotwitter.MediaEntity) []v1URL {
	var out []v1URL
	for _, m := range ms {
		out = append(out, v1URL{URL: m.URL, ExpandedURL: m.ExpandedURL})
	}
	return out
}
