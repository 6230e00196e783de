package sources

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/vigie-osint/vigie/ingest"
	"github.com/vigie-osint/vigie/ingest/bluesky"
	"github.com/vigie-osint/vigie/ingest/mastodon"
	"github.com/vigie-osint/vigie/ingest/twitter"
	"github.com/vigie-osint/vigie/post"
)

// LiveOptions select and configure a live source. Credentials never come
// from here: Mastodon's token from $VIGIE_MASTODON_TOKEN or the file named
// by $VIGIE_MASTODON_TOKEN_FILE, Twitter's keys from $VIGIE_TWITTER_* or
// CredentialsFile.
type LiveOptions struct {
	Kind string // LiveTwitter, LiveMastodon or LiveBluesky

	// Mastodon: Server is the instance (https://host) and Timeline one of
	// public, public:local, public:remote, hashtag:TAG, hashtag:TAG:local,
	// user or list:ID; or Endpoint is a full streaming URL.
	Server, Timeline, Endpoint string
	// Backfill first reads the matching REST timeline back to Since (or
	// MaxPosts statuses), then switches to the stream (Mastodon only).
	Backfill bool
	Since    time.Time
	MaxPosts int

	// Bluesky: the Jetstream subscribe URL with its filters ("" for the
	// public default).
	Jetstream string

	// Twitter filter stream predicates and credentials.
	Track, Follow, Locations, Language []string
	CredentialsFile                    string
	StreamURL                          string // replaces the API's, for tests

	// ThenLive, when it names a file, reads that file first (in
	// ThenLiveFormat, default jsonl) and then switches to the live
	// source without a gap: the live source starts from the newest post
	// the file held, and the duplicates of the overlap are dropped by
	// the normaliser's dedupe (same platform ID, same content).
	FromFile, FromFormat string
	File                 FileOptions // other options of the file (mapping, platform)

	Log *slog.Logger
}

// Name is the live source's stable name, for checkpoints and logs: the
// endpoint URL without secrets. Two runs with the same options resume
// from the same checkpoint.
func (o *LiveOptions) Name() (string, error) {
	switch normal(o.Kind) {
	case LiveMastodon:
		u, err := o.mastodonURL()
		if err != nil {
			return "", err
		}
		if o.Backfill {
			u += "#backfill"
		}
		return u, nil
	case LiveBluesky:
		u := o.Jetstream
		if u == "" {
			u = bluesky.DefaultURL
		}
		return u, nil
	case LiveTwitter:
		q := url.Values{}
		for k, v := range map[string][]string{"track": o.Track, "follow": o.Follow, "locations": o.Locations, "language": o.Language} {
			if len(v) > 0 {
				q.Set(k, strings.Join(v, ","))
			}
		}
		return "twitter-stream:" + q.Encode(), nil
	}
	return "", fmt.Errorf("ingest: unknown live source %q (want %s)", o.Kind, strings.Join(LiveSources(), ", "))
}

// mastodonURL builds the streaming endpoint from Server and Timeline.
func (o *LiveOptions) mastodonURL() (string, error) {
	if o.Endpoint != "" {
		return o.Endpoint, nil
	}
	if o.Server == "" {
		return "", errors.New("mastodon: --server is required (https://instance)")
	}
	base := strings.TrimRight(o.Server, "/")
	if !strings.Contains(base, "://") {
		base = "https://" + base
	}
	tl := o.Timeline
	if tl == "" {
		tl = "public"
	}
	kind, rest, _ := strings.Cut(tl, ":")
	switch kind {
	case "public":
		switch rest {
		case "":
			return base + "/api/v1/streaming/public", nil
		case "local", "remote":
			return base + "/api/v1/streaming/public/" + rest, nil
		}
	case "hashtag":
		tag, local, _ := strings.Cut(rest, ":")
		tag = strings.TrimPrefix(tag, "#")
		if tag == "" {
			break
		}
		path := "/api/v1/streaming/hashtag"
		if local == "local" {
			path += "/local"
		} else if local != "" {
			break
		}
		return base + path + "?tag=" + url.QueryEscape(tag), nil
	case "user":
		if rest == "" {
			return base + "/api/v1/streaming/user", nil
		}
	case "list":
		if rest != "" {
			return base + "/api/v1/streaming/list?list=" + url.QueryEscape(rest), nil
		}
	}
	return "", fmt.Errorf("mastodon: timeline %q: want public, public:local, public:remote, hashtag:TAG, hashtag:TAG:local, user or list:ID", tl)
}

// timelineURL is the REST timeline a streaming endpoint carries.
func timelineURL(stream string) (string, error) {
	u, err := url.Parse(stream)
	if err != nil {
		return "", err
	}
	q := u.Query()
	path := strings.TrimSuffix(u.Path, "/")
	tq := url.Values{}
	switch path {
	case "/api/v1/streaming/public", "/api/v1/streaming/public/local", "/api/v1/streaming/public/remote":
		u.Path = "/api/v1/timelines/public"
		if strings.HasSuffix(path, "/local") {
			tq.Set("local", "true")
		}
		if strings.HasSuffix(path, "/remote") {
			tq.Set("remote", "true")
		}
	case "/api/v1/streaming/hashtag", "/api/v1/streaming/hashtag/local":
		u.Path = "/api/v1/timelines/tag/" + url.PathEscape(q.Get("tag"))
		if strings.HasSuffix(path, "/local") {
			tq.Set("local", "true")
		}
	case "/api/v1/streaming/user":
		u.Path = "/api/v1/timelines/home"
	case "/api/v1/streaming/list":
		u.Path = "/api/v1/timelines/list/" + url.PathEscape(q.Get("list"))
	default:
		return "", fmt.Errorf("mastodon: %s has no REST timeline to backfill from", stream)
	}
	u.RawQuery = tq.Encode()
	return u.String(), nil
}

// OpenLive opens the live source at from (zero: from now, or from the
// file or backfill first when the options ask for one).
func OpenLive(ctx context.Context, o LiveOptions, from ingest.Position) (ingest.Source, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	first, err := o.firstPhase()
	if err != nil {
		return nil, err
	}
	live := func(ctx context.Context, h Handoff, from ingest.Position) (ingest.Source, error) {
		return o.openLive(ctx, h, from)
	}
	if first == nil {
		return live(ctx, Handoff{}, from)
	}
	return OpenChain(ctx, from, first, live)
}

// firstPhase is the opener of what is read before the stream, or nil.
func (o *LiveOptions) firstPhase() (func(ctx context.Context, from ingest.Position) (ingest.Source, error), error) {
	if o.FromFile != "" && o.Backfill {
		return nil, errors.New("ingest: give either a file to read first or --backfill, not both")
	}
	if o.FromFile != "" {
		fo := o.File
		fo.Path, fo.Format, fo.Log = o.FromFile, o.FromFormat, o.Log
		if fo.Format == "" {
			fo.Format = FormatJSONL
		}
		if !IsFile(fo.Format) {
			return nil, fmt.Errorf("ingest: --then-live file format %q is not a file format (want one of %s)", fo.Format, strings.Join(Formats(), ", "))
		}
		return func(ctx context.Context, from ingest.Position) (ingest.Source, error) {
			return OpenFile(ctx, fo, from)
		}, nil
	}
	if o.Backfill {
		if normal(o.Kind) != LiveMastodon {
			return nil, fmt.Errorf("ingest: --backfill is for mastodon only (%s has no history API here)", o.Kind)
		}
		stream, err := o.mastodonURL()
		if err != nil {
			return nil, err
		}
		tl, err := timelineURL(stream)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, from ingest.Position) (ingest.Source, error) {
			cfg := mastodon.Config{URL: tl, Since: o.Since, MaxPosts: o.MaxPosts, Log: o.Log}
			if cfg.Token, err = mastodonToken(); err != nil {
				return nil, err
			}
			return mastodon.New(cfg, from)
		}, nil
	}
	return nil, nil
}

// openLive opens the stream itself; h says where the first phase ended,
// used when from (a checkpoint of the live phase) is zero.
func (o *LiveOptions) openLive(ctx context.Context, h Handoff, from ingest.Position) (ingest.Source, error) {
	switch normal(o.Kind) {
	case LiveMastodon:
		u, err := o.mastodonURL()
		if err != nil {
			return nil, err
		}
		cfg := mastodon.Config{URL: u, Log: o.Log}
		if cfg.Token, err = mastodonToken(); err != nil {
			return nil, err
		}
		if from == (ingest.Position{}) && h.Posts > 0 {
			// The stream catches up over REST from the newest status
			// the first phase held (min_id), then reads live: no gap.
			from.Cursor = h.MaxID
			cfg.CatchUp = 5000
		}
		return mastodon.New(cfg, from)
	case LiveBluesky:
		if from == (ingest.Position{}) && !h.Newest.IsZero() {
			// Jetstream replays from a time_us cursor: the newest post's
			// time (the source subtracts its replay margin).
			from.Cursor = strconv.FormatInt(h.Newest.UnixMicro(), 10)
		}
		return bluesky.New(bluesky.Config{URL: o.Jetstream, Log: o.Log}, from)
	case LiveTwitter:
		creds, err := twitter.LoadCredentials(o.CredentialsFile, o.Log)
		if err != nil {
			return nil, err
		}
		// The v1.1 filter stream cannot replay: it starts from now.
		return twitter.NewStream(twitter.StreamConfig{Track: o.Track, Follow: o.Follow, Locations: o.Locations,
			Language: o.Language, Credentials: creds, BaseURL: o.StreamURL, Log: o.Log})
	}
	return nil, fmt.Errorf("ingest: unknown live source %q (want %s)", o.Kind, strings.Join(LiveSources(), ", "))
}

// mastodonToken reads the token as mastodon.Open does: from
// $VIGIE_MASTODON_TOKEN, else the file $VIGIE_MASTODON_TOKEN_FILE names,
// so it never passes through a URL, a flag or a log line.
func mastodonToken() (string, error) {
	if t := strings.TrimSpace(os.Getenv(mastodon.TokenEnv)); t != "" {
		return t, nil
	}
	if f := os.Getenv(mastodon.TokenFileEnv); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("mastodon: token file: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return "", nil
}

// Handoff is where the first phase of a chain ended: what the live phase
// needs to start without a gap.
type Handoff struct {
	Posts  int64     // posts the first phase returned
	Newest time.Time // the latest post time seen
	// MaxID is the highest platform status ID seen (numeric IDs compared
	// as numbers), without the instance prefix of Mastodon keys.
	MaxID string
}

func (h *Handoff) see(p *post.Post) {
	h.Posts++
	if p.Time.After(h.Newest) {
		h.Newest = p.Time
	}
	id := p.ID
	if i := strings.LastIndexByte(id, ':'); i >= 0 {
		id = id[i+1:]
	}
	if isNumeric(id) && (h.MaxID == "" || len(id) > len(h.MaxID) || (len(id) == len(h.MaxID) && id > h.MaxID)) {
		h.MaxID = id
	}
}

func isNumeric(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// liveMark prefixes the live phase's cursor in a chain's Position, so a
// restart knows the first phase is done.
const liveMark = "live:"

// Chain reads a finite source (a file, a REST backfill) to its end, then
// a live source opened from where the first ended (see Handoff). It
// implements ingest.Source and never returns io.EOF once live.
//
// Its Position is the first source's while that is read, then the live
// source's with the cursor marked "live:"; OpenChain on a live position
// skips the first phase. A restart in the first phase resumes there, and
// its handoff then covers only the rest of it (the live source's own
// catch-up or replay still bridges the gap it can).
type Chain struct {
	first    ingest.Source
	live     ingest.Source
	openLive func(ctx context.Context, h Handoff, from ingest.Position) (ingest.Source, error)
	hand     Handoff
	// Switched is called once, when the live phase opens (for logs).
	Switched func(h Handoff)
}

// OpenChain opens a chain at from.
func OpenChain(ctx context.Context, from ingest.Position,
	openFirst func(ctx context.Context, from ingest.Position) (ingest.Source, error),
	openLive func(ctx context.Context, h Handoff, from ingest.Position) (ingest.Source, error)) (*Chain, error) {
	c := &Chain{openLive: openLive}
	if cur, ok := strings.CutPrefix(from.Cursor, liveMark); ok {
		from.Cursor = cur
		live, err := openLive(ctx, Handoff{}, from)
		if err != nil {
			return nil, err
		}
		c.live = live
		return c, nil
	}
	first, err := openFirst(ctx, from)
	if err != nil {
		return nil, err
	}
	c.first = first
	return c, nil
}

// Next returns the first source's records, then the live source's.
func (c *Chain) Next(ctx context.Context) (post.Post, error) {
	if c.first != nil {
		p, err := c.first.Next(ctx)
		if !errors.Is(err, io.EOF) {
			if err == nil {
				c.hand.see(&p)
			}
			return p, err
		}
		live, lerr := c.openLive(ctx, c.hand, ingest.Position{})
		if lerr != nil {
			return post.Post{}, lerr
		}
		c.first.Close()
		c.first, c.live = nil, live
		if c.Switched != nil {
			c.Switched(c.hand)
		}
	}
	return c.live.Next(ctx)
}

// Position is the first source's, then the live source's marked "live:".
func (c *Chain) Position() ingest.Position {
	if c.first != nil {
		return c.first.Position()
	}
	p := c.live.Position()
	p.Cursor = liveMark + p.Cursor
	return p
}

// Handoff returns what the first phase has read so far.
func (c *Chain) Handoff() Handoff { return c.hand }

// Live reports whether the chain reads its live source.
func (c *Chain) Live() bool { return c.first == nil }

// Close closes the open source.
func (c *Chain) Close() error {
	if c.first != nil {
		return c.first.Close()
	}
	if c.live != nil {
		return c.live.Close()
	}
	return nil
}

// OpenNamed opens a source named the way `ingest.format` and
// `ingest.source` name it: a file format and a path, or a live source and
// its endpoint (a Mastodon streaming or timelines URL, a Jetstream URL,
// or the Twitter stream's predicates as a query: track=a,b&follow=1).
func OpenNamed(ctx context.Context, format, name string, file FileOptions, log *slog.Logger, from ingest.Position) (ingest.Source, error) {
	switch normal(format) {
	case LiveMastodon:
		return mastodon.Open(ctx, name, from)
	case LiveBluesky:
		return bluesky.Open(ctx, name, from)
	case LiveTwitter:
		q, err := url.ParseQuery(strings.TrimPrefix(name, "twitter-stream:"))
		if err != nil {
			return nil, fmt.Errorf("twitter stream: source %q: want track=a,b&follow=1,2: %w", name, err)
		}
		split := func(k string) []string {
			if v := q.Get(k); v != "" {
				return strings.Split(v, ",")
			}
			return nil
		}
		o := LiveOptions{Kind: LiveTwitter, Track: split("track"), Follow: split("follow"),
			Locations: split("locations"), Language: split("language"), Log: log}
		return o.openLive(ctx, Handoff{}, from)
	}
	file.Format, file.Path, file.Log = format, name, log
	return OpenFile(ctx, file, from)
}
