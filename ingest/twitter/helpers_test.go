package twitter

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/vigie-osint/vigie/ingest"
	"github.com/vigie-osint/vigie/post"
)

// readAll drains a source: its posts, its bad records, and the position
// after each post (positions[i] follows posts[i]).
func readAll(t *testing.T, src ingest.Source) (posts []post.Post, bad []*ingest.RecordError) {
	t.Helper()
	defer src.Close()
	for {
		p, err := src.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return posts, bad
		}
		var re *ingest.RecordError
		if errors.As(err, &re) {
			bad = append(bad, re)
			continue
		}
		if err != nil {
			t.Fatalf("fatal error after %d posts: %v", len(posts), err)
		}
		posts = append(posts, p)
	}
}

func ids(posts []post.Post) string {
	var out []string
	for _, p := range posts {
		out = append(out, p.ID)
	}
	return strings.Join(out, ",")
}

// badRecord is an expected *ingest.RecordError: its line and a part of
// its message.
type badRecord struct {
	line int64
	msg  string
}

func checkBad(t *testing.T, file string, got []*ingest.RecordError, want []badRecord) {
	t.Helper()
	if len(got) != len(want) {
		var msgs []string
		for _, g := range got {
			msgs = append(msgs, g.Error())
		}
		t.Fatalf("bad records = %d:\n%s\nwant %d", len(got), strings.Join(msgs, "\n"), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Line != w.line || !strings.Contains(g.Error(), w.msg) || !strings.Contains(g.Error(), file) {
			t.Errorf("bad[%d] = line %d %q; want line %d containing %q and %q", i, g.Line, g.Error(), w.line, w.msg, file)
		}
		if len(g.Raw) == 0 && !strings.Contains(w.msg, "longer than") {
			t.Errorf("bad[%d] (line %d) has no Raw record for the dead letter", i, g.Line)
		}
	}
}

// postWant is the part of a post a mapping test checks; zero fields are
// checked too (a retweet must have no URLs).
type postWant struct {
	id, author, time, text   string // text: a prefix
	lang                     string
	urls, hashtags, mentions []string
	replyTo, repostOf, quote string
	handle                   string
	followers                int64
	accountCreated, observed string
}

func checkPost(t *testing.T, p post.Post, w postWant) {
	t.Helper()
	if p.Platform != post.PlatformTwitter || p.ID != w.id || p.Author != w.author {
		t.Errorf("post %s/%s/%s, want twitter/%s/%s", p.Platform, p.ID, p.Author, w.id, w.author)
	}
	if got := p.Time.Format("2006-01-02T15:04:05.000Z07:00"); got != w.time {
		t.Errorf("%s: time %s, want %s", w.id, got, w.time)
	}
	if !strings.HasPrefix(p.Text, w.text) {
		t.Errorf("%s: text %q, want a prefix %q", w.id, p.Text, w.text)
	}
	if p.Lang != w.lang {
		t.Errorf("%s: lang %q, want %q", w.id, p.Lang, w.lang)
	}
	for _, l := range []struct {
		name      string
		got, want []string
	}{{"urls", p.URLs, w.urls}, {"hashtags", p.Hashtags, w.hashtags}, {"mentions", p.Mentions, w.mentions}} {
		if !slices.Equal(l.got, l.want) {
			t.Errorf("%s: %s %q, want %q", w.id, l.name, l.got, l.want)
		}
	}
	if p.ReplyTo != w.replyTo || p.RepostOf != w.repostOf || p.QuoteOf != w.quote {
		t.Errorf("%s: reply/repost/quote %q/%q/%q, want %q/%q/%q", w.id, p.ReplyTo, p.RepostOf, p.QuoteOf, w.replyTo, w.repostOf, w.quote)
	}
	if len(p.MediaHashes) != 0 {
		t.Errorf("%s: media hashes %q, want none", w.id, p.MediaHashes)
	}
	if w.handle == "" {
		if p.Account != nil {
			t.Errorf("%s: account %+v, want none", w.id, p.Account)
		}
		return
	}
	a := p.Account
	if a == nil {
		t.Fatalf("%s: no account", w.id)
	}
	if a.Platform != post.PlatformTwitter || a.ID != p.Author || a.Handle != w.handle || a.Followers != w.followers {
		t.Errorf("%s: account %s/%s/%s followers %d, want twitter/%s/%s followers %d", w.id, a.Platform, a.ID, a.Handle, a.Followers, p.Author, w.handle, w.followers)
	}
	if got := a.CreatedAt.Format("2006-01-02T15:04:05Z07:00"); got != w.accountCreated {
		t.Errorf("%s: account created %s, want %s", w.id, got, w.accountCreated)
	}
	if got := a.ObservedAt.Format("2006-01-02T15:04:05.000Z07:00"); (w.observed == "" && !a.ObservedAt.IsZero()) || (w.observed != "" && got != w.observed) {
		t.Errorf("%s: observed %s, want %q", w.id, got, w.observed)
	}
	if err := p.Validate(); err != nil {
		t.Errorf("%s: %v", w.id, err)
	}
}
