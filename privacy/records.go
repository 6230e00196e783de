package privacy

import (
	"net/url"
	"strings"

	"github.com/vigie-osint/vigie/post"
)

// PostPrefix starts the pseudonym of a post ID. A platform post ID is as
// identifying as a handle (the platform resolves it to its author), so
// pseudonymised outputs carry neither.
const PostPrefix = "post_"

// PostKey gives the pseudonym of a post key "platform:id":
// "platform:post_…". Post IDs are hashed apart from handles (a distinct
// input domain), so a post and an account never share a pseudonym.
func (p *Pseudonymizer) PostKey(key string) string {
	if p == nil || key == "" {
		return key
	}
	platform, id, ok := strings.Cut(key, ":")
	if !ok {
		platform, id = "", key
	}
	h := p.Handle("post\x00"+platform, id)
	return platform + ":" + PostPrefix + strings.TrimPrefix(h, Prefix)
}

// postID gives the bare pseudonym of a platform post ID (no platform).
func (p *Pseudonymizer) postID(platform, id string) string {
	_, ps, _ := strings.Cut(p.PostKey(platform+":"+id), ":")
	return ps
}

// ObjectKey pseudonymises a co-action object key (post.KeyCount, post.Evidence): mentions and replies
// name accounts and posts; links may carry a handle in their path; the
// other kinds (hashtags, domains, texts, media hashes) name no one.
func (p *Pseudonymizer) ObjectKey(kind post.Kind, key string) string {
	switch kind {
	case post.KindMention:
		return p.Account(key)
	case post.KindReply, post.KindRepost:
		return p.PostKey(key)
	case post.KindLink:
		return p.URL(key)
	}
	return key
}

// profileHosts are the hosts whose first path segment is an account
// handle (twitter.com/alice/status/1), and the segments that are not.
var (
	profileHosts = map[string]bool{"twitter.com": true, "www.twitter.com": true, "mobile.twitter.com": true, "x.com": true,
		"www.x.com": true, "t.me": true, "www.facebook.com": true, "facebook.com": true, "m.facebook.com": true}
	notHandles = map[string]bool{"i": true, "intent": true, "hashtag": true, "search": true, "home": true, "share": true,
		"explore": true, "login": true, "settings": true, "s": true, "joinchat": true, "watch": true, "groups": true,
		"pages": true, "sharer": true, "sharer.php": true, "permalink.php": true, "story.php": true}
)

// URL rewrites the handles a link carries: the profile segment of
// Twitter/X, Telegram and Facebook links, bsky.app/profile/<handle>, and
// "@user" path segments (Mastodon and most fediverse servers). Other
// links, and anything that does not parse, are returned as they are:
// this is a best effort, and docs/privacy.md says so.
func (p *Pseudonymizer) URL(raw string) string {
	if p == nil || raw == "" {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return p.mentions("", strings.ToValidUTF8(raw, "\uFFFD"))
	}
	host := strings.ToLower(u.Hostname())
	segs := strings.Split(u.EscapedPath(), "/")
	changed := false
	platform := ""
	switch {
	case host == "twitter.com" || strings.HasSuffix(host, ".twitter.com") || host == "x.com" || host == "www.x.com":
		platform = string(post.PlatformTwitter)
	case host == "t.me":
		platform = string(post.PlatformTelegram)
	case strings.Contains(host, "facebook.com"):
		platform = string(post.PlatformFacebook)
	case host == "bsky.app":
		platform = string(post.PlatformBluesky)
	}
	if profileHosts[host] && len(segs) > 1 && segs[1] != "" && !notHandles[strings.ToLower(segs[1])] {
		if h, err := url.PathUnescape(segs[1]); err == nil {
			segs[1] = p.Handle(platform, h)
			changed = true
		}
	}
	if host == "bsky.app" && len(segs) > 2 && segs[1] == "profile" && segs[2] != "" {
		if h, err := url.PathUnescape(segs[2]); err == nil {
			segs[2] = p.Handle(platform, h)
			changed = true
		}
	}
	if host == "bsky.app" && len(segs) > 4 && segs[3] == "post" {
		segs[4] = p.postID(platform, segs[4])
	}
	for i, s := range segs {
		switch {
		case len(s) > 1 && s[0] == '@':
			if h, err := url.PathUnescape(s[1:]); err == nil {
				if !strings.Contains(h, "@") {
					h += "@" + host
				}
				segs[i] = p.Handle(string(post.PlatformMastodon), h)
				changed = true
				// A status ID after the handle names the post, and the
				// server resolves it to its author.
				if i+1 < len(segs) && segs[i+1] != "" {
					segs[i+1] = p.postID(string(post.PlatformMastodon), segs[i+1])
				}
			}
		case s == "status" && platform == string(post.PlatformTwitter) && i+1 < len(segs) && segs[i+1] != "":
			segs[i+1] = p.postID(platform, segs[i+1])
			changed = true
		}
	}
	if platform == string(post.PlatformTelegram) && len(segs) > 2 && segs[2] != "" {
		segs[2] = p.postID(platform, segs[2])
	}
	if !changed {
		return raw
	}
	u.RawPath = ""
	u.Path = strings.Join(segs, "/")
	// Query strings can name accounts too (?screen_name=alice): they are
	// dropped from a rewritten link rather than parsed one by one.
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}

// Account snapshots: the handle and IDs become the author's pseudonym;
// the display name too (it often is the person's name); the free-text
// description is dropped. Counters, dates and flags are kept: they feed
// bot-likeness and name no one.
func (p *Pseudonymizer) account(platform post.Platform, author string, a *post.Account) *post.Account {
	if p == nil || a == nil {
		return a
	}
	c := *a
	ps := p.Handle(string(platform), author)
	c.ID = p.Handle(string(c.Platform), c.ID)
	c.Handle = p.Handle(string(c.Platform), c.Handle)
	if c.Name != "" {
		c.Name = ps
	}
	c.Description = ""
	return &c
}

// Post returns a copy of q with its author, account snapshot, mentions,
// @mentions in the text, post references and handle-bearing links
// pseudonymised. Hashtags, language, media hashes and time are kept.
func (p *Pseudonymizer) Post(q post.Post) post.Post {
	if p == nil {
		return q
	}
	plat := string(q.Platform)
	q.Account = p.account(q.Platform, q.Author, q.Account)
	key := p.PostKey(q.Key())
	_, q.ID, _ = strings.Cut(key, ":")
	q.Author = p.Handle(plat, q.Author)
	q.Text = p.Text(plat, q.Text)
	q.Mentions = p.Mentions(plat, q.Mentions)
	if q.URLs != nil {
		urls := make([]string, len(q.URLs))
		for i, u := range q.URLs {
			urls[i] = p.URL(u)
		}
		q.URLs = urls
	}
	for _, ref := range []*string{&q.ReplyTo, &q.RepostOf, &q.QuoteOf} {
		if *ref != "" {
			_, *ref, _ = strings.Cut(p.PostKey(plat+":"+*ref), ":")
		}
	}
	return q
}

// Cluster returns a copy of c with every account key (members, edge
// ends), every post key (evidence, sample posts) and every object key that
// names an account or a post replaced by its pseudonym. Scores, stance,
// signals and times are kept: they are what the export is for.
func (p *Pseudonymizer) Cluster(c post.Cluster) post.Cluster {
	if p == nil {
		return c
	}
	if c.Members != nil {
		m := make([]string, len(c.Members))
		for i, k := range c.Members {
			m[i] = p.Account(k)
		}
		c.Members = m
	}
	if c.Posts != nil {
		ps := make([]string, len(c.Posts))
		for i, k := range c.Posts {
			ps[i] = p.PostKey(k)
		}
		c.Posts = ps
	}
	if c.TopObjects != nil {
		t := make([]post.KeyCount, len(c.TopObjects))
		for i, o := range c.TopObjects {
			o.Key = p.ObjectKey(o.Kind, o.Key)
			t[i] = o
		}
		c.TopObjects = t
	}
	if c.Edges != nil {
		edges := make([]post.Edge, len(c.Edges))
		for i, e := range c.Edges {
			e.A, e.B = p.Account(e.A), p.Account(e.B)
			swap := e.A > e.B // keep the A < B order of the model
			if swap {
				e.A, e.B = e.B, e.A
			}
			if e.Evidence != nil {
				ev := make([]post.Evidence, len(e.Evidence))
				for j, x := range e.Evidence {
					x.Key = p.ObjectKey(x.Kind, x.Key)
					x.PostA, x.PostB = p.PostKey(x.PostA), p.PostKey(x.PostB)
					if swap {
						x.PostA, x.PostB, x.TimeA, x.TimeB = x.PostB, x.PostA, x.TimeB, x.TimeA
					}
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
