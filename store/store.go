// Package store defines what Vigie needs from a durable store of its output:
// the posts it read, the clusters and alerts it produced, and the
// checkpoints of its stages. It holds the contract only, in the style of
// Jaeger's spanstore, so that the embedded SQLite store (store/sqlite) and a
// later Elasticsearch store are interchangeable behind the same interfaces
// and are held to the same behaviour by one conformance suite
// (store/storetest).
//
// Every Put is an upsert keyed by a stable ID, so the at-least-once delivery
// of Kafka can replay a batch without changing the result; a stage commits
// its Kafka offsets only after a Put (or SaveCheckpoint) has returned, which
// is why backends must make a returned write durable.
//
// Times are returned in UTC. Backends compare them at full precision; the
// conformance suite relies on millisecond precision only, so that a backend
// indexing milliseconds passes it.
package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/vigie-osint/vigie/post"
)

// ErrNotFound is returned (wrapped; test with errors.Is) when a post,
// cluster, account or checkpoint does not exist.
var ErrNotFound = errors.New("not found")

// ErrInvalidQuery is wrapped by every query validation error, so an HTTP
// layer can answer 400 instead of 500 without parsing messages.
var ErrInvalidQuery = errors.New("invalid query")

// QueryError names the query field that made a query invalid. Its Unwrap
// gives ErrInvalidQuery.
type QueryError struct {
	Field  string // the field's JSON-style name, e.g. "limit"
	Reason string
}

func (e *QueryError) Error() string {
	return fmt.Sprintf("invalid query: field %q: %s", e.Field, e.Reason)
}

// Unwrap lets errors.Is(err, ErrInvalidQuery) hold.
func (e *QueryError) Unwrap() error { return ErrInvalidQuery }

// Paging limits shared by every query. A limit above MaxLimit is lowered to
// it rather than refused, so a UI asking for "everything" still gets an
// answer of bounded cost.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// Sizes of the lists in an AccountView.
const (
	AccountRecentPosts = 20
	AccountClusters    = 100
)

// MaxQueryTerms bounds the number of terms and phrases of a full-text query
// that are used; the rest are ignored. It keeps one pasted document from
// turning into an unbounded query.
const MaxQueryTerms = 64

// Cluster status filters beyond the post.Status* values.
const (
	// StatusAll selects clusters of every status.
	StatusAll = "all"
)

// PostQuery selects posts. Zero fields do not filter.
type PostQuery struct {
	// Text is a full-text query. It is never parsed as a query language:
	// whitespace-separated words must all match (in the text or the
	// hashtags), "double-quoted words" must match as a phrase, and a word
	// ending in * matches as a prefix. Any other character is literal, so no
	// user input can make a query fail; words with no letter or digit are
	// ignored, and a Text made only of such words matches nothing.
	Text     string
	Author   string // account key "platform:author"
	Platform post.Platform
	// Hashtag matches a hashtag exactly, ignoring case and a leading '#'.
	Hashtag string
	From    time.Time // inclusive; zero = open
	To      time.Time // exclusive; zero = open
	Limit   int       // 0 = DefaultLimit; capped at MaxLimit
	Offset  int
}

// Normalized checks q and returns it with Limit defaulted and capped and
// Hashtag normalized. Backends call it first.
func (q PostQuery) Normalized() (PostQuery, error) {
	var err error
	if q.Limit, err = limit(q.Limit, q.Offset); err != nil {
		return q, err
	}
	if !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From) {
		return q, &QueryError{Field: "to", Reason: "before from"}
	}
	q.Hashtag = NormalizeHashtag(q.Hashtag)
	return q, nil
}

// ClusterQuery selects clusters.
type ClusterQuery struct {
	// Status is "" for active clusters only, StatusAll for every status, or
	// one of post.StatusActive, post.StatusMerged, post.StatusExpired.
	Status  string
	MinRisk float64   // Risk >= MinRisk; 0 = no filter
	Since   time.Time // LastSeen >= Since; zero = no filter
	Account string    // clusters whose members include this account key
	Limit   int       // 0 = DefaultLimit; capped at MaxLimit
	Offset  int
}

// Normalized checks q and returns it with Status and Limit defaulted.
func (q ClusterQuery) Normalized() (ClusterQuery, error) {
	var err error
	if q.Limit, err = limit(q.Limit, q.Offset); err != nil {
		return q, err
	}
	switch q.Status {
	case "":
		q.Status = post.StatusActive
	case StatusAll, post.StatusActive, post.StatusMerged, post.StatusExpired:
	default:
		// An unknown status is refused rather than matching nothing, so a
		// typo in a URL is not mistaken for "no clusters".
		return q, &QueryError{Field: "status", Reason: fmt.Sprintf("unknown status %q", q.Status)}
	}
	if math.IsNaN(q.MinRisk) || math.IsInf(q.MinRisk, 0) {
		return q, &QueryError{Field: "min_risk", Reason: "not a finite number"}
	}
	return q, nil
}

// AlertQuery selects alerts.
type AlertQuery struct {
	ClusterID string    // alerts of this cluster only
	Since     time.Time // Time >= Since; zero = no filter
	Limit     int       // 0 = DefaultLimit; capped at MaxLimit
	Offset    int
}

// Normalized checks q and returns it with Limit defaulted and capped.
func (q AlertQuery) Normalized() (AlertQuery, error) {
	var err error
	q.Limit, err = limit(q.Limit, q.Offset)
	return q, err
}

func limit(limit, offset int) (int, error) {
	switch {
	case limit < 0:
		return 0, &QueryError{Field: "limit", Reason: fmt.Sprintf("negative (%d)", limit)}
	case offset < 0:
		return 0, &QueryError{Field: "offset", Reason: fmt.Sprintf("negative (%d)", offset)}
	case limit == 0:
		return DefaultLimit, nil
	case limit > MaxLimit:
		return MaxLimit, nil
	}
	return limit, nil
}

// NormalizeHashtag gives the form hashtags are stored and matched in:
// without a leading '#' and lower-cased, since platforms treat hashtags
// case-insensitively and a campaign mixes #MacronLeaks and #macronleaks.
func NormalizeHashtag(tag string) string {
	return strings.ToLower(strings.TrimLeft(strings.TrimSpace(tag), "#"))
}

// NormalizeTags gives the distinct non-empty normalized hashtags of tags,
// in their first order: what every backend stores and searches.
func NormalizeTags(tags []string) []string {
	out := make([]string, 0, len(tags))
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		n := NormalizeHashtag(t)
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, n)
	}
	return out
}

// ClusterSummary is what a list of clusters shows: a cluster without its
// edges, members and evidence, which can be large.
type ClusterSummary struct {
	ID         string            `json:"id"`
	Status     string            `json:"status"`
	MergedInto string            `json:"merged_into,omitempty"`
	Platform   post.Platform     `json:"platform"`
	Size       int               `json:"size"`
	Risk       float64           `json:"risk"`
	FirstSeen  time.Time         `json:"first_seen"`
	LastSeen   time.Time         `json:"last_seen"`
	Detected   time.Time         `json:"detected"`
	Signals    map[post.Kind]int `json:"signals,omitempty"`
	Reasons    []string          `json:"reasons,omitempty"`
	TopObjects []post.KeyCount   `json:"top_objects,omitempty"`
	// Target, TargetStance and BotShare come from scoring (see
	// post.Cluster), so a list shows whom each cluster targets.
	Target       string  `json:"target,omitempty"`
	TargetStance string  `json:"target_stance,omitempty"`
	BotShare     float64 `json:"bot_share"`
}

// Summarize gives the summary of c. Size is the number of members.
func Summarize(c *post.Cluster) ClusterSummary {
	return ClusterSummary{
		ID:         c.ID,
		Status:     c.Status,
		MergedInto: c.MergedInto,
		Platform:   c.Platform,
		Size:       len(c.Members),
		Risk:       c.Scores.Risk,
		FirstSeen:  c.FirstSeen.UTC(),
		LastSeen:   c.LastSeen.UTC(),
		Detected:   c.Detected.UTC(),
		Signals:    c.Signals,
		Reasons:    c.Scores.Reasons,
		TopObjects: c.TopObjects,

		Target:       c.Target,
		TargetStance: c.TargetStance,
		BotShare:     c.BotShare,
	}
}

// AccountView is everything the store knows about one account.
type AccountView struct {
	Key string `json:"key"` // "platform:author"
	// Account is the latest profile snapshot seen with the account's posts:
	// the one with the latest ObservedAt, or post time when ObservedAt is
	// zero. Nil when no post carried one.
	Account   *post.Account `json:"account,omitempty"`
	Posts     int           `json:"posts"`
	FirstPost time.Time     `json:"first_post,omitzero"`
	LastPost  time.Time     `json:"last_post,omitzero"`
	// Clusters that list the account as a member, of every status, in
	// ListClusters order, at most AccountClusters of them.
	Clusters []ClusterSummary `json:"clusters"`
	// Recent holds the account's newest posts, newest first, at most
	// AccountRecentPosts of them.
	Recent []post.Post `json:"recent"`
}

// Stats counts what the store holds. Accounts counts the distinct authors
// of stored posts.
type Stats struct {
	Posts          int64 `json:"posts"`
	Accounts       int64 `json:"accounts"`
	Clusters       int64 `json:"clusters"`
	ActiveClusters int64 `json:"active_clusters"`
	Alerts         int64 `json:"alerts"`
}

// Writer stores pipeline output. Each call is all-or-nothing: when it
// returns nil every record is durable, when it returns an error none of
// them need be, and the caller retries the whole batch.
type Writer interface {
	// PutPosts upserts posts by p.Key(). It validates every post
	// (post.Validate) before writing any. Re-putting a post replaces it,
	// including its searchable text and hashtags. Within one batch, the
	// last of several posts with the same key wins.
	PutPosts(ctx context.Context, posts []post.Post) error
	// PutClusters upserts clusters by ID but never replaces a stored
	// cluster with one detected earlier: replays after a restart must not
	// roll a cluster back. On equal Detected the later write wins, so a
	// status change made at the same stream time applies.
	PutClusters(ctx context.Context, cs []post.Cluster) error
	// PutAlerts upserts alerts by ID, under the same rule as PutClusters
	// with Time in place of Detected.
	PutAlerts(ctx context.Context, as []post.Alert) error
}

// Reader queries stored output.
type Reader interface {
	// SearchPosts returns a page of matching posts, newest first (time
	// descending, then key ascending), and the total number of matches.
	SearchPosts(ctx context.Context, q PostQuery) ([]post.Post, int, error)
	GetPost(ctx context.Context, key string) (post.Post, error)
	// ListClusters returns matching clusters by risk descending, then size
	// descending, then ID ascending.
	ListClusters(ctx context.Context, q ClusterQuery) ([]ClusterSummary, error)
	GetCluster(ctx context.Context, id string) (post.Cluster, error)
	// GetAccount returns ErrNotFound unless the account authored a stored
	// post or is a member of a stored cluster.
	GetAccount(ctx context.Context, key string) (AccountView, error)
	// ListAlerts returns matching alerts by time descending, then ID
	// ascending.
	ListAlerts(ctx context.Context, q AlertQuery) ([]post.Alert, error)
	Stats(ctx context.Context) (Stats, error)
}

// Checkpoints hold stage state (graph engine snapshots, ingest source
// positions) in the same durable store as the output, so a stage can save
// its state and then commit Kafka offsets.
type Checkpoints interface {
	// SaveCheckpoint replaces the named checkpoint.
	SaveCheckpoint(ctx context.Context, name string, data []byte) error
	// LoadCheckpoint returns ErrNotFound when none was saved.
	LoadCheckpoint(ctx context.Context, name string) ([]byte, error)
}

// MaxBriefingBytes bounds the documents of one briefing (Markdown plus
// HTML, charts included). A briefing embeds its charts, so it is larger
// than any other record, but a bound keeps one runaway rendering from
// costing unbounded memory in a backend or a client.
const MaxBriefingBytes = 16 << 20

// Briefing is one daily influence briefing as rendered by package brief:
// its documents are stored whole, so the briefing an editor read (or a
// subscriber was sent a link to) can be fetched again unchanged even after
// the underlying clusters moved on.
type Briefing struct {
	// Date is the UTC day the briefing covers, "2006-01-02". It is the
	// briefing's ID: there is one briefing per day.
	Date string `json:"date"`
	// Generated is the wall-clock time of rendering.
	Generated time.Time `json:"generated"`
	Title     string    `json:"title"`
	// Summary is the executive summary as plain text, for lists and for
	// the webhook that announces the briefing.
	Summary  string `json:"summary"`
	Markdown string `json:"markdown"`
	// HTML is a self-contained page: its charts are embedded (data: URIs),
	// so it renders with no other request.
	HTML string `json:"html"`
}

// BriefingSummary is what a list of briefings shows: a briefing without
// its documents.
type BriefingSummary struct {
	Date      string    `json:"date"`
	Generated time.Time `json:"generated"`
	Title     string    `json:"title"`
	Summary   string    `json:"summary"`
}

// Summarize gives the list entry of b.
func (b *Briefing) Summarize() BriefingSummary {
	return BriefingSummary{Date: b.Date, Generated: b.Generated.UTC(), Title: b.Title, Summary: b.Summary}
}

// Validate checks a briefing before it is stored: a valid date and the
// size bound. Backends call it first and write nothing when it fails.
func (b *Briefing) Validate() error {
	if _, err := ParseBriefingDate(b.Date); err != nil {
		return err
	}
	if n := len(b.Markdown) + len(b.HTML) + len(b.Summary) + len(b.Title); n > MaxBriefingBytes {
		return &post.FieldError{Record: "briefing " + b.Date, Field: "html", Reason: fmt.Sprintf("documents total %d bytes, limit %d", n, MaxBriefingBytes)}
	}
	return nil
}

// ParseBriefingDate parses a briefing date ("2006-01-02") and gives the
// start of that UTC day. The error names the field, so a bad URL or flag
// answers 400 with a reason.
func ParseBriefingDate(date string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, date)
	if err != nil || d.Format(time.DateOnly) != date {
		return time.Time{}, &QueryError{Field: "date", Reason: fmt.Sprintf("%q is not a date of the form YYYY-MM-DD", date)}
	}
	return d, nil
}

// BriefingQuery selects briefings.
type BriefingQuery struct {
	Limit  int // 0 = DefaultLimit; capped at MaxLimit
	Offset int
}

// Normalized checks q and returns it with Limit defaulted and capped.
func (q BriefingQuery) Normalized() (BriefingQuery, error) {
	var err error
	q.Limit, err = limit(q.Limit, q.Offset)
	return q, err
}

// Briefings hold the rendered daily briefings (package brief), in the
// same store as the output they summarise, so `vigie serve` can list and
// serve them and a briefing survives the process that rendered it.
//
// Added for issue 8 (alerts and briefings); every backend implements it
// and store/storetest's "Briefings" test holds them to the same
// behaviour.
type Briefings interface {
	// PutBriefing upserts a briefing by Date after b.Validate(); the last
	// write wins, since a briefing re-rendered for the same day (after late
	// data) replaces the earlier rendering. A returned write is durable.
	PutBriefing(ctx context.Context, b Briefing) error
	// GetBriefing returns the briefing of a date (documents included), or
	// an error wrapping ErrNotFound. A malformed date is a *QueryError.
	GetBriefing(ctx context.Context, date string) (Briefing, error)
	// ListBriefings returns briefings without their documents, newest
	// date first.
	ListBriefings(ctx context.Context, q BriefingQuery) ([]BriefingSummary, error)
}

// Retention deletes personal data past its retention period
// (privacy.post_retention; docs/privacy.md).
//
// Added for issue 11 (privacy); every backend implements it and
// store/storetest's "Retention" test holds them to the same behaviour.
type Retention interface {
	// DeletePostsBefore deletes every post whose Time is before t (t
	// itself is kept), with its searchable text and hashtags, and the
	// account records (profile snapshots) of the authors it leaves with
	// no stored post. It returns the number of posts deleted. Clusters,
	// alerts and briefings are kept: a cluster's evidence names posts by
	// key and time only, and GetPost then answers ErrNotFound for a
	// deleted one. Deleting is idempotent: a second call deletes nothing.
	// A returned deletion is durable.
	DeletePostsBefore(ctx context.Context, t time.Time) (int64, error)
}

// Store is a complete backend.
type Store interface {
	Writer
	Reader
	Checkpoints
	Briefings
	Retention
	Close() error
}

// UTCPost returns p with its times in UTC, so that stored JSON reads back
// in UTC whatever zone the producer used. p's Account is copied, not
// changed. Backends call it before writing.
func UTCPost(p post.Post) post.Post {
	p.Time = p.Time.UTC()
	if p.Account != nil {
		a := *p.Account
		a.CreatedAt = a.CreatedAt.UTC()
		a.ObservedAt = a.ObservedAt.UTC()
		p.Account = &a
	}
	return p
}

// UTCCluster returns c with its times in UTC. Edges and evidence are
// copied, never changed in place: the caller still owns c.
func UTCCluster(c post.Cluster) post.Cluster {
	c.Detected = c.Detected.UTC()
	c.FirstSeen = c.FirstSeen.UTC()
	c.LastSeen = c.LastSeen.UTC()
	if c.Edges != nil {
		edges := make([]post.Edge, len(c.Edges))
		for i, e := range c.Edges {
			e.First, e.Last = e.First.UTC(), e.Last.UTC()
			if e.Evidence != nil {
				ev := make([]post.Evidence, len(e.Evidence))
				for j, x := range e.Evidence {
					x.TimeA, x.TimeB = x.TimeA.UTC(), x.TimeB.UTC()
					ev[j] = x
				}
				e.Evidence = ev
			}
			edges[i] = e
		}
		c.Edges = edges
	}
	return c
}
