package graph

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vigie-osint/vigie/post"
)

// allKinds lists every kind the engine can pair, in a fixed order: a
// kind's position is stored in object hashes and snapshots, so new kinds
// must be appended, never inserted.
var allKinds = []post.Kind{
	post.KindRepost, post.KindLink, post.KindDomain, post.KindHashtag,
	post.KindText, post.KindReply, post.KindMention, post.KindMedia,
}

func kindIndex(k post.Kind) (int, bool) {
	for i, x := range allKinds {
		if x == k {
			return i, true
		}
	}
	return 0, false
}

// minTextTokens is the fewest words a text needs to be a KindText object.
// Short texts ("thanks!", "so true") are posted alike by strangers all day.
const minTextTokens = 5

// textSnippet is how many bytes of normalised text a KindText key shows
// after its hash, so an analyst reading TopObjects sees what was copied.
const textSnippet = 60

// actKey is one derived action before it is wrapped in a post.Action: the
// engine uses it directly to avoid building the full struct per action.
type actKey struct {
	kind post.Kind
	key  string
}

// Actions derives the actions of a post for the given kinds. The order is
// deterministic: kinds in the order given, then keys in the order they
// appear in the post; a key repeated within one post (a URL pasted twice)
// yields one action, because one post is one act. Keys per kind:
//
//   - repost: "platform:repost_of", the reposted post's key.
//   - link: each URL as given (ingest canonicalises URLs).
//   - domain: each URL's host, lower case, without port or "www.".
//   - hashtag: each hashtag, lower case, without "#".
//   - reply: "platform:reply_to".
//   - mention: "platform:" + each mention, lower case, without "@".
//   - media: each media hash as given.
//   - text: a hash and snippet of the normalised text (lower case, URLs
//     and punctuation dropped) when it has at least 5 words; reposts are
//     skipped, as their text is the original's and KindRepost covers them.
//
// Unknown kinds yield nothing.
func Actions(p *post.Post, kinds []post.Kind) []post.Action {
	keys := appendActionKeys(nil, p, kinds)
	if len(keys) == 0 {
		return nil
	}
	out := make([]post.Action, len(keys))
	for i, k := range keys {
		out[i] = post.Action{
			Schema:   post.SchemaVersion,
			Platform: p.Platform,
			Account:  p.Author,
			Kind:     k.kind,
			Key:      k.key,
			Time:     p.Time,
			Post:     p.ID,
		}
	}
	return out
}

// appendActionKeys appends p's action keys for kinds to dst; see Actions.
func appendActionKeys(dst []actKey, p *post.Post, kinds []post.Kind) []actKey {
	plat := string(p.Platform) + ":"
	for _, kind := range kinds {
		start := len(dst)
		add := func(key string) {
			if key == "" {
				return
			}
			for _, k := range dst[start:] {
				if k.key == key {
					return
				}
			}
			dst = append(dst, actKey{kind: kind, key: key})
		}
		switch kind {
		case post.KindRepost:
			if p.RepostOf != "" {
				add(plat + p.RepostOf)
			}
		case post.KindReply:
			if p.ReplyTo != "" {
				add(plat + p.ReplyTo)
			}
		case post.KindLink:
			for _, u := range p.URLs {
				add(u)
			}
		case post.KindDomain:
			for _, u := range p.URLs {
				add(domainOf(u))
			}
		case post.KindHashtag:
			for _, h := range p.Hashtags {
				add(strings.ToLower(strings.TrimPrefix(h, "#")))
			}
		case post.KindMention:
			for _, m := range p.Mentions {
				m = strings.ToLower(strings.TrimPrefix(m, "@"))
				if m != "" {
					add(plat + m)
				}
			}
		case post.KindMedia:
			for _, h := range p.MediaHashes {
				add(h)
			}
		case post.KindText:
			if p.RepostOf == "" {
				add(textKey(p.Text))
			}
		}
	}
	return dst
}

// domainOf returns the host of a URL, lower case, without port and
// without a leading "www.", or "" when there is none.
func domainOf(raw string) string {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	h := strings.ToLower(u.Hostname())
	return strings.TrimPrefix(h, "www.")
}

// textKey normalises a text so that copies differing in case, spacing,
// punctuation or appended links share one key. It returns "" for texts
// too short to be evidence.
func textKey(s string) string {
	var words []string
	for _, f := range strings.Fields(strings.ToLower(s)) {
		if strings.Contains(f, "://") || strings.HasPrefix(f, "www.") {
			continue
		}
		f = strings.TrimFunc(f, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		if f != "" {
			words = append(words, f)
		}
	}
	if len(words) < minTextTokens {
		return ""
	}
	norm := strings.Join(words, " ")
	sum := sha256.Sum256([]byte(norm))
	snip := norm
	if len(snip) > textSnippet {
		snip = snip[:textSnippet]
		for !utf8.ValidString(snip) {
			snip = snip[:len(snip)-1]
		}
	}
	return hex.EncodeToString(sum[:8]) + " " + snip
}
