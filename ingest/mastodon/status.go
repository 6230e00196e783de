package mastodon

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/vigie-osint/vigie/ingest"
	"github.com/vigie-osint/vigie/post"
)

// The ID scheme.
//
// A Mastodon status ID is assigned by the instance that serves it: the
// same remote status has a different ID on every instance, and only its
// ActivityPub URI is the same everywhere. Vigie keys a status as
// "<instance>:<id>", the observing instance's host name and its local ID,
// because the references the API gives are local IDs too: a reply's
// in_reply_to_id, a boost's reblog.id and a quote's quoted_status_id all
// map into that scheme with no extra request. That is what lets a reply
// brigade on a candidate's post share one ReplyTo key even when the source
// never saw the candidate's post. Keys are stable (local IDs never change)
// and unique (the instance name namespaces them). The cost: the same
// status read through two instances has two keys, so run one source per
// instance and do not expect deduplication across instances.
//
// Accounts are keyed by their acct made global, "user@domain": remote
// accounts already carry their domain, local ones get the instance's
// (Config.Instance), and both are lower-cased because Mastodon usernames
// are case-insensitive.

// StatusKey returns Vigie's ID for status id as served by instance.
func StatusKey(instance, id string) string { return instance + ":" + id }

// flexID accepts a status or account ID as a JSON string, or as a number
// from servers that send one.
type flexID string

func (f *flexID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*f = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		// A type error lets encoding/json name the field.
		return &json.UnmarshalTypeError{Value: jsonKind(b), Type: reflect.TypeFor[string]()}
	}
	*f = flexID(n.String())
	return nil
}

// status is the part of Mastodon's Status entity Vigie reads.
type status struct {
	ID          flexID   `json:"id"`
	CreatedAt   string   `json:"created_at"`
	InReplyToID flexID   `json:"in_reply_to_id"`
	SpoilerText string   `json:"spoiler_text"`
	Language    *string  `json:"language"`
	Content     string   `json:"content"`
	Reblog      *status  `json:"reblog"`
	Account     *account `json:"account"`
	Mentions    []struct {
		Acct string `json:"acct"`
	} `json:"mentions"`
	Tags []struct {
		Name string `json:"name"`
	} `json:"tags"`
	Card *struct {
		URL string `json:"url"`
	} `json:"card"`
	// Quote is a Quote ({state, quoted_status}) or a ShallowQuote
	// ({state, quoted_status_id}), Mastodon 4.4 and later.
	Quote *struct {
		State          string  `json:"state"`
		QuotedStatus   *status `json:"quoted_status"`
		QuotedStatusID flexID  `json:"quoted_status_id"`
	} `json:"quote"`
}

type account struct {
	Acct           string `json:"acct"`
	DisplayName    string `json:"display_name"`
	Note           string `json:"note"`
	Avatar         string `json:"avatar"`
	CreatedAt      string `json:"created_at"`
	FollowersCount int64  `json:"followers_count"`
	FollowingCount int64  `json:"following_count"`
	StatusesCount  int64  `json:"statuses_count"`
}

// Decoder turns Mastodon Status JSON into posts.
type Decoder struct {
	// Instance is the observing instance's host name: the prefix of
	// status keys and the domain of its local accounts.
	Instance string
	// Now stamps account snapshots and bounds post times; nil is
	// time.Now.
	Now func() time.Time
}

// Decode turns one Status JSON into a normalised, valid post. record names
// it in errors (a stream event or a page position). Errors are
// *post.FieldError naming the field, wrapped with the record.
func (d *Decoder) Decode(record string, raw []byte) (post.Post, error) {
	s, err := decodeStatus(record, raw)
	if err != nil {
		return post.Post{}, err
	}
	return d.post(record, s)
}

func decodeStatus(record string, raw []byte) (*status, error) {
	var s status
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("record %s: %w", record, describeJSONError(err))
	}
	return &s, nil
}

func (d *Decoder) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Decoder) post(record string, s *status) (post.Post, error) {
	rec := record
	if s.ID != "" {
		rec = record + " (" + StatusKey(d.Instance, string(s.ID)) + ")"
	}
	bad := func(field, reason string) error { return &post.FieldError{Record: rec, Field: field, Reason: reason} }
	if s.ID == "" {
		return post.Post{}, bad("id", "missing")
	}
	if s.Account == nil || s.Account.Acct == "" {
		return post.Post{}, bad("account.acct", "missing")
	}
	created, err := parseTime(s.CreatedAt)
	if err != nil {
		return post.Post{}, bad("created_at", err.Error())
	}
	now := d.now()
	p := post.Post{
		Schema:   post.SchemaVersion,
		Platform: post.PlatformMastodon,
		ID:       StatusKey(d.Instance, string(s.ID)),
		Author:   d.acct(s.Account.Acct),
		Time:     created,
	}
	// A boost carries no content of its own: its text, links and tags are
	// the boosted status's, as a retweet's are, and RepostOf names it.
	content := s
	if s.Reblog != nil {
		if s.Reblog.ID == "" {
			return post.Post{}, bad("reblog.id", "missing")
		}
		p.RepostOf = StatusKey(d.Instance, string(s.Reblog.ID))
		content = s.Reblog
	} else {
		if s.InReplyToID != "" {
			p.ReplyTo = StatusKey(d.Instance, string(s.InReplyToID))
		}
		if q := s.Quote; q != nil {
			switch {
			case q.QuotedStatus != nil && q.QuotedStatus.ID != "":
				p.QuoteOf = StatusKey(d.Instance, string(q.QuotedStatus.ID))
			case q.QuotedStatusID != "":
				p.QuoteOf = StatusKey(d.Instance, string(q.QuotedStatusID))
			}
		}
	}
	body, links := htmlText(content.Content)
	if cw := strings.TrimSpace(content.SpoilerText); cw != "" {
		// The content warning is published text too, often the part a
		// network copies.
		body = strings.TrimSpace(cw + "\n\n" + body)
	}
	p.Text = body
	if content.Language != nil {
		p.Lang = strings.ToLower(*content.Language)
	}
	p.URLs = links
	if content.Card != nil && content.Card.URL != "" {
		p.URLs = append(p.URLs, content.Card.URL)
	}
	for _, t := range content.Tags {
		p.Hashtags = append(p.Hashtags, t.Name)
	}
	for _, m := range content.Mentions {
		if m.Acct != "" {
			p.Mentions = append(p.Mentions, d.acct(m.Acct))
		}
	}
	// Media attachments are left out: Mastodon gives a blurhash, a
	// 20-odd-character colour sketch that many different images share,
	// not a perceptual hash, and file URLs differ per instance.
	// The account's "bot" flag (self-declared automation) has no field in
	// post.Account yet, so it is not kept.
	a := s.Account
	snap := &post.Account{
		Platform:       post.PlatformMastodon,
		ID:             p.Author,
		Handle:         p.Author,
		Name:           a.DisplayName,
		Followers:      a.FollowersCount,
		Following:      a.FollowingCount,
		Posts:          a.StatusesCount,
		DefaultProfile: strings.HasSuffix(a.Avatar, "/missing.png"),
		ObservedAt:     now.UTC(),
	}
	snap.Description, _ = htmlText(a.Note)
	if t, err := parseTime(a.CreatedAt); err == nil {
		snap.CreatedAt = t
	}
	p.Account = snap
	ingest.Normalise(&p)
	if err := p.Validate(); err != nil {
		var fe *post.FieldError
		if errors.As(err, &fe) {
			fe.Record = rec
		}
		return post.Post{}, err
	}
	if limit := now.Add(ingest.MaxFutureSkew); p.Time.After(limit) {
		return post.Post{}, bad("created_at", fmt.Sprintf("%s is more than %s in the future",
			p.Time.Format(time.RFC3339), ingest.MaxFutureSkew))
	}
	return p, nil
}

// acct makes an account's acct global: local accounts ("alice") get the
// instance's domain.
func (d *Decoder) acct(a string) string {
	a = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(a), "@"))
	if a != "" && !strings.Contains(a, "@") {
		a += "@" + d.Instance
	}
	return a
}

// parseTime reads Mastodon's datetimes (ISO 8601, usually with
// milliseconds and Z).
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("missing")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an ISO 8601 datetime", truncate(s, 64))
	}
	return t.UTC(), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// jsonKind names the kind of a JSON value for errors.
func jsonKind(b []byte) string {
	if len(b) == 0 {
		return "value"
	}
	switch b[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	}
	return "value"
}

// describeJSONError names the field of a type mismatch where it can.
func describeJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "(record)"
		}
		return &post.FieldError{Field: field, Reason: fmt.Sprintf("cannot hold a JSON %s", te.Value)}
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d: %w", se.Offset, err)
	}
	return fmt.Errorf("invalid JSON: %w", err)
}
