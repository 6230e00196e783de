package bluesky

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vigie-osint/vigie/ingest"
	"github.com/vigie-osint/vigie/post"
)

// The ID scheme.
//
// A Bluesky post's ID is its AT URI, "at://<did>/app.bsky.feed.post/<rkey>"
// (a repost's is ".../app.bsky.feed.repost/<rkey>"). The AT URI is the
// record's global name: every reference in the network uses it (a reply's
// parent and root, a quote's embedded record, a repost's subject), so
// ReplyTo, QuoteOf and RepostOf are those references as given, and a post
// has the same key whichever Jetstream or relay it came through. The DID
// (not the handle, which its owner can change at will) is the author.
//
// Time is the event's time_us, when Jetstream saw the commit, not the
// record's createdAt: createdAt is written by the client and can say
// anything (backdated posts are common), while time_us is set by the
// network, increases along the stream, and is what the cursor replays by.
// Two accounts reposting within seconds is judged on when the network saw
// them do it.

// Collections Vigie reads.
const (
	CollectionPost   = "app.bsky.feed.post"
	CollectionRepost = "app.bsky.feed.repost"
)

// PostURI returns the AT URI of a record.
func PostURI(did, collection, rkey string) string {
	return "at://" + did + "/" + collection + "/" + rkey
}

// event is a Jetstream event.
type event struct {
	DID    string  `json:"did"`
	TimeUS int64   `json:"time_us"`
	Kind   string  `json:"kind"`
	Commit *commit `json:"commit"`
}

type commit struct {
	Rev        string          `json:"rev"`
	Operation  string          `json:"operation"`
	Collection string          `json:"collection"`
	RKey       string          `json:"rkey"`
	Record     json.RawMessage `json:"record"`
	CID        string          `json:"cid"`
}

type strongRef struct {
	URI string `json:"uri"`
	CID string `json:"cid"`
}

// feedPost is an app.bsky.feed.post record.
type feedPost struct {
	Text   string   `json:"text"`
	Langs  []string `json:"langs"`
	Tags   []string `json:"tags"`
	Facets []struct {
		Features []struct {
			Type string `json:"$type"`
			URI  string `json:"uri"`
			Tag  string `json:"tag"`
			DID  string `json:"did"`
		} `json:"features"`
	} `json:"facets"`
	Reply *struct {
		Parent strongRef `json:"parent"`
		Root   strongRef `json:"root"`
	} `json:"reply"`
	Embed *embed `json:"embed"`
}

// embed is any app.bsky.embed.* union member; fields unused by a type stay
// empty.
type embed struct {
	Type string `json:"$type"`
	// record is a strongRef for app.bsky.embed.record, and an
	// app.bsky.embed.record (holding a strongRef) for recordWithMedia.
	Record json.RawMessage `json:"record"`
	Media  *embed          `json:"media"`
	Images []struct {
		Image *blob `json:"image"`
	} `json:"images"`
	Video    *blob `json:"video"`
	External *struct {
		URI string `json:"uri"`
	} `json:"external"`
}

// blob is a blob reference; legacy records give the CID directly.
type blob struct {
	Ref struct {
		Link string `json:"$link"`
	} `json:"ref"`
	CID string `json:"cid"`
}

func (b *blob) cid() string {
	if b == nil {
		return ""
	}
	if b.Ref.Link != "" {
		return b.Ref.Link
	}
	return b.CID
}

type repostRecord struct {
	Subject strongRef `json:"subject"`
}

// decoded is what an event turned into: a post, or a reason to skip it.
type decoded struct {
	post   post.Post
	skip   string // non-empty: the event is not a post, counted under this reason
	timeUS int64  // the event's time_us, when it had one
	key    string // identifies the event for replay deduplication
}

// decodeEvent turns one Jetstream message into a post, or says why it is
// skipped. record names it in errors. now bounds post times.
func decodeEvent(record string, raw []byte, now time.Time) (decoded, error) {
	var ev event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return decoded{}, fmt.Errorf("record %s: %w", record, describeJSONError(err, ""))
	}
	d := decoded{timeUS: ev.TimeUS}
	d.key = fmt.Sprintf("%d %s %s", ev.TimeUS, ev.DID, ev.Kind)
	if ev.Kind != "commit" {
		if ev.Kind == "" {
			return d, &post.FieldError{Record: record, Field: "kind", Reason: "missing"}
		}
		d.skip = ev.Kind // identity, account, heartbeat...
		return d, nil
	}
	bad := func(field, reason string) error {
		return &post.FieldError{Record: record, Field: field, Reason: reason}
	}
	c := ev.Commit
	if c == nil {
		return d, bad("commit", "missing")
	}
	d.key += " " + c.Collection + "/" + c.RKey + " " + c.Rev + " " + c.Operation
	switch c.Operation {
	case "create", "update":
	case "delete":
		// Vigie keeps what was published; the post model has no
		// tombstone yet.
		d.skip = "delete"
		return d, nil
	default:
		return d, bad("commit.operation", fmt.Sprintf("unknown operation %q", truncate(c.Operation, 32)))
	}
	if c.Collection != CollectionPost && c.Collection != CollectionRepost {
		d.skip = "collection " + truncate(c.Collection, 64)
		return d, nil
	}
	if !strings.HasPrefix(ev.DID, "did:") || strings.ContainsAny(ev.DID, "/ ") {
		return d, bad("did", fmt.Sprintf("%q is not a DID", truncate(ev.DID, 64)))
	}
	if c.RKey == "" || strings.ContainsAny(c.RKey, "/ ") || len(c.RKey) > 512 {
		return d, bad("commit.rkey", fmt.Sprintf("%q is not a record key", truncate(c.RKey, 64)))
	}
	id := PostURI(ev.DID, c.Collection, c.RKey)
	record = record + " (" + id + ")"
	bad = func(field, reason string) error {
		return &post.FieldError{Record: record, Field: field, Reason: reason}
	}
	if ev.TimeUS <= 0 {
		return d, bad("time_us", "missing")
	}
	if len(c.Record) == 0 || string(c.Record) == "null" {
		return d, bad("commit.record", "missing")
	}
	p := post.Post{
		Schema:   post.SchemaVersion,
		Platform: post.PlatformBluesky,
		ID:       id,
		Author:   ev.DID,
		Time:     time.UnixMicro(ev.TimeUS).UTC(),
	}
	if c.Collection == CollectionRepost {
		var r repostRecord
		if err := json.Unmarshal(c.Record, &r); err != nil {
			return d, fmt.Errorf("record %s: %w", record, describeJSONError(err, "commit.record."))
		}
		if r.Subject.URI == "" {
			return d, bad("commit.record.subject.uri", "missing")
		}
		p.RepostOf = r.Subject.URI
	} else {
		var r feedPost
		if err := json.Unmarshal(c.Record, &r); err != nil {
			return d, fmt.Errorf("record %s: %w", record, describeJSONError(err, "commit.record."))
		}
		fillPost(&p, &r)
	}
	ingest.Normalise(&p)
	if err := p.Validate(); err != nil {
		var fe *post.FieldError
		if errors.As(err, &fe) {
			fe.Record = record
		}
		return d, err
	}
	if limit := now.Add(ingest.MaxFutureSkew); p.Time.After(limit) {
		return d, bad("time_us", fmt.Sprintf("%s is more than %s in the future", p.Time.Format(time.RFC3339), ingest.MaxFutureSkew))
	}
	d.post = p
	return d, nil
}

func fillPost(p *post.Post, r *feedPost) {
	p.Text = r.Text
	if len(r.Langs) > 0 {
		// Keep the language subtag ("pt-BR" -> "pt"), the ISO 639-1 code
		// other sources give.
		lang, _, _ := strings.Cut(r.Langs[0], "-")
		p.Lang = strings.ToLower(lang)
	}
	for _, f := range r.Facets {
		for _, ft := range f.Features {
			switch ft.Type {
			case "app.bsky.richtext.facet#link":
				if ft.URI != "" {
					p.URLs = append(p.URLs, ft.URI)
				}
			case "app.bsky.richtext.facet#tag":
				if ft.Tag != "" {
					p.Hashtags = append(p.Hashtags, ft.Tag)
				}
			case "app.bsky.richtext.facet#mention":
				if ft.DID != "" {
					p.Mentions = append(p.Mentions, ft.DID)
				}
			}
		}
	}
	// Record-level tags are hashtags the author attached outside the text.
	p.Hashtags = append(p.Hashtags, r.Tags...)
	if r.Reply != nil {
		p.ReplyTo = r.Reply.Parent.URI
	}
	if r.Embed != nil {
		fillEmbed(p, r.Embed, 0)
	}
}

// fillEmbed takes links, quoted posts and media from an embed. Images and
// videos are named by their blob CID, a SHA-256 of the file: the same file
// uploaded by many accounts has the same CID, so it is a media hash the
// graph matches exactly (it is not perceptual: a re-encoded copy differs).
func fillEmbed(p *post.Post, e *embed, depth int) {
	if depth > 2 {
		return
	}
	switch e.Type {
	case "app.bsky.embed.external":
		if e.External != nil && e.External.URI != "" {
			p.URLs = append(p.URLs, e.External.URI)
		}
	case "app.bsky.embed.images":
		for _, im := range e.Images {
			if c := im.Image.cid(); c != "" {
				p.MediaHashes = append(p.MediaHashes, c)
			}
		}
	case "app.bsky.embed.video":
		if c := e.Video.cid(); c != "" {
			p.MediaHashes = append(p.MediaHashes, c)
		}
	case "app.bsky.embed.record":
		var ref strongRef
		if json.Unmarshal(e.Record, &ref) == nil {
			p.QuoteOf = quotedPost(ref.URI)
		}
	case "app.bsky.embed.recordWithMedia":
		var inner struct {
			Record strongRef `json:"record"`
		}
		if json.Unmarshal(e.Record, &inner) == nil {
			p.QuoteOf = quotedPost(inner.Record.URI)
		}
		if e.Media != nil {
			fillEmbed(p, e.Media, depth+1)
		}
	}
}

// quotedPost returns uri when it names a post: an embedded record can also
// be a feed generator, a list or a starter pack, which are not posts.
func quotedPost(uri string) string {
	if strings.HasPrefix(uri, "at://") && strings.Contains(uri, "/"+CollectionPost+"/") {
		return uri
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// describeJSONError names the field of a type mismatch where it can.
// prefix places a nested document's fields ("commit.record.").
func describeJSONError(err error, prefix string) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := prefix + te.Field
		if te.Field == "" {
			field = prefix + "(record)"
		}
		return &post.FieldError{Field: field, Reason: fmt.Sprintf("cannot hold a JSON %s", te.Value)}
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d: %w", se.Offset, err)
	}
	return fmt.Errorf("invalid JSON: %w", err)
}
