package mastodon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/vigie-osint/vigie/ingest"
	"github.com/vigie-osint/vigie/post"
)

// pageLimit is the most statuses Mastodon returns per timeline page.
const pageLimit = 40

// pager fetches timeline pages, waiting out rate-limit windows and
// retrying throttled and failed requests.
type pager struct {
	cfg  *Config
	base *url.URL
	st   *stats
	rl   rateLimit
}

// errBadPage is a page whose body is not a JSON array of statuses; its
// Link header may still lead on.
var errBadPage = errors.New("page is not a JSON array")

// fetch GETs one page. It returns the page's statuses undecoded (so one
// bad status costs one record, not the page), its Link targets (only those
// on the instance's origin) and the raw body. Rate limits: when the last
// response left no request in the window, fetch first waits until the
// window resets; a 429 waits for the reset (or Retry-After, or a backoff)
// and retries; 5xx and network errors retry with backoff; after
// MaxRetries failures in a row, or on another 4xx, it gives up.
func (pg *pager) fetch(ctx context.Context, u *url.URL) (items []json.RawMessage, rels map[string]*url.URL, body []byte, err error) {
	failures := 0
	for {
		if err := pg.waitWindow(ctx); err != nil {
			return nil, nil, nil, err
		}
		res, err := pg.get(ctx, u)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, nil, ctx.Err()
			}
			failures++
			if failures > pg.cfg.MaxRetries {
				return nil, nil, nil, fmt.Errorf("mastodon: %d attempts failed: %w", failures, err)
			}
			d := backoff(pg.cfg.MinBackoff, pg.cfg.MaxBackoff, failures-1)
			pg.cfg.Log.Warn("mastodon request failed; retrying", "url", u.String(), "err", err, "retry_in", d)
			if err := pg.cfg.Sleep(ctx, d); err != nil {
				return nil, nil, nil, err
			}
			continue
		}
		pg.rl = parseRateLimit(res.Header, pg.cfg.Now())
		switch {
		case res.StatusCode >= 200 && res.StatusCode < 300:
			body, err := readBody(res, maxPageBytes(pg.cfg))
			if err != nil {
				failures++
				if failures > pg.cfg.MaxRetries {
					return nil, nil, nil, fmt.Errorf("mastodon: GET %s: %w", u, err)
				}
				if err := pg.cfg.Sleep(ctx, backoff(pg.cfg.MinBackoff, pg.cfg.MaxBackoff, failures-1)); err != nil {
					return nil, nil, nil, err
				}
				continue
			}
			rels := map[string]*url.URL{}
			for rel, target := range links(res.Header.Get("Link")) {
				t, err := u.Parse(target)
				if err != nil || !sameOrigin(pg.base, t) {
					pg.cfg.Log.Warn("mastodon page link ignored: not on the instance", "rel", rel)
					continue
				}
				rels[rel] = t
			}
			if err := json.Unmarshal(body, &items); err != nil {
				return nil, rels, body, fmt.Errorf("%w: %v", errBadPage, describeJSONError(err))
			}
			return items, rels, body, nil
		case res.StatusCode == http.StatusTooManyRequests:
			se := newStatusError(res, u.String())
			res.Body.Close()
			failures++
			if failures > pg.cfg.MaxRetries {
				return nil, nil, nil, fmt.Errorf("mastodon: still throttled after %d attempts: %w", failures, se)
			}
			d := resetWait(res.Header, pg.cfg.Now())
			if d <= 0 {
				d = backoff(pg.cfg.MinBackoff, pg.cfg.MaxBackoff, failures-1)
			}
			pg.rl = rateLimit{} // this wait is the window's reset
			pg.st.add(func(s *Stats) { s.RateWaits++ })
			pg.cfg.Log.Info("mastodon rate limited (429); waiting", "url", u.String(), "wait", d)
			if err := pg.cfg.Sleep(ctx, d); err != nil {
				return nil, nil, nil, err
			}
		case res.StatusCode >= 500:
			se := newStatusError(res, u.String())
			res.Body.Close()
			failures++
			if failures > pg.cfg.MaxRetries {
				return nil, nil, nil, fmt.Errorf("mastodon: %d attempts failed: %w", failures, se)
			}
			d := backoff(pg.cfg.MinBackoff, pg.cfg.MaxBackoff, failures-1)
			pg.cfg.Log.Warn("mastodon server error; retrying", "err", se, "retry_in", d)
			if err := pg.cfg.Sleep(ctx, d); err != nil {
				return nil, nil, nil, err
			}
		default:
			se := newStatusError(res, u.String())
			res.Body.Close()
			return nil, nil, nil, fmt.Errorf("mastodon: %w", se)
		}
	}
}

// waitWindow waits for the rate-limit window to reset when the last
// response said no request was left in it.
func (pg *pager) waitWindow(ctx context.Context) error {
	if !pg.rl.known || pg.rl.remaining > 0 {
		return nil
	}
	d := pg.rl.wait - pg.cfg.Now().Sub(pg.rl.at)
	pg.rl = rateLimit{}
	if d <= 0 {
		return nil
	}
	pg.st.add(func(s *Stats) { s.RateWaits++ })
	pg.cfg.Log.Info("mastodon rate-limit window used up; waiting for its reset", "wait", d)
	return pg.cfg.Sleep(ctx, d)
}

func (pg *pager) get(ctx context.Context, u *url.URL) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, pg.cfg.RequestTimeout)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		cancel()
		return nil, err
	}
	setHeaders(req, pg.cfg.Token)
	req.Header.Set("Accept", "application/json")
	pg.st.add(func(s *Stats) { s.Requests++ })
	res, err := pg.cfg.Client.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	res.Body = &cancelBody{ReadCloser: res.Body, cancel: cancel}
	return res, nil
}

// cancelBody releases a request's timeout when its body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

func setHeaders(req *http.Request, token string) {
	req.Header.Set("User-Agent", "Vigie (coordinated-influence detection)")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
}

// maxPageBytes bounds a page body: 40 statuses at most, each bounded.
func maxPageBytes(cfg *Config) int64 {
	return min(int64(pageLimit)*int64(cfg.MaxEventBytes), 64<<20)
}

func readBody(res *http.Response, max int64) ([]byte, error) {
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("body larger than %d bytes", max)
	}
	return b, nil
}

// Backfill reads a REST timeline from the newest status back, page by
// page (limit=40, following the Link rel="next" header), until the
// timeline ends, a status is older than Config.Since, or Config.MaxPosts
// statuses were read. It then returns io.EOF. Position.Cursor is the ID of
// the last status returned: a restart asks for max_id=Cursor and goes on
// exactly there.
type Backfill struct {
	cfg  Config
	name string
	dec  Decoder
	pg   pager
	st   stats

	next    *url.URL
	page    []json.RawMessage
	idx     int
	pos     ingest.Position
	emitted int
	done    bool
}

func newBackfill(cfg Config, ep endpoint, from ingest.Position) (*Backfill, error) {
	b := &Backfill{cfg: cfg, name: ep.u.String(), pos: from}
	b.dec = Decoder{Instance: cfg.Instance, Now: cfg.Now}
	b.pg = pager{cfg: &b.cfg, base: ep.base, st: &b.st}
	u := *ep.u
	q := u.Query()
	if q.Get("limit") == "" {
		q.Set("limit", strconv.Itoa(pageLimit))
	}
	if from.Cursor != "" {
		q.Set("max_id", from.Cursor)
	}
	u.RawQuery = q.Encode()
	b.next = &u
	return b, nil
}

// Position returns the count of statuses read and the resume point.
func (b *Backfill) Position() ingest.Position { return b.pos }

// Stats returns what the backfill has read so far.
func (b *Backfill) Stats() Stats { return b.st.snapshot() }

// Close ends the backfill.
func (b *Backfill) Close() error {
	b.done, b.page, b.next = true, nil, nil
	return nil
}

// Next returns the next status, older than the previous one.
func (b *Backfill) Next(ctx context.Context) (post.Post, error) {
	for {
		if err := ctx.Err(); err != nil {
			return post.Post{}, err
		}
		if b.idx < len(b.page) {
			raw := b.page[b.idx]
			b.idx++
			return b.record(raw)
		}
		if b.done || b.next == nil {
			return post.Post{}, io.EOF
		}
		u := b.next
		items, rels, body, err := b.pg.fetch(ctx, u)
		if errors.Is(err, errBadPage) {
			// The page is lost, but not silently: it is dead-lettered
			// whole, and its Link header still leads on.
			b.next = rels["next"]
			b.pos.Line++
			b.st.add(func(s *Stats) { s.Events++; s.Rejected++ })
			return post.Post{}, &ingest.RecordError{Source: b.name, Line: b.pos.Line, Raw: clip(body),
				Err: fmt.Errorf("page %s: %w", u, err)}
		}
		if err != nil {
			return post.Post{}, err
		}
		b.page, b.idx = items, 0
		b.next = rels["next"]
		if len(items) == 0 {
			b.next = nil
		}
	}
}

func (b *Backfill) record(raw json.RawMessage) (post.Post, error) {
	b.pos.Line++
	b.st.add(func(s *Stats) { s.Events++ })
	record := fmt.Sprintf("%s#%d", b.name, b.pos.Line)
	s, err := decodeStatus(record, raw)
	var p post.Post
	if err == nil {
		if s.ID != "" {
			// The resume point moves past a bad status too: it is
			// dead-lettered, not retried forever.
			b.pos.Cursor = string(s.ID)
		}
		p, err = b.dec.post(record, s)
	}
	if err != nil {
		b.st.add(func(s *Stats) { s.Rejected++ })
		return post.Post{}, &ingest.RecordError{Source: b.name, Line: b.pos.Line, Raw: clip(raw), Err: err}
	}
	if !b.cfg.Since.IsZero() && p.Time.Before(b.cfg.Since) {
		// Timelines run newest first: everything after is older still.
		b.done, b.page = true, nil
		b.st.skip("older than since")
		return post.Post{}, io.EOF
	}
	b.emitted++
	if b.cfg.MaxPosts > 0 && b.emitted >= b.cfg.MaxPosts {
		b.done, b.page = true, nil
	}
	b.st.add(func(s *Stats) { s.Posts++ })
	return p, nil
}
