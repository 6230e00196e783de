package graph

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/vigie-osint/vigie/post"
)

// allKinds lists every kind the engine can pair, in a fixed order: a
// kind's position is stored in object hashes and snapshots, so new kinds
// must be appended, never inserted.
var allKinds = []post.Kind{
	post.KindRepost, post.KindLink, post.KindDomain, post.KindHashtag,
	post.KindText, post.KindReply, post.KindMention, post.KindMedia,
	post.KindHashtagSeq,
}

func kindIndex(k post.Kind) (int, bool) {
	for i, x := range allKinds {
		if x == k {
			return i, true
		}
	}
	return 0, false
}

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
//   - media: each media hash as given, except that a 64-bit perceptual
//     hash (16 hex digits) is lower-cased. The engine pairs perceptual
//     hashes within Config.MediaMaxDistance bits (see imagehash.go), so
//     its object is then the hash of the first image of the family.
//   - text: the anchor (a hash of the first MinHash slots) and a snippet
//     of the normalised text (see normaliseText) when it has at least
//     DefaultTextMinWords words. The engine pairs near-duplicate texts
//     (see neardup.go), so this key is the object a text founds when it
//     matches no recent text; a text that matches one takes its object.
//   - hashtag_seq: the post's hashtags, normalised as for hashtag, in
//     order, each prefixed by "#" and joined by spaces ("#a #b"), when
//     there are at least two; a key over maxSeqKey bytes is cut and ends
//     with a hash of the whole, so it stays bounded and distinct.
//
// Reposts yield no text or hashtag_seq action: their text and hashtags
// are the original's, and KindRepost covers them. Unknown kinds yield
// nothing.
func Actions(p *post.Post, kinds []post.Kind) []post.Action {
	keys := appendActionKeys(nil, p, kinds, DefaultHashtagSeqMin)
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
// seqMin is the fewest hashtags of a hashtag_seq key (Config.HashtagSeqMin).
func appendActionKeys(dst []actKey, p *post.Post, kinds []post.Kind, seqMin int) []actKey {
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
				if ph, ok := parsePHash(h); ok {
					h = formatPHash(ph)
				}
				add(h)
			}
		case post.KindText:
			if p.RepostOf == "" {
				add(textKey(p.Text))
			}
		case post.KindHashtagSeq:
			if p.RepostOf == "" {
				add(hashtagSeqKey(p.Hashtags, seqMin))
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

// textKey is the key of a text's own object: copies differing in case,
// spacing, punctuation, diacritics, links or mentions share it. It returns
// "" for texts of fewer than DefaultTextMinWords words, too short to be
// evidence.
func textKey(s string) string {
	ts, ok := signText(s, DefaultTextMinWords)
	if !ok {
		return ""
	}
	return textObject(ts).key
}

// maxSeqKey bounds a hashtag_seq key: 256 hashtags of 2 KiB are valid
// input, and a key is held in buffers and shown to analysts.
const maxSeqKey = 512

// hashtagSeqKey is the hashtag_seq key of a post's hashtags, or "" for
// fewer than min hashtags (never fewer than two: one hashtag is the
// hashtag signal).
func hashtagSeqKey(tags []string, min int) string {
	var b strings.Builder
	n := 0
	for _, h := range tags {
		h = strings.ToLower(strings.TrimPrefix(h, "#"))
		if h == "" {
			continue
		}
		if n > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('#')
		b.WriteString(h)
		n++
	}
	if n < max(min, 2) {
		return ""
	}
	key := b.String()
	if len(key) > maxSeqKey {
		sum := sha256.Sum256([]byte(key))
		cut := key[:maxSeqKey-20]
		for !utf8.ValidString(cut) {
			cut = cut[:len(cut)-1]
		}
		key = cut + " …" + hex.EncodeToString(sum[:8])
	}
	return key
}
