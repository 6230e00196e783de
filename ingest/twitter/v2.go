package twitter

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/vigie-osint/vigie/ingest"
	"github.com/vigie-osint/vigie/post"
)

// v2Line is one line of a v2 file: a response page ({"data": [...],
// "includes": {...}, "meta": {...}}, as the API returns it and twarc2
// writes it, with twarc2's "__twarc" metadata), or one tweet of twarc2's
// flattened output (the tweet's own fields, its author and referenced
// tweets inline).
type v2Line struct {
	Data     json.RawMessage   `json:"data"` // an array of tweets, or one tweet (lookup by ID)
	Includes v2Includes        `json:"includes"`
	Errors   []json.RawMessage `json:"errors"`
	Twarc    struct {
		RetrievedAt string `json:"retrieved_at"`
	} `json:"__twarc"`
	v2Tweet // a flattened tweet
}

type v2Includes struct {
	Users  []v2User  `json:"users"`
	Tweets []v2Tweet `json:"tweets"`
}

type v2Tweet struct {
	ID               string      `json:"id"`
	Text             string      `json:"text"`
	AuthorID         string      `json:"author_id"`
	CreatedAt        string      `json:"created_at"`
	Lang             string      `json:"lang"`
	ReferencedTweets []v2Ref     `json:"referenced_tweets"`
	Entities         *v2Entities `json:"entities"`
	NoteTweet        *v2Note     `json:"note_tweet"`
	Author           *v2User     `json:"author"` // twarc2 flattened
}

// v2Ref is a referenced tweet: type and ID, and in twarc2's flattened
// output the referenced tweet's own fields too.
type v2Ref struct {
	Type      string      `json:"type"`
	ID        string      `json:"id"`
	Text      string      `json:"text"`
	AuthorID  string      `json:"author_id"`
	Author    *v2User     `json:"author"`
	Entities  *v2Entities `json:"entities"`
	NoteTweet *v2Note     `json:"note_tweet"`
}

// v2Note holds a long post's untruncated text (text stops at 280
// characters).
type v2Note struct {
	Text     string      `json:"text"`
	Entities *v2Entities `json:"entities"`
}

type v2Entities struct {
	URLs []struct {
		URL         string `json:"url"`
		ExpandedURL string `json:"expanded_url"`
	} `json:"urls"`
	Hashtags []struct {
		Tag string `json:"tag"`
	} `json:"hashtags"`
	Mentions []struct {
		Username string `json:"username"`
	} `json:"mentions"`
}

type v2User struct {
	ID            string `json:"id"`
	Username      string `json:"username"`
	Name          string `json:"name"`
	Description   string `json:"description"`
	CreatedAt     string `json:"created_at"`
	Verified      bool   `json:"verified"`
	PublicMetrics struct {
		FollowersCount int64 `json:"followers_count"`
		FollowingCount int64 `json:"following_count"`
		TweetCount     int64 `json:"tweet_count"`
	} `json:"public_metrics"`
}

// v2Item is one tweet of a line: a post, or why it is not one and the
// tweet's JSON.
type v2Item struct {
	p   post.Post
	err error
	raw []byte
}

// decodeV2 decodes one line into its tweets' posts (or errors), in the
// order of data. skipped names a line holding no tweet ("errors" when it
// only reports errors, "empty" otherwise); err is a line that is not a v2
// response at all.
func decodeV2(record string, b []byte) (items []v2Item, skipped string, err error) {
	var l v2Line
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, "", jsonError(record, err)
	}
	var raws []json.RawMessage
	switch d := bytes.TrimSpace(l.Data); {
	case len(d) > 0 && d[0] == '[':
		if err := json.Unmarshal(d, &raws); err != nil {
			return nil, "", jsonError(record, err)
		}
	case len(d) > 0 && d[0] == '{':
		raws = []json.RawMessage{d}
	case len(d) > 0 && !bytes.Equal(d, []byte("null")):
		return nil, "", &post.FieldError{Record: record, Field: "data", Reason: "neither a tweet nor an array of tweets"}
	case l.ID != "" || l.Text != "" || l.AuthorID != "":
		// twarc2 flattened: the line is the tweet.
		it := v2Item{raw: b}
		it.p, it.err = l.v2Tweet.toPost(record, nil, l.Twarc.RetrievedAt)
		return []v2Item{it}, "", nil
	}
	if len(raws) == 0 {
		if len(l.Errors) > 0 {
			return nil, "errors", nil
		}
		return nil, "empty", nil
	}
	inc := &v2Index{users: make(map[string]*v2User, len(l.Includes.Users)), tweets: make(map[string]*v2Tweet, len(l.Includes.Tweets))}
	for i := range l.Includes.Users {
		inc.users[l.Includes.Users[i].ID] = &l.Includes.Users[i]
	}
	for i := range l.Includes.Tweets {
		inc.tweets[l.Includes.Tweets[i].ID] = &l.Includes.Tweets[i]
	}
	items = make([]v2Item, len(raws))
	for i, raw := range raws {
		rec := fmt.Sprintf("%s data[%d]", record, i)
		items[i].raw = raw
		var t v2Tweet
		if err := json.Unmarshal(raw, &t); err != nil {
			items[i].err = jsonError(rec, err)
			continue
		}
		items[i].p, items[i].err = t.toPost(rec, inc, l.Twarc.RetrievedAt)
	}
	return items, "", nil
}

// v2Index finds a page's expansions by ID.
type v2Index struct {
	users  map[string]*v2User
	tweets map[string]*v2Tweet
}

func (x *v2Index) user(id string) *v2User {
	if x == nil || id == "" {
		return nil
	}
	return x.users[id]
}

// toPost maps a v2 tweet; see the package documentation. retrievedAt is
// twarc2's retrieval time: the user objects of a v2 response are the
// profiles when the page was fetched, not when the tweet was posted, so
// it is their ObservedAt when known (else the tweet's time).
func (t *v2Tweet) toPost(record string, inc *v2Index, retrievedAt string) (post.Post, error) {
	bad := func(field, reason string) error {
		return &post.FieldError{Record: record, Field: field, Reason: reason}
	}
	if t.ID == "" {
		return post.Post{}, bad("id", "missing")
	}
	p := post.Post{Schema: post.SchemaVersion, Platform: post.PlatformTwitter, ID: t.ID, Author: t.AuthorID, Lang: normLang(t.Lang)}
	author := t.Author
	if author == nil {
		author = inc.user(t.AuthorID)
	}
	if p.Author == "" && author != nil {
		p.Author = author.ID
	}
	if p.Author == "" {
		return post.Post{}, bad("author_id", "missing (request the author_id field or expansion)")
	}
	if t.CreatedAt == "" {
		return post.Post{}, bad("created_at", "missing (request tweet.fields=created_at)")
	}
	ts, err := time.Parse(time.RFC3339, t.CreatedAt)
	if err != nil {
		return post.Post{}, bad("created_at", fmt.Sprintf("%q is not an RFC 3339 time", t.CreatedAt))
	}
	p.Time = ts
	text, ents := t.Text, t.Entities
	if t.NoteTweet != nil && t.NoteTweet.Text != "" {
		text, ents = t.NoteTweet.Text, t.NoteTweet.Entities
	}
	var rt *v2Ref
	for i := range t.ReferencedTweets {
		r := &t.ReferencedTweets[i]
		switch r.Type {
		case "retweeted":
			p.RepostOf, rt = r.ID, r
		case "quoted":
			p.QuoteOf = r.ID
		case "replied_to":
			p.ReplyTo = r.ID
		}
	}
	if rt != nil {
		// A retweet: the original's text and tags, not its links (see the
		// package documentation). text is cut at 140 characters; the
		// original, when the page includes it, has it whole.
		p.QuoteOf = ""
		orig := rt.resolve(inc)
		var name string
		if ents != nil && len(ents.Mentions) > 0 {
			name = ents.Mentions[0].Username // "RT @name:" is the first mention
		}
		if a := orig.Author; a != nil && a.Username != "" {
			name = a.Username
		} else if a := inc.user(orig.AuthorID); a != nil && a.Username != "" {
			name = a.Username
		}
		otext, oents := orig.Text, orig.Entities
		if orig.NoteTweet != nil && orig.NoteTweet.Text != "" {
			otext, oents = orig.NoteTweet.Text, orig.NoteTweet.Entities
		}
		if otext != "" && name != "" {
			p.Text = "RT @" + name + ": " + unescapeText(otext)
			p.Mentions = append(p.Mentions, name)
			p.Hashtags, p.Mentions = oents.tags(p.Hashtags, p.Mentions)
		} else {
			p.Text = unescapeText(text)
			p.Hashtags, p.Mentions = ents.tags(p.Hashtags, p.Mentions)
		}
	} else {
		p.Text = unescapeText(text)
		p.Hashtags, p.Mentions = ents.tags(p.Hashtags, p.Mentions)
		p.URLs = ents.urls(nil)
	}
	if author != nil {
		a := &post.Account{
			Platform: post.PlatformTwitter, ID: p.Author, Handle: author.Username, Name: author.Name,
			Description: author.Description, Followers: author.PublicMetrics.FollowersCount,
			Following: author.PublicMetrics.FollowingCount, Posts: author.PublicMetrics.TweetCount,
			Verified: author.Verified, ObservedAt: p.Time.UTC(),
		}
		if author.CreatedAt != "" {
			ts, err := time.Parse(time.RFC3339, author.CreatedAt)
			if err != nil {
				return post.Post{}, bad("author.created_at", fmt.Sprintf("%q is not an RFC 3339 time", author.CreatedAt))
			}
			a.CreatedAt = ts.UTC()
		}
		if retrievedAt != "" {
			if ts, err := time.Parse(time.RFC3339, retrievedAt); err == nil {
				a.ObservedAt = ts.UTC()
			}
		}
		p.Account = a
	}
	if err := finish(record, &p); err != nil {
		return post.Post{}, err
	}
	return p, nil
}

// resolve returns the referenced tweet's content: inline (flattened) or
// from the page's includes.
func (r *v2Ref) resolve(inc *v2Index) v2Ref {
	if r.Text != "" || inc == nil {
		return *r
	}
	t := inc.tweets[r.ID]
	if t == nil {
		return *r
	}
	return v2Ref{Type: r.Type, ID: r.ID, Text: t.Text, AuthorID: t.AuthorID, Author: t.Author, Entities: t.Entities, NoteTweet: t.NoteTweet}
}

func (e *v2Entities) tags(hashtags, mentions []string) ([]string, []string) {
	if e == nil {
		return hashtags, mentions
	}
	for _, h := range e.Hashtags {
		hashtags = append(hashtags, h.Tag)
	}
	for _, m := range e.Mentions {
		mentions = append(mentions, m.Username)
	}
	return hashtags, mentions
}

func (e *v2Entities) urls(dst []string) []string {
	if e == nil {
		return dst
	}
	for _, u := range e.URLs {
		if u.ExpandedURL != "" {
			dst = append(dst, u.ExpandedURL)
		} else if u.URL != "" {
			dst = append(dst, u.URL)
		}
	}
	return dst
}

// V2File reads API v2 JSON: one response page per line (the API's
// compact JSON saved as is, or twarc2's output with its "__twarc"
// metadata), or one tweet per line (twarc2 flatten). Pretty-printed JSON
// spanning lines must be compacted first (jq -c). It implements
// ingest.Source.
//
// One line holds up to 500 tweets, and its Position is line-granular:
// while a line's tweets are being returned, Position is the start of that
// line; after its last tweet, the end. A restart in the middle of a line
// therefore reads the whole line again, and the tweets already sent come
// again: downstream drops them by post key (ingest.Normaliser, and stores
// keyed by post). This keeps Position a plain file offset like every
// other file source's.
type V2File struct {
	lines   *lineFile
	start   ingest.Position // the start of the line pending comes from
	pending []v2Item
	line    int64 // the line pending comes from
	skipped Skipped
}

// OpenV2File opens path at from (the zero Position reads it all).
func OpenV2File(path string, from ingest.Position) (*V2File, error) {
	l, err := openLines(path, from)
	if err != nil {
		return nil, err
	}
	return &V2File{lines: l, skipped: Skipped{}}, nil
}

// Next returns the next tweet as a post. A tweet that is not a valid post
// is a *ingest.RecordError naming the line and its index in data; a line
// that is not a v2 response is one *ingest.RecordError. Pages that report
// only errors, or hold no tweets, are counted in Skipped. io.EOF ends the
// file.
func (f *V2File) Next(ctx context.Context) (post.Post, error) {
	for {
		if err := ctx.Err(); err != nil {
			return post.Post{}, err
		}
		if len(f.pending) > 0 {
			it := f.pending[0]
			f.pending[0] = v2Item{}
			f.pending = f.pending[1:]
			if it.err != nil {
				return post.Post{}, &ingest.RecordError{Source: f.lines.name, Line: f.line, Raw: it.raw, Err: it.err}
			}
			return it.p, nil
		}
		f.start = f.lines.pos
		line, err := f.lines.next()
		if err != nil {
			return post.Post{}, err
		}
		items, skipped, err := decodeV2(f.lines.record(), line)
		if err != nil {
			return post.Post{}, &ingest.RecordError{Source: f.lines.name, Line: f.lines.pos.Line, Raw: line, Err: err}
		}
		if skipped != "" {
			f.skipped[skipped]++
			continue
		}
		f.pending, f.line = items, f.lines.pos.Line
	}
}

// Position returns where a restart should read: the start of the current
// line while some of its tweets are still to come, else the end of the
// last line read.
func (f *V2File) Position() ingest.Position {
	if len(f.pending) > 0 {
		return f.start
	}
	return f.lines.pos
}

// Skipped returns how many lines held no tweet, by kind ("errors":
// only errors; "empty": nothing).
func (f *V2File) Skipped() Skipped { return f.skipped.clone() }

// Close closes the file.
func (f *V2File) Close() error { return f.lines.f.Close() }
