// Package post is Vigie's data model: the posts read from platforms, the
// account snapshots that come with them, the co-actions derived from posts,
// and the clusters and alerts the pipeline produces. Every other package
// imports it and it imports none of them, so the model is the one place
// where the wire format (JSON on Kafka, with a schema version) is defined.
package post

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// SchemaVersion is the version of every record Vigie writes to Kafka. A
// consumer accepts records of this version or older and rejects newer ones
// with a clear error, so a rolling upgrade never silently misreads data.
const SchemaVersion = 1

// Limits on a post's fields. They keep one hostile or corrupt record from
// costing unbounded memory downstream; a record over a limit is rejected
// whole (and dead-lettered) rather than truncated, so evidence is never
// silently altered.
const (
	MaxIDLen      = 256
	MaxTextLen    = 64 << 10
	MaxListLen    = 256
	MaxElementLen = 2048
)

// Platform names the network a record comes from.
type Platform string

// Platforms Vigie knows. Scenario posts use PlatformTwitter, as the bundled
// scenario models Twitter in 2017.
const (
	PlatformTwitter  Platform = "twitter"
	PlatformMastodon Platform = "mastodon"
	PlatformBluesky  Platform = "bluesky"
	PlatformTelegram Platform = "telegram"
	PlatformFacebook Platform = "facebook"
	PlatformOther    Platform = "other"
)

// Post is one message as published on a platform, normalised. IDs are the
// platform's own; Key joins platform and ID so that IDs from different
// platforms never collide. References to other posts (ReplyTo, RepostOf,
// QuoteOf) are platform IDs on the same platform.
type Post struct {
	Schema      int       `json:"schema"`
	Platform    Platform  `json:"platform"`
	ID          string    `json:"id"`
	Author      string    `json:"author"`
	Time        time.Time `json:"time"`
	Text        string    `json:"text,omitempty"`
	Lang        string    `json:"lang,omitempty"`
	URLs        []string  `json:"urls,omitempty"`
	Hashtags    []string  `json:"hashtags,omitempty"`
	Mentions    []string  `json:"mentions,omitempty"`
	ReplyTo     string    `json:"reply_to,omitempty"`
	RepostOf    string    `json:"repost_of,omitempty"`
	QuoteOf     string    `json:"quote_of,omitempty"`
	MediaHashes []string  `json:"media_hashes,omitempty"`
	// Account is the author's profile as seen when the post was read. It is
	// optional: many research exports carry no profile.
	Account *Account `json:"account,omitempty"`
}

// Key is the post's identity across platforms: "platform:id". Stores use it
// as the document ID, so writing the same post twice is harmless.
func (p *Post) Key() string { return string(p.Platform) + ":" + p.ID }

// AuthorKey is the author's identity across platforms: "platform:author".
func (p *Post) AuthorKey() string { return string(p.Platform) + ":" + p.Author }

// Account is a snapshot of an account's profile at ObservedAt. Profiles
// change; Vigie keeps the snapshot that came with each post rather than
// one mutable record, so bot-likeness is judged on what was visible then.
type Account struct {
	Platform       Platform  `json:"platform"`
	ID             string    `json:"id"`
	Handle         string    `json:"handle,omitempty"`
	Name           string    `json:"name,omitempty"`
	Description    string    `json:"description,omitempty"`
	CreatedAt      time.Time `json:"created_at,omitzero"`
	Followers      int64     `json:"followers,omitempty"`
	Following      int64     `json:"following,omitempty"`
	Posts          int64     `json:"posts,omitempty"`
	Verified       bool      `json:"verified,omitempty"`
	DefaultProfile bool      `json:"default_profile,omitempty"`
	ObservedAt     time.Time `json:"observed_at,omitzero"`
}

// FieldError names the record and the field that made it invalid. Ingest
// puts its text in the dead-letter record, so an analyst can find and fix
// the source line without reading code.
type FieldError struct {
	Record string // a key, line number or offset identifying the record
	Field  string // JSON field name, dotted for nested fields
	Reason string
}

func (e *FieldError) Error() string {
	if e.Record == "" {
		return fmt.Sprintf("field %q: %s", e.Field, e.Reason)
	}
	return fmt.Sprintf("record %s: field %q: %s", e.Record, e.Field, e.Reason)
}

// ErrSchemaTooNew is returned for records written by a newer Vigie.
var ErrSchemaTooNew = errors.New("schema version newer than this build supports")

// Validate checks the post's required fields and limits. It returns a
// *FieldError naming the first bad field.
func (p *Post) Validate() error {
	rec := p.ID
	if p.Platform != "" && p.ID != "" {
		rec = p.Key()
	}
	bad := func(field, reason string) error { return &FieldError{Record: rec, Field: field, Reason: reason} }
	if p.Schema > SchemaVersion {
		return fmt.Errorf("record %s: field \"schema\": version %d: %w", rec, p.Schema, ErrSchemaTooNew)
	}
	if p.Platform == "" {
		return bad("platform", "missing")
	}
	if err := checkID(p.ID); err != "" {
		return bad("id", err)
	}
	if err := checkID(p.Author); err != "" {
		return bad("author", err)
	}
	if p.Time.IsZero() {
		return bad("time", "missing")
	}
	if y := p.Time.Year(); y < 2000 || y > 2100 {
		return bad("time", fmt.Sprintf("year %d outside 2000-2100", y))
	}
	if len(p.Text) > MaxTextLen {
		return bad("text", fmt.Sprintf("%d bytes, limit %d", len(p.Text), MaxTextLen))
	}
	if !utf8.ValidString(p.Text) {
		return bad("text", "invalid UTF-8")
	}
	for _, f := range []struct {
		name string
		v    string
	}{{"reply_to", p.ReplyTo}, {"repost_of", p.RepostOf}, {"quote_of", p.QuoteOf}} {
		if f.v == "" {
			continue
		}
		if err := checkID(f.v); err != "" {
			return bad(f.name, err)
		}
	}
	for _, l := range []struct {
		name string
		v    []string
	}{{"urls", p.URLs}, {"hashtags", p.Hashtags}, {"mentions", p.Mentions}, {"media_hashes", p.MediaHashes}} {
		if len(l.v) > MaxListLen {
			return bad(l.name, fmt.Sprintf("%d elements, limit %d", len(l.v), MaxListLen))
		}
		for i, s := range l.v {
			if s == "" || len(s) > MaxElementLen || !utf8.ValidString(s) {
				return bad(fmt.Sprintf("%s[%d]", l.name, i), "empty, too long or invalid UTF-8")
			}
		}
	}
	return nil
}

func checkID(s string) string {
	switch {
	case s == "":
		return "missing"
	case len(s) > MaxIDLen:
		return fmt.Sprintf("%d bytes, limit %d", len(s), MaxIDLen)
	case !utf8.ValidString(s):
		return "invalid UTF-8"
	case strings.ContainsAny(s, "\x00\n\r"):
		return "contains control characters"
	}
	return ""
}

// Kind is a kind of co-action: what two accounts did alike.
type Kind string

// The co-action kinds. The key of an action of each kind is documented by
// the function that derives it (see Actions).
const (
	KindRepost     Kind = "repost"      // reposted the same post
	KindLink       Kind = "link"        // shared the same canonical URL
	KindDomain     Kind = "domain"      // shared links to the same domain
	KindHashtag    Kind = "hashtag"     // used the same hashtag
	KindText       Kind = "text"        // posted near-identical text
	KindReply      Kind = "reply"       // replied to the same post
	KindMention    Kind = "mention"     // mentioned the same account
	KindMedia      Kind = "media"       // attached the same image
	KindHashtagSeq Kind = "hashtag_seq" // used the same hashtags in the same order
)

// Action is one account doing one thing at one time: the unit the graph
// builder pairs. Key identifies the shared object (the reposted post, the
// URL...), so two actions with equal Kind and Key within a time window make
// a co-action.
type Action struct {
	Schema   int       `json:"schema"`
	Platform Platform  `json:"platform"`
	Account  string    `json:"account"`
	Kind     Kind      `json:"kind"`
	Key      string    `json:"key"`
	Time     time.Time `json:"time"`
	Post     string    `json:"post"` // post ID on Platform
}

// Evidence is one shared object behind an edge: both posts and their times,
// so an analyst can open the two posts and see the co-action.
type Evidence struct {
	Kind  Kind      `json:"kind"`
	Key   string    `json:"key"`
	PostA string    `json:"post_a"`
	PostB string    `json:"post_b"`
	TimeA time.Time `json:"time_a"`
	TimeB time.Time `json:"time_b"`
}

// Edge joins two accounts (A < B) that acted alike. Weight is the number of
// distinct objects they shared within the window, the measure CooRTweet
// uses, so one object shared many times does not inflate it.
type Edge struct {
	A         string         `json:"a"`
	B         string         `json:"b"`
	Weight    int            `json:"weight"`
	Signals   map[Kind]int   `json:"signals"`
	First     time.Time      `json:"first"`
	Last      time.Time      `json:"last"`
	MeanDelta float64        `json:"mean_delta_seconds"`
	Evidence  []Evidence     `json:"evidence,omitempty"`
	Extra     map[string]any `json:"extra,omitempty"`
}

// Cluster status values. A cluster is active while the graph still holds it;
// merged when a later detection folded it into another (MergedInto names
// it); expired when its edges aged out of the retention horizon.
const (
	StatusActive  = "active"
	StatusMerged  = "merged"
	StatusExpired = "expired"
)

// Scores are a cluster's judgements, each with the reasons that produced it.
type Scores struct {
	Coordination float64  `json:"coordination"` // 0-1: how tightly the members act together
	Density      float64  `json:"density"`      // edges / possible edges
	MeanWeight   float64  `json:"mean_weight"`  // mean distinct shared objects per edge
	Synchrony    float64  `json:"synchrony"`    // 0-1: 1 when co-actions are near-simultaneous
	Risk         float64  `json:"risk"`         // 0-100
	Reasons      []string `json:"reasons,omitempty"`
	// Stance maps a candidate to the share of the cluster's posts that
	// favour (positive) or smear (negative) them, in -1..1.
	Stance map[string]float64 `json:"stance,omitempty"`
	// Factors are the risk model's inputs, each in 0..1, with their
	// weights: risk = 100 × Σ weight × value over the known factors,
	// divided by the sum of their weights.
	Factors []Factor `json:"factors,omitempty"`
}

// Factor is one input of a score.
type Factor struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`  // 0..1
	Weight float64 `json:"weight"` // share of the score when every factor is known
}

// StanceScore is the share of a cluster's member posts that favour and
// that smear one candidate, each in 0..1.
type StanceScore struct {
	Favour float64 `json:"favour"`
	Smear  float64 `json:"smear"`
}

// KeyCount is an object and how many members shared it.
type KeyCount struct {
	Kind  Kind   `json:"kind"`
	Key   string `json:"key"`
	Count int    `json:"count"`
}

// Cluster is a group of accounts that act together. ID is stable: it is
// derived from the cluster's earliest edge, which does not change while
// the cluster grows, so the same input always yields the same IDs and a
// growing cluster keeps its ID across detections.
type Cluster struct {
	Schema     int       `json:"schema"`
	ID         string    `json:"id"`
	Status     string    `json:"status"`
	MergedInto string    `json:"merged_into,omitempty"`
	Platform   Platform  `json:"platform"`
	Detected   time.Time `json:"detected"` // stream time of this detection
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
	Members    []string  `json:"members"`
	Edges      []Edge    `json:"edges"`
	// EdgeCount is the number of edges in the cluster. Edges may carry
	// fewer: a record keeps the strongest edges only, so that one large
	// cluster never exceeds a Kafka record or a store document.
	EdgeCount  int          `json:"edge_count"`
	Signals    map[Kind]int `json:"signals"` // distinct shared objects per signal
	TopObjects []KeyCount   `json:"top_objects,omitempty"`
	Posts      []string     `json:"posts,omitempty"` // sample of member posts behind the edges
	Scores     Scores       `json:"scores"`
	// Stance per candidate ID of the election being watched, from the
	// members' posts (see scoring). Target is the candidate the cluster
	// favours or smears most, TargetStance "favour" or "smear"; both are
	// empty when no candidate draws a clear share of its posts.
	Stance       map[string]StanceScore `json:"stance,omitempty"`
	Target       string                 `json:"target,omitempty"`
	TargetStance string                 `json:"target_stance,omitempty"`
	// BotShare is the share of members whose bot-likeness reaches
	// scoring.BotThreshold; BotLikeness their mean bot-likeness.
	BotShare    float64        `json:"bot_share"`
	BotLikeness float64        `json:"bot_likeness"`
	Extra       map[string]any `json:"extra,omitempty"`
	// GraphDigest, set by graph.Engine.Detect on active clusters, digests
	// the state of the edges the cluster was built from: two detections
	// that give a cluster the same digest gave it the same Members,
	// Edges, Signals, TopObjects, Posts, FirstSeen, LastSeen and binding
	// (not the same ID, Detected or scores). The graph stage uses it to
	// tell an unchanged cluster without encoding it, which at every
	// detection of a large graph cost more than detection itself. Never
	// sent: zero on decoded clusters.
	GraphDigest uint64 `json:"-"`
}

// Alert tells that a cluster crossed a rule. ID is derived from the cluster
// ID and the rule, so re-sending the same alert is harmless downstream.
type Alert struct {
	Schema    int       `json:"schema"`
	ID        string    `json:"id"`
	ClusterID string    `json:"cluster_id"`
	Rule      string    `json:"rule"`
	Time      time.Time `json:"time"` // stream time of the detection that fired it
	Risk      float64   `json:"risk"`
	Size      int       `json:"size"`
	Summary   string    `json:"summary"`
	Reasons   []string  `json:"reasons,omitempty"`
	Targets   []string  `json:"targets,omitempty"` // candidates the cluster favours or smears
}

// StableID returns a short deterministic ID: prefix + the first 16 hex
// characters of SHA-256 over the parts joined by NUL. Vigie uses it for
// every derived document ID so retries and replays overwrite, never add.
func StableID(prefix string, parts ...string) string {
	h := sha256.New()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(p))
	}
	return prefix + hex.EncodeToString(h.Sum(nil)[:8])
}

// Marshal encodes a record for Kafka, stamping the current schema version.
func Marshal(v any) ([]byte, error) {
	switch r := v.(type) {
	case *Post:
		r.Schema = SchemaVersion
	case *Cluster:
		r.Schema = SchemaVersion
	case *Alert:
		r.Schema = SchemaVersion
	case *Action:
		r.Schema = SchemaVersion
	}
	return json.Marshal(v)
}

// DecodePost parses and validates one post. record names the record in
// errors (a Kafka offset, a file line).
func DecodePost(record string, b []byte) (Post, error) {
	var p Post
	if err := json.Unmarshal(b, &p); err != nil {
		return Post{}, fmt.Errorf("record %s: %w", record, describeJSONError(err))
	}
	if err := p.Validate(); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			// Name both where the record is and which post it claims to be.
			if fe.Record == "" {
				fe.Record = record
			} else if fe.Record != record {
				fe.Record = record + " (" + fe.Record + ")"
			}
			return Post{}, err
		}
		return Post{}, fmt.Errorf("record %s: %w", record, err)
	}
	return p, nil
}

// DecodeCluster parses one cluster record.
func DecodeCluster(record string, b []byte) (Cluster, error) {
	var c Cluster
	if err := json.Unmarshal(b, &c); err != nil {
		return Cluster{}, fmt.Errorf("record %s: %w", record, describeJSONError(err))
	}
	if c.Schema > SchemaVersion {
		return Cluster{}, fmt.Errorf("record %s: field \"schema\": version %d: %w", record, c.Schema, ErrSchemaTooNew)
	}
	if c.ID == "" {
		return Cluster{}, &FieldError{Record: record, Field: "id", Reason: "missing"}
	}
	return c, nil
}

// DecodeAlert parses one alert record.
func DecodeAlert(record string, b []byte) (Alert, error) {
	var a Alert
	if err := json.Unmarshal(b, &a); err != nil {
		return Alert{}, fmt.Errorf("record %s: %w", record, describeJSONError(err))
	}
	if a.Schema > SchemaVersion {
		return Alert{}, fmt.Errorf("record %s: field \"schema\": version %d: %w", record, a.Schema, ErrSchemaTooNew)
	}
	if a.ID == "" {
		return Alert{}, &FieldError{Record: record, Field: "id", Reason: "missing"}
	}
	return a, nil
}

// describeJSONError turns encoding/json's errors into ones that name the
// field where they can.
func describeJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return &FieldError{Field: te.Field, Reason: fmt.Sprintf("cannot hold a JSON %s", te.Value)}
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d: %w", se.Offset, err)
	}
	return fmt.Errorf("invalid JSON: %w", err)
}
