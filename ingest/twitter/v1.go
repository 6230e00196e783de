package twitter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/valyala/fastjson"

	"github.com/vigie-osint/vigie/ingest"
	"github.com/vigie-osint/vigie/post"
)

// v1Tweet holds the fields of an API v1.1 tweet that Vigie maps, and
// nothing else: decoding a 6 KB streamed retweet into it runs about a
// quarter faster than into go-twitter's full Tweet (facts.md), and it
// keeps timestamp_ms, which go-twitter's struct lacks. The stream, which
// goes through go-twitter, converts its Tweet into this (fromGoTwitter),
// so both share one mapping.
type v1Tweet struct {
	ID                   jsonNum     `json:"id"`
	IDStr                string      `json:"id_str"`
	CreatedAt            string      `json:"created_at"`
	TimestampMS          jsonNum     `json:"timestamp_ms"` // a string on the stream
	Text                 string      `json:"text"`
	FullText             string      `json:"full_text"`
	Lang                 string      `json:"lang"`
	Entities             *v1Entities `json:"entities"`
	ExtendedEntities     *v1Entities `json:"extended_entities"`
	ExtendedTweet        *v1Extended `json:"extended_tweet"`
	InReplyToStatusID    jsonNum     `json:"in_reply_to_status_id"`
	InReplyToStatusIDStr string      `json:"in_reply_to_status_id_str"`
	QuotedStatusID       jsonNum     `json:"quoted_status_id"`
	QuotedStatusIDStr    string      `json:"quoted_status_id_str"`
	RetweetedStatus      *v1Tweet    `json:"retweeted_status"`
	User                 *v1User     `json:"user"`

	// Stream messages that are not tweets (captures of the streaming API
	// keep them). Only their presence matters.
	Delete         json.RawMessage `json:"delete"`
	ScrubGeo       json.RawMessage `json:"scrub_geo"`
	Limit          json.RawMessage `json:"limit"`
	StatusWithheld json.RawMessage `json:"status_withheld"`
	UserWithheld   json.RawMessage `json:"user_withheld"`
	Disconnect     json.RawMessage `json:"disconnect"`
	Warning        json.RawMessage `json:"warning"`
	Event          json.RawMessage `json:"event"`
	Friends        json.RawMessage `json:"friends"`
	DirectMessage  json.RawMessage `json:"direct_message"`
}

type v1Extended struct {
	FullText         string      `json:"full_text"`
	Entities         *v1Entities `json:"entities"`
	ExtendedEntities *v1Entities `json:"extended_entities"`
}

type v1Entities struct {
	Hashtags     []v1Hashtag `json:"hashtags"`
	URLs         []v1URL     `json:"urls"`
	UserMentions []v1Mention `json:"user_mentions"`
	Media        []v1URL     `json:"media"`
}

type v1Hashtag struct {
	Text string `json:"text"`
}

type v1URL struct {
	URL         string `json:"url"`
	ExpandedURL string `json:"expanded_url"`
}

type v1Mention struct {
	ScreenName string `json:"screen_name"`
}

type v1User struct {
	ID             jsonNum `json:"id"`
	IDStr          string  `json:"id_str"`
	ScreenName     string  `json:"screen_name"`
	Name           string  `json:"name"`
	Description    string  `json:"description"`
	CreatedAt      string  `json:"created_at"`
	FollowersCount int64   `json:"followers_count"`
	FriendsCount   int64   `json:"friends_count"`
	StatusesCount  int64   `json:"statuses_count"`
	Verified       bool    `json:"verified"`
	DefaultProfile bool    `json:"default_profile"`
}

// jsonNum holds a JSON number or string as its text. Decoding it never
// fails, so that a wrong value ("id": "abc", "timestamp_ms": true) is
// reported by the mapping, which names the field, rather than by
// encoding/json, whose message for json.Number does not.
type jsonNum string

func (n *jsonNum) UnmarshalJSON(b []byte) error {
	if len(b) >= 2 && b[0] == '"' && bytes.IndexByte(b, '\\') < 0 {
		*n = jsonNum(b[1 : len(b)-1]) // the usual "1234", without escapes
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*n = jsonNum(s)
		return nil
	}
	if string(b) == "null" {
		*n = ""
		return nil
	}
	*n = jsonNum(b)
	return nil
}

// notice names the stream message kind of a record that is not a tweet,
// or "" for a tweet (or something claiming to be one).
func (t *v1Tweet) notice() string {
	if t.IDStr != "" || t.ID != "" {
		return ""
	}
	for _, n := range []struct {
		kind string
		raw  json.RawMessage
	}{
		{"delete", t.Delete}, {"scrub_geo", t.ScrubGeo}, {"limit", t.Limit},
		{"status_withheld", t.StatusWithheld}, {"user_withheld", t.UserWithheld},
		{"disconnect", t.Disconnect}, {"warning", t.Warning}, {"event", t.Event},
		{"friends", t.Friends}, {"direct_message", t.DirectMessage},
	} {
		if n.raw != nil {
			return n.kind
		}
	}
	return ""
}

// DecodeV1 decodes one API v1.1 JSON message (a tweet, or a stream
// notice) and maps a tweet to a normalised, valid post. record names it
// in errors ("file:line"). For a stream notice it returns its kind
// ("delete", "limit", "warning"...) and no post: notices are not bad
// input, the caller counts and skips them.
//
// It parses with valyala/fastjson (see v1fast.go), with a parser from a
// pool; a reader of many records keeps its own (V1File).
func DecodeV1(record string, b []byte) (p post.Post, notice string, err error) {
	pr, _ := v1Parsers.Get().(*fastjson.Parser)
	if pr == nil {
		pr = new(fastjson.Parser)
	}
	p, notice, err = decodeV1With(pr, record, b)
	v1Parsers.Put(pr)
	return p, notice, err
}

// id returns the decimal ID of a v1.1 object: id_str, or the numeric id
// when an export dropped id_str (jsonNum keeps every digit). A
// numeric id that is not a plain integer (1.2e17: a tool that went
// through float64 and lost digits) is no ID.
func id(str string, num jsonNum) string {
	if str != "" {
		return str
	}
	for _, c := range []byte(num) {
		if c < '0' || c > '9' {
			return ""
		}
	}
	return string(num)
}

// toPost maps a v1.1 tweet; see the package documentation.
func (t *v1Tweet) toPost(record string) (post.Post, error) {
	bad := func(field, reason string) error {
		return &post.FieldError{Record: record, Field: field, Reason: reason}
	}
	p := post.Post{Schema: post.SchemaVersion, Platform: post.PlatformTwitter, ID: id(t.IDStr, t.ID)}
	if p.ID == "" {
		return post.Post{}, bad("id_str", "missing (and no integer id): not a tweet nor a known stream message")
	}
	if t.User == nil {
		return post.Post{}, bad("user", "missing")
	}
	p.Author = id(t.User.IDStr, t.User.ID)
	if p.Author == "" {
		return post.Post{}, bad("user.id_str", "missing")
	}
	switch {
	case t.TimestampMS != "":
		ms, err := strconv.ParseInt(string(t.TimestampMS), 10, 64)
		if err != nil {
			return post.Post{}, bad("timestamp_ms", fmt.Sprintf("%q is not milliseconds since 1970", string(t.TimestampMS)))
		}
		p.Time = time.UnixMilli(ms)
	case t.CreatedAt != "":
		ts, err := time.Parse(time.RubyDate, t.CreatedAt)
		if err != nil {
			return post.Post{}, bad("created_at", fmt.Sprintf("%q is not like %q", t.CreatedAt, time.RubyDate))
		}
		p.Time = ts
	default:
		return post.Post{}, bad("created_at", "missing")
	}
	p.Lang = normLang(t.Lang)
	if rs := t.RetweetedStatus; rs != nil {
		// A retweet: the original's text and tags, not its links (see the
		// package documentation).
		p.RepostOf = id(rs.IDStr, rs.ID)
		if p.RepostOf == "" {
			return post.Post{}, bad("retweeted_status.id_str", "missing")
		}
		text, ents, _ := rs.full()
		if rs.User != nil && rs.User.ScreenName != "" {
			p.Text = "RT @" + rs.User.ScreenName + ": " + unescapeText(text)
			p.Mentions = append(p.Mentions, rs.User.ScreenName)
		} else {
			p.Text = unescapeText(t.fullText())
		}
		p.Hashtags, p.Mentions = ents.tags(p.Hashtags, p.Mentions)
	} else {
		text, ents, ext := t.full()
		p.Text = unescapeText(text)
		p.Hashtags, p.Mentions = ents.tags(p.Hashtags, p.Mentions)
		p.URLs = ents.urls(nil)
		if ext != nil { // all media; entities.media holds the first only
			p.URLs = ext.urls(p.URLs)
		}
		p.ReplyTo = id(t.InReplyToStatusIDStr, t.InReplyToStatusID)
		p.QuoteOf = id(t.QuotedStatusIDStr, t.QuotedStatusID)
	}
	if u := t.User; u != nil {
		a := &post.Account{
			Platform: post.PlatformTwitter, ID: p.Author, Handle: u.ScreenName, Name: u.Name,
			Description: u.Description, Followers: u.FollowersCount, Following: u.FriendsCount,
			Posts: u.StatusesCount, Verified: u.Verified, DefaultProfile: u.DefaultProfile,
			ObservedAt: p.Time.UTC(),
		}
		if u.CreatedAt != "" {
			ts, err := time.Parse(time.RubyDate, u.CreatedAt)
			if err != nil {
				return post.Post{}, bad("user.created_at", fmt.Sprintf("%q is not like %q", u.CreatedAt, time.RubyDate))
			}
			a.CreatedAt = ts.UTC()
		}
		p.Account = a
	}
	if err := finish(record, &p); err != nil {
		return post.Post{}, err
	}
	return p, nil
}

// fullText is the untruncated text: extended_tweet.full_text on the
// stream in compatibility mode, full_text in extended mode, else text.
func (t *v1Tweet) fullText() string {
	text, _, _ := t.full()
	return text
}

// full returns the untruncated text with its entities and extended
// entities. A truncated tweet's top-level entities cover the truncated
// text only (and add a link to the tweet itself), so they are used only
// when there is no extended_tweet.
func (t *v1Tweet) full() (text string, ents, ext *v1Entities) {
	if x := t.ExtendedTweet; x != nil && x.FullText != "" {
		return x.FullText, x.Entities, x.ExtendedEntities
	}
	if t.FullText != "" {
		return t.FullText, t.Entities, t.ExtendedEntities
	}
	return t.Text, t.Entities, t.ExtendedEntities
}

// tags appends the entities' hashtags and mentioned screen names.
func (e *v1Entities) tags(hashtags, mentions []string) ([]string, []string) {
	if e == nil {
		return hashtags, mentions
	}
	for _, h := range e.Hashtags {
		hashtags = append(hashtags, h.Text)
	}
	for _, m := range e.UserMentions {
		mentions = append(mentions, m.ScreenName)
	}
	return hashtags, mentions
}

// urls appends the expanded URLs of links and media (the t.co URL when an
// old record has no expanded form).
func (e *v1Entities) urls(dst []string) []string {
	if e == nil {
		return dst
	}
	for _, list := range [][]v1URL{e.URLs, e.Media} {
		for _, u := range list {
			if u.ExpandedURL != "" {
				dst = append(dst, u.ExpandedURL)
			} else if u.URL != "" {
				dst = append(dst, u.URL)
			}
		}
	}
	return dst
}

// jsonError turns encoding/json's errors into ones naming the record and,
// where it can, the field.
func jsonError(record string, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "(record)"
		}
		return &post.FieldError{Record: record, Field: field, Reason: fmt.Sprintf("cannot hold a JSON %s", te.Value)}
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("record %s: invalid JSON at byte %d: %w", record, se.Offset, err)
	}
	return fmt.Errorf("record %s: invalid JSON: %w", record, err)
}

// V1File reads a file of API v1.1 tweets, one JSON object per line, as
// written by captures of the streaming API or by twarc1. Stream notices
// in it (delete, limit, warning...) are counted (Skipped), not
// dead-lettered; a line that is not valid JSON or not a valid tweet is a
// *ingest.RecordError. It implements ingest.Source.
type V1File struct {
	lines   *lineFile
	skipped Skipped
	parser  fastjson.Parser // reused: its buffers stay warm
}

// OpenV1File opens path at from (the zero Position reads it all).
func OpenV1File(path string, from ingest.Position) (*V1File, error) {
	l, err := openLines(path, from)
	if err != nil {
		return nil, err
	}
	return &V1File{lines: l, skipped: Skipped{}}, nil
}

// Next returns the next tweet as a post. io.EOF ends the file.
func (f *V1File) Next(ctx context.Context) (post.Post, error) {
	for {
		if err := ctx.Err(); err != nil {
			return post.Post{}, err
		}
		line, err := f.lines.next()
		if err != nil {
			return post.Post{}, err
		}
		p, notice, err := decodeV1With(&f.parser, f.lines.record(), line)
		if err != nil {
			return post.Post{}, &ingest.RecordError{Source: f.lines.name, Line: f.lines.pos.Line, Raw: line, Err: err}
		}
		if notice != "" {
			f.skipped[notice]++
			continue
		}
		return p, nil
	}
}

// Position returns where the next Next will read.
func (f *V1File) Position() ingest.Position { return f.lines.pos }

// Skipped returns how many stream notices of each kind were skipped.
func (f *V1File) Skipped() Skipped { return f.skipped.clone() }

// Close closes the file.
func (f *V1File) Close() error { return f.lines.f.Close() }
