package mastodon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigie-osint/vigie/ingest"
	"github.com/vigie-osint/vigie/post"
)

// Stream reads a Mastodon streaming endpoint over server-sent events. It
// never ends by itself: on an error, an idle connection (no byte, not even
// a heartbeat, for IdleTimeout) or the server closing, it reconnects after
// a backoff with jitter (the server's "retry:" as the base delay when it
// sent one), sending Last-Event-ID when the server gave IDs.
//
// Mastodon's streaming server keeps no history, so what was posted while
// disconnected would be lost. After a reconnection, or a restart from a
// saved Position, the stream therefore catches up through the matching REST
// timeline (min_id = the newest status ID seen, Position.Cursor), up to
// Config.CatchUp statuses, oldest first, before it reads new events;
// statuses seen twice are skipped (and counted as "duplicate"). Remote
// statuses that federate late can carry IDs below the cursor and are not
// caught up.
//
// "update" events yield posts; "status.update" (an edit) yields the edited
// post under the same ID, so the store overwrites it; "delete" and every
// other event are skipped and counted.
type Stream struct {
	cfg  Config
	ep   endpoint
	name string
	dec  Decoder
	pg   pager
	st   stats

	mu     sync.Mutex // guards cancel and closed, which Close touches
	cancel context.CancelFunc
	closed bool

	body        io.ReadCloser
	sse         *SSEReader
	idle        *time.Timer
	idleFired   atomic.Bool
	comments    int64 // heartbeats of the current connection already counted
	attempt     int   // failed connections since the last good one
	connections int
	lastEventID string
	retry       time.Duration

	pos     ingest.Position
	pending []pendingItem
	catchUp bool
	recent  recentIDs
}

type pendingItem struct {
	raw    []byte
	s      *status
	err    error
	record string
}

func newStream(cfg Config, ep endpoint, from ingest.Position) *Stream {
	s := &Stream{cfg: cfg, ep: ep, name: ep.u.String(), pos: from}
	s.dec = Decoder{Instance: cfg.Instance, Now: cfg.Now}
	s.pg = pager{cfg: &s.cfg, base: ep.base, st: &s.st}
	s.recent = newRecentIDs(4096)
	s.catchUp = from.Cursor != ""
	return s
}

// Position returns the count of events read and, as Cursor, the newest
// status ID seen (the catch-up point).
func (s *Stream) Position() ingest.Position { return s.pos }

// Stats returns what the stream has read so far.
func (s *Stream) Stats() Stats { return s.st.snapshot() }

// errClosed is returned by Next after Close.
var errClosed = errors.New("mastodon: stream closed")

// Close drops the connection; Next then returns an error.
func (s *Stream) Close() error {
	s.mu.Lock()
	s.closed = true
	if s.cancel != nil {
		s.cancel()
	}
	s.mu.Unlock()
	return nil
}

// Next returns the next post. It returns only ctx's error when ctx ends,
// a *ingest.RecordError for an event it cannot read, or a fatal error when
// the server refuses the request itself (bad token, unknown timeline).
func (s *Stream) Next(ctx context.Context) (post.Post, error) {
	for {
		if err := ctx.Err(); err != nil {
			return post.Post{}, err
		}
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if closed {
			s.disconnect(nil)
			return post.Post{}, errClosed
		}
		if len(s.pending) > 0 {
			it := s.pending[0]
			s.pending = s.pending[1:]
			s.pos.Line++
			s.st.add(func(st *Stats) { st.Events++ })
			if p, ok, err := s.emit(it, "update"); ok {
				return p, err
			}
			continue
		}
		if s.body == nil {
			if err := s.connect(ctx); err != nil {
				if ctx.Err() != nil {
					return post.Post{}, ctx.Err()
				}
				if isPermanent(err) {
					return post.Post{}, err
				}
				s.cfg.Log.Warn("mastodon stream connection failed", "stream", s.name, "err", err, "attempt", s.attempt)
				continue
			}
			if s.catchUp {
				s.catchUp = false
				s.fillGap(ctx)
				continue
			}
		}
		stop := context.AfterFunc(ctx, s.cancelConn)
		ev, err := s.sse.Next()
		stop()
		s.countHeartbeats()
		if err != nil {
			if ctx.Err() != nil {
				s.disconnect(nil) // our own cancellation, not a drop
				return post.Post{}, ctx.Err()
			}
			s.disconnect(err)
			continue
		}
		s.attempt = 0
		s.pos.Line++
		s.st.add(func(st *Stats) { st.Events++ })
		switch ev.Type {
		case "update", "status.update":
			record := fmt.Sprintf("%s#%d", s.name, s.pos.Line)
			it := pendingItem{raw: ev.Data, record: record}
			if ev.TooLarge {
				it.err = &post.FieldError{Record: record, Field: "data",
					Reason: fmt.Sprintf("event larger than %d bytes", s.cfg.MaxEventBytes)}
			} else {
				it.s, it.err = decodeStatus(record, ev.Data)
			}
			if p, ok, err := s.emit(it, ev.Type); ok {
				return p, err
			}
		case "delete":
			// Vigie keeps what was published: a deletion is evidence too,
			// but the post model has no tombstone yet.
			s.st.skip("delete")
		default:
			s.st.skip(ev.Type)
		}
	}
}

// emit turns a decoded event into Next's result. ok is false when the
// status is a duplicate of one already returned.
func (s *Stream) emit(it pendingItem, kind string) (p post.Post, ok bool, err error) {
	if it.err == nil {
		p, it.err = s.dec.post(it.record, it.s)
	}
	if it.err != nil {
		s.st.add(func(st *Stats) { st.Rejected++ })
		return post.Post{}, true, &ingest.RecordError{Source: s.name, Line: s.pos.Line, Raw: clip(it.raw), Err: it.err}
	}
	id := string(it.s.ID)
	if kind == "update" {
		if !s.recent.add(id) {
			s.st.skip("duplicate")
			return post.Post{}, false, nil
		}
	}
	if s.pos.Cursor == "" || idLess(s.pos.Cursor, id) {
		s.pos.Cursor = id
	}
	s.st.add(func(st *Stats) { st.Posts++ })
	return p, true, nil
}

func (s *Stream) cancelConn() {
	s.mu.Lock()
	if s.cancel != nil {
		s.cancel()
	}
	s.mu.Unlock()
}

// connect opens the event stream, after a backoff when it is not the
// first attempt.
func (s *Stream) connect(ctx context.Context) error {
	if s.connections > 0 || s.attempt > 0 {
		base := s.cfg.MinBackoff
		if s.retry > 0 {
			base = s.retry
		}
		d := backoff(base, s.cfg.MaxBackoff, s.attempt)
		if err := s.cfg.Sleep(ctx, d); err != nil {
			return err
		}
	}
	s.attempt++
	connCtx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	s.cancel = cancel
	s.mu.Unlock()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	req, err := http.NewRequestWithContext(connCtx, http.MethodGet, s.ep.u.String(), nil)
	if err != nil {
		cancel()
		return err
	}
	setHeaders(req, s.cfg.Token)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	if s.lastEventID != "" {
		req.Header.Set("Last-Event-ID", s.lastEventID)
	}
	res, err := s.cfg.Client.Do(req)
	if err != nil {
		cancel()
		return err
	}
	if res.StatusCode != http.StatusOK {
		se := newStatusError(res, s.name)
		res.Body.Close()
		cancel()
		if res.StatusCode == http.StatusTooManyRequests {
			if d := resetWait(res.Header, s.cfg.Now()); d > 0 {
				s.st.add(func(st *Stats) { st.RateWaits++ })
				if err := s.cfg.Sleep(ctx, d); err != nil {
					return err
				}
			}
		}
		return se
	}
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt != "text/event-stream" {
		res.Body.Close()
		cancel()
		return fmt.Errorf("GET %s: Content-Type %q, want text/event-stream", s.name, mt)
	}
	s.idleFired.Store(false)
	s.idle = time.AfterFunc(s.cfg.IdleTimeout, func() {
		s.idleFired.Store(true)
		cancel()
	})
	s.body = res.Body
	s.sse = NewSSEReader(&idleReader{r: res.Body, timer: s.idle, d: s.cfg.IdleTimeout}, s.cfg.MaxEventBytes)
	s.comments = 0
	if s.connections > 0 {
		s.st.add(func(st *Stats) { st.Reconnects++ })
		s.catchUp = s.catchUp || s.pos.Cursor != ""
	}
	s.connections++
	s.cfg.Log.Info("mastodon stream connected", "stream", s.name, "connection", s.connections)
	return nil
}

// disconnect drops the connection, keeping what the standard carries over
// to the next one (the last event ID and the retry delay).
func (s *Stream) disconnect(err error) {
	if s.body == nil {
		return
	}
	if s.sse.Retry() > 0 {
		s.retry = min(s.sse.Retry(), s.cfg.MaxBackoff)
	}
	if id := s.sse.LastEventID(); id != "" {
		s.lastEventID = id
	}
	if s.comments > 0 {
		s.attempt = 0 // the connection was alive: start the backoff afresh
	}
	s.idle.Stop()
	s.cancelConn()
	s.body.Close()
	s.body, s.sse = nil, nil
	if err != nil && !errors.Is(err, errClosed) {
		switch {
		case s.idleFired.Load():
			err = fmt.Errorf("nothing received for %s", s.cfg.IdleTimeout)
		case errors.Is(err, io.EOF):
			err = errors.New("server closed the stream")
		}
		s.cfg.Log.Warn("mastodon stream dropped; reconnecting", "stream", s.name, "err", err)
	}
}

func (s *Stream) countHeartbeats() {
	if s.sse == nil {
		return
	}
	if n := s.sse.Comments(); n > s.comments {
		d := n - s.comments
		s.comments = n
		s.st.add(func(st *Stats) { st.Heartbeats += d })
	}
}

// fillGap fetches, oldest first, the statuses the matching timeline holds
// above the cursor. It gives up quietly (logging why) on any error: the
// live stream matters more than the gap.
func (s *Stream) fillGap(ctx context.Context) {
	if s.ep.timeline == nil || s.cfg.CatchUp < 0 || s.pos.Cursor == "" {
		return
	}
	u := *s.ep.timeline
	q := u.Query()
	q.Set("limit", strconv.Itoa(pageLimit))
	q.Set("min_id", s.pos.Cursor)
	u.RawQuery = q.Encode()
	next := &u
	got := 0
	// Few retries: the live connection is open and unread meanwhile.
	pcfg := *s.pg.cfg
	pcfg.MaxRetries = min(2, pcfg.MaxRetries)
	pg := pager{cfg: &pcfg, base: s.pg.base, st: s.pg.st, rl: s.pg.rl}
	defer func() { s.pg.rl = pg.rl }()
	record := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String() + " (catch-up)"
	for next != nil && got < s.cfg.CatchUp {
		items, rels, _, err := pg.fetch(ctx, next)
		if err != nil {
			s.cfg.Log.Warn("mastodon catch-up stopped; the gap may be incomplete", "stream", s.name, "err", err)
			s.st.skip("catch-up failed")
			return
		}
		if len(items) == 0 {
			break
		}
		// A min_id page holds the statuses just above the cursor, newest
		// first; the "prev" link leads to newer ones.
		for i := len(items) - 1; i >= 0 && got < s.cfg.CatchUp; i-- {
			it := pendingItem{raw: items[i], record: record}
			it.s, it.err = decodeStatus(record, items[i])
			s.pending = append(s.pending, it)
			got++
		}
		next = rels["prev"]
	}
	if got >= s.cfg.CatchUp {
		s.cfg.Log.Warn("mastodon catch-up reached its bound; the gap may be incomplete", "stream", s.name, "statuses", got)
	}
	s.cfg.Log.Info("mastodon stream caught up", "stream", s.name, "statuses", got)
}

// idleReader cuts the connection (through timer) when no byte arrived for
// d.
type idleReader struct {
	r     io.Reader
	timer *time.Timer
	d     time.Duration
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.timer.Reset(r.d)
	}
	return n, err
}

// recentIDs remembers the last n status IDs returned, to skip a status
// both caught up over REST and streamed.
type recentIDs struct {
	ring []string
	next int
	set  map[string]struct{}
}

func newRecentIDs(n int) recentIDs {
	return recentIDs{ring: make([]string, n), set: make(map[string]struct{}, n)}
}

// add records id and reports whether it was new.
func (r *recentIDs) add(id string) bool {
	if _, ok := r.set[id]; ok {
		return false
	}
	if old := r.ring[r.next]; old != "" {
		delete(r.set, old)
	}
	r.ring[r.next] = id
	r.next = (r.next + 1) % len(r.ring)
	r.set[id] = struct{}{}
	return true
}
