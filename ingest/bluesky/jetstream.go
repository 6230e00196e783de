// Package bluesky reads Bluesky posts and reposts from Jetstream, the
// JSON rendering of the AT Protocol firehose, over a websocket. The
// source implements ingest.Source; see event.go for the ID scheme.
package bluesky

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/vigie-osint/vigie/ingest"
	"github.com/vigie-osint/vigie/post"
)

// DefaultURL is Bluesky's public Jetstream, asked for posts and reposts.
const DefaultURL = "wss://jetstream2.us-east.bsky.network/subscribe?wantedCollections=app.bsky.feed.post&wantedCollections=app.bsky.feed.repost"

// hardReadLimit is where the websocket library itself gives up on a
// message and closes the connection. Up to it, a message over
// Config.MaxMessageBytes is read to its end and discarded, so the stream
// stays in step and the message costs one record error, not the
// connection.
const hardReadLimit = 64 << 20

// Config configures a Jetstream source. Zero values are defaults.
type Config struct {
	// URL is the Jetstream subscribe endpoint with its filters (default
	// DefaultURL). Vigie adds cursor and maxMessageSizeBytes.
	URL string
	// MaxMessageBytes bounds one event (0: ingest.MaxLineBytes). Larger
	// ones are dead-lettered (their beginning kept). It is also sent as
	// maxMessageSizeBytes, so a conforming server does not send them.
	MaxMessageBytes int
	// ReplayMargin is how far before the last event's time_us a
	// reconnection asks to replay from (0: 2s), as Jetstream's
	// documentation advises for gapless playback; events seen twice within
	// the margin are skipped and counted as "replayed".
	ReplayMargin time.Duration
	// IdleTimeout drops a connection that delivered nothing for that long
	// (0: 2m); the reconnection replays from the cursor, so nothing is
	// lost.
	IdleTimeout time.Duration
	// DialTimeout bounds the websocket handshake (0: 30s).
	DialTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between reconnections
	// (0: 1s and 2m).
	MinBackoff, MaxBackoff time.Duration
	// HTTPClient dials (nil: http.DefaultClient). It must have no Timeout.
	HTTPClient *http.Client
	Log        *slog.Logger
	// Now and Sleep are the clock and the waiting, replaced in tests.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

func (c *Config) setDefaults() error {
	if c.URL == "" {
		c.URL = DefaultURL
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return fmt.Errorf("bluesky: URL %q: %w", c.URL, err)
	}
	switch u.Scheme {
	case "ws", "wss", "http", "https":
	default:
		return fmt.Errorf("bluesky: URL %q: want a wss:// Jetstream subscribe endpoint", c.URL)
	}
	if u.Host == "" {
		return fmt.Errorf("bluesky: URL %q: no host", c.URL)
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = ingest.MaxLineBytes
	}
	if c.MaxMessageBytes > hardReadLimit {
		c.MaxMessageBytes = hardReadLimit
	}
	if c.ReplayMargin <= 0 {
		c.ReplayMargin = 2 * time.Second
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 2 * time.Minute
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 30 * time.Second
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 2 * time.Minute
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
	return nil
}

// Stats counts what a Jetstream source read. Skipped events are not
// errors, but they are counted, so that nothing disappears unseen.
type Stats struct {
	Messages   int64            // websocket messages read
	Posts      int64            // posts and reposts returned
	Rejected   int64            // messages returned as *ingest.RecordError
	Skipped    map[string]int64 // by reason: "identity", "account", "delete", "replayed", ...
	Reconnects int64
}

// Jetstream is a live source of Bluesky posts and reposts. It never ends
// by itself: on an error, a silent connection or the server closing, it
// reconnects after a backoff with jitter, asking Jetstream to replay from
// the last event's time_us minus ReplayMargin (Position.Cursor holds that
// time_us, so a restart resumes there too).
type Jetstream struct {
	cfg  Config
	base *url.URL
	name string

	mu     sync.Mutex // guards conn and closed, which Close touches
	conn   *websocket.Conn
	closed bool

	attempt     int
	connections int
	// exact, when set, is a cursor to resume from exactly, with no
	// margin: the first event after one that broke the connection.
	exact int64
	buf   bytes.Buffer
	seen  replayWindow
	pos   ingest.Position
	last  int64 // time_us of the last event read

	stmu sync.Mutex
	st   Stats
}

// New returns a Jetstream source resuming at from (zero: live tail). It
// connects lazily: the first Next does.
func New(cfg Config, from ingest.Position) (*Jetstream, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	base, _ := url.Parse(cfg.URL)
	j := &Jetstream{cfg: cfg, base: base, pos: from}
	j.name = redactedURL(base)
	if from.Cursor != "" {
		t, err := strconv.ParseInt(from.Cursor, 10, 64)
		if err != nil || t < 0 {
			return nil, fmt.Errorf("bluesky: cursor %q is not a time_us", from.Cursor)
		}
		j.last = t
	}
	j.seen = newReplayWindow(cfg.ReplayMargin)
	return j, nil
}

// Open opens the Jetstream named by name: "" or "jetstream" for
// DefaultURL, or a ws:// or wss:// subscribe URL with its filters.
func Open(ctx context.Context, name string, from ingest.Position) (ingest.Source, error) {
	name = strings.TrimSpace(name)
	if name == "jetstream" {
		name = ""
	}
	return New(Config{URL: name}, from)
}

// redactedURL names the source in logs and dead letters: the endpoint
// without its query, which may list thousands of DIDs.
func redactedURL(u *url.URL) string {
	v := *u
	v.RawQuery, v.User = "", nil
	return v.String()
}

// Position returns the count of messages read and, as Cursor, the time_us
// of the last event.
func (j *Jetstream) Position() ingest.Position { return j.pos }

// Stats returns what the source has read so far.
func (j *Jetstream) Stats() Stats {
	j.stmu.Lock()
	defer j.stmu.Unlock()
	out := j.st
	out.Skipped = make(map[string]int64, len(j.st.Skipped))
	for k, v := range j.st.Skipped {
		out.Skipped[k] = v
	}
	return out
}

func (j *Jetstream) count(f func(*Stats)) {
	j.stmu.Lock()
	f(&j.st)
	j.stmu.Unlock()
}

// maxSkipReasons bounds the skip counters: kinds and collections come
// from the network, and a hostile server could send endless new ones.
const maxSkipReasons = 64

func (j *Jetstream) skip(reason string) {
	j.count(func(s *Stats) {
		if s.Skipped == nil {
			s.Skipped = map[string]int64{}
		}
		if _, ok := s.Skipped[reason]; !ok && len(s.Skipped) >= maxSkipReasons {
			reason = "other"
		}
		s.Skipped[reason]++
	})
}

// errClosed is returned by Next after Close.
var errClosed = errors.New("bluesky: source closed")

// Close drops the connection; Next then returns an error.
func (j *Jetstream) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.closed = true
	if j.conn != nil {
		j.conn.CloseNow()
	}
	return nil
}

// Next returns the next post or repost. It returns only ctx's error when
// ctx ends, a *ingest.RecordError for a message it cannot read, or a fatal
// error when the server refuses the subscription itself.
func (j *Jetstream) Next(ctx context.Context) (post.Post, error) {
	for {
		if err := ctx.Err(); err != nil {
			return post.Post{}, err
		}
		j.mu.Lock()
		closed, conn := j.closed, j.conn
		j.mu.Unlock()
		if closed {
			return post.Post{}, errClosed
		}
		if conn == nil {
			var err error
			if conn, err = j.connect(ctx); err != nil {
				if ctx.Err() != nil {
					return post.Post{}, ctx.Err()
				}
				var pe *permanentError
				if errors.As(err, &pe) {
					return post.Post{}, err
				}
				j.cfg.Log.Warn("bluesky jetstream connection failed", "url", j.name, "err", err, "attempt", j.attempt)
				continue
			}
		}
		raw, tooBig, err := j.read(ctx, conn)
		if err != nil && !tooBig {
			if ctx.Err() != nil {
				j.drop(nil)
				return post.Post{}, ctx.Err()
			}
			j.drop(err)
			continue
		}
		j.attempt = 0
		j.pos.Line++
		j.count(func(s *Stats) { s.Messages++ })
		record := fmt.Sprintf("%s#%d", j.name, j.pos.Line)
		if tooBig {
			// Skip past it: its time_us is near the start of the JSON.
			if t := peekTimeUS(raw); t > j.last {
				j.advance(t)
				if err != nil {
					j.exact = t + 1 // the connection broke on it: resume after it
				}
			}
			if err != nil {
				j.drop(err)
			}
			return post.Post{}, j.reject(record, raw, &post.FieldError{Record: record, Field: "(message)",
				Reason: fmt.Sprintf("larger than %d bytes", j.cfg.MaxMessageBytes)})
		}
		d, derr := decodeEvent(record, raw, j.cfg.Now())
		if d.timeUS > 0 {
			if !j.seen.add(d.key, d.timeUS) {
				j.skip("replayed")
				continue
			}
			if d.timeUS > j.last {
				j.advance(d.timeUS)
			}
		}
		switch {
		case derr != nil:
			return post.Post{}, j.reject(record, raw, derr)
		case d.skip != "":
			j.skip(d.skip)
		default:
			j.count(func(s *Stats) { s.Posts++ })
			return d.post, nil
		}
	}
}

func (j *Jetstream) advance(t int64) {
	j.last = t
	j.pos.Cursor = strconv.FormatInt(t, 10)
}

func (j *Jetstream) reject(record string, raw []byte, err error) error {
	j.count(func(s *Stats) { s.Rejected++ })
	return &ingest.RecordError{Source: j.name, Line: j.pos.Line, Raw: append([]byte(nil), raw...), Err: err}
}

// read reads one message. A text message over MaxMessageBytes comes back
// cut, with tooBig set, after the rest was read and discarded (err is
// non-nil if that failed and broke the connection).
func (j *Jetstream) read(ctx context.Context, conn *websocket.Conn) (raw []byte, tooBig bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, j.cfg.IdleTimeout)
	defer cancel()
	for {
		typ, r, err := conn.Reader(ctx)
		if err != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				err = fmt.Errorf("nothing received for %s", j.cfg.IdleTimeout)
			}
			return nil, false, err
		}
		j.buf.Reset()
		n, err := j.buf.ReadFrom(io.LimitReader(r, int64(j.cfg.MaxMessageBytes)+1))
		if err != nil {
			return nil, false, err
		}
		if typ != websocket.MessageText {
			// Jetstream sends text; binary would be zstd-compressed
			// frames, which Vigie does not ask for.
			if _, err := io.Copy(io.Discard, r); err != nil {
				return nil, false, err
			}
			j.pos.Line++
			j.count(func(s *Stats) { s.Messages++ })
			j.skip("binary message")
			continue
		}
		if n > int64(j.cfg.MaxMessageBytes) {
			_, err := io.Copy(io.Discard, r)
			return j.buf.Bytes()[:j.cfg.MaxMessageBytes], true, err
		}
		return j.buf.Bytes(), false, nil
	}
}

// connect dials Jetstream, after a backoff when it is not the first
// attempt, asking for a replay from the cursor.
func (j *Jetstream) connect(ctx context.Context) (*websocket.Conn, error) {
	if j.connections > 0 || j.attempt > 0 {
		if err := j.cfg.Sleep(ctx, backoff(j.cfg.MinBackoff, j.cfg.MaxBackoff, j.attempt)); err != nil {
			return nil, err
		}
	}
	j.attempt++
	u := *j.base
	q := u.Query()
	if q.Get("maxMessageSizeBytes") == "" {
		q.Set("maxMessageSizeBytes", strconv.Itoa(j.cfg.MaxMessageBytes))
	}
	switch {
	case j.exact > 0:
		q.Set("cursor", strconv.FormatInt(j.exact, 10))
	case j.last > 0:
		c := j.last - j.cfg.ReplayMargin.Microseconds()
		q.Set("cursor", strconv.FormatInt(max(c, 1), 10))
	}
	u.RawQuery = q.Encode()
	dctx, cancel := context.WithTimeout(ctx, j.cfg.DialTimeout)
	defer cancel()
	conn, res, err := websocket.Dial(dctx, u.String(), &websocket.DialOptions{
		HTTPClient: j.cfg.HTTPClient,
		HTTPHeader: http.Header{"User-Agent": {"Vigie (coordinated-influence detection)"}},
	})
	if err != nil {
		if res != nil {
			switch res.StatusCode {
			case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusGone:
				return nil, &permanentError{fmt.Errorf("bluesky: subscribe %s: HTTP %d: %w", j.name, res.StatusCode, err)}
			}
		}
		return nil, err
	}
	conn.SetReadLimit(hardReadLimit)
	j.exact = 0
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		conn.CloseNow()
		return nil, errClosed
	}
	j.conn = conn
	j.mu.Unlock()
	if j.connections > 0 {
		j.count(func(s *Stats) { s.Reconnects++ })
	}
	j.connections++
	j.cfg.Log.Info("bluesky jetstream connected", "url", j.name, "cursor", q.Get("cursor"), "connection", j.connections)
	return conn, nil
}

// drop closes the connection; the next Next reconnects.
func (j *Jetstream) drop(err error) {
	j.mu.Lock()
	if j.conn != nil {
		j.conn.CloseNow()
		j.conn = nil
	}
	j.mu.Unlock()
	if err != nil {
		j.cfg.Log.Warn("bluesky jetstream dropped; reconnecting", "url", j.name, "err", err, "cursor", j.pos.Cursor)
	}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// peekTimeUS finds "time_us": N in the beginning of a message too large to
// decode. Jetstream writes it second, after the DID.
func peekTimeUS(b []byte) int64 {
	i := bytes.Index(b, []byte(`"time_us"`))
	if i < 0 {
		return 0
	}
	rest := bytes.TrimLeft(b[i+len(`"time_us"`):], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return 0
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	n := 0
	for n < len(rest) && n < 19 && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	t, err := strconv.ParseInt(string(rest[:n]), 10, 64)
	if err != nil {
		return 0
	}
	return t
}

// replayWindow remembers the events of the last margin of stream time, to
// skip those a reconnection replays.
type replayWindow struct {
	margin int64 // microseconds
	keys   map[string]struct{}
	queue  []windowEntry
	head   int
	newest int64
}

type windowEntry struct {
	key string
	t   int64
}

// maxWindow bounds the window whatever the event rate.
const maxWindow = 200_000

func newReplayWindow(margin time.Duration) replayWindow {
	return replayWindow{margin: margin.Microseconds(), keys: map[string]struct{}{}}
}

// add records an event and reports whether it was new.
func (w *replayWindow) add(key string, t int64) bool {
	if _, ok := w.keys[key]; ok {
		return false
	}
	if t > w.newest {
		w.newest = t
	}
	w.keys[key] = struct{}{}
	w.queue = append(w.queue, windowEntry{key, t})
	for w.head < len(w.queue) && (w.queue[w.head].t < w.newest-w.margin || len(w.queue)-w.head > maxWindow) {
		delete(w.keys, w.queue[w.head].key)
		w.queue[w.head] = windowEntry{}
		w.head++
	}
	if w.head > 1024 && w.head*2 > len(w.queue) {
		w.queue = append(w.queue[:0], w.queue[w.head:]...)
		w.head = 0
	}
	return true
}

// backoff returns the delay before reconnection attempt n (0-based): base
// doubled per attempt, capped at max, with equal jitter so that many
// clients dropped at once do not come back in lockstep.
func backoff(base, max time.Duration, n int) time.Duration {
	d := base
	for i := 0; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	half := d / 2
	return half + rand.N(half+1)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
