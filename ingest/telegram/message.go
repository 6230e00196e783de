package telegram

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/vigie-osint/vigie/ingest"
	"github.com/vigie-osint/vigie/post"
)

// The ID scheme.
//
// A message ID is unique within its chat only, so a post's ID is
// "<chat id>/<message id>", the chat ID being the export's top-level "id"
// (the bare channel ID, as in https://t.me/c/<chat id>/<message id>). The
// author is the message's from_id as the export writes it
// ("channel1234567890", "user42"), which keeps channels and users apart. A
// reply to a message of another chat (reply_to_peer_id) is keyed with that
// chat's bare ID.
//
// Forwards. An export names a forward's origin only by display name
// (forwarded_from; newer exports may add forwarded_from_id) and gives
// neither the original message's ID nor its date: "date" is when this
// chat posted the forward. So RepostOf cannot be the original's ID.
// Vigie derives instead a key for the forwarded object, "fwd:" + a hash of
// the origin (forwarded_from_id, else forwarded_from, else saved_from)
// and of the content a forward copies verbatim: the text and the shape of
// its media (type, MIME type, size in pixels, duration, file size). Many
// channels forwarding the same post within seconds then share one
// RepostOf, which is the co-action the graph looks for. Its limits,
// honestly: two different posts of one origin with the same text and
// media shape (say, two uncaptioned 1280x720 photos) get the same key, and
// a forward whose origin renamed itself between two forwards gets two
// keys when the export has no forwarded_from_id. Media files are not
// hashed: exports name them by local paths, which say nothing about their
// content, so MediaHashes stay empty.

// PostID returns Vigie's ID for message id of chat.
func PostID(chat, id string) string { return chat + "/" + id }

// flexString accepts a JSON string or number (older exports wrote some
// IDs as numbers); null is empty.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*f = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return &json.UnmarshalTypeError{Value: "non-string", Type: stringType}
		}
		*f = flexString(n.String())
	}
	return nil
}

type message struct {
	ID               flexString      `json:"id"`
	Type             string          `json:"type"`
	Action           string          `json:"action"`
	Date             string          `json:"date"`
	DateUnixtime     flexString      `json:"date_unixtime"`
	From             *string         `json:"from"`
	FromID           flexString      `json:"from_id"`
	ForwardedFrom    *string         `json:"forwarded_from"`
	ForwardedFromID  flexString      `json:"forwarded_from_id"`
	SavedFrom        *string         `json:"saved_from"`
	ReplyToMessageID flexString      `json:"reply_to_message_id"`
	ReplyToPeerID    flexString      `json:"reply_to_peer_id"`
	Text             json.RawMessage `json:"text"`
	TextEntities     []entity        `json:"text_entities"`
	Poll             *struct {
		Question string `json:"question"`
	} `json:"poll"`
	// Media shape, for the forward key.
	MediaType       string     `json:"media_type"`
	MimeType        string     `json:"mime_type"`
	Photo           string     `json:"photo"`
	Width           flexString `json:"width"`
	Height          flexString `json:"height"`
	DurationSeconds flexString `json:"duration_seconds"`
	FileSize        flexString `json:"file_size"`
	PhotoFileSize   flexString `json:"photo_file_size"`
	StickerEmoji    string     `json:"sticker_emoji"`
}

// entity is a part of a message's text: "plain" text, or a typed part
// (link, text_link, hashtag, mention, mention_name, bold...).
type entity struct {
	Type   string     `json:"type"`
	Text   string     `json:"text"`
	Href   string     `json:"href"`
	UserID flexString `json:"user_id"`
}

// decoder turns export messages into posts.
type decoder struct {
	chat string         // the chat's bare ID
	loc  *time.Location // zone of "date" when date_unixtime is missing
	now  func() time.Time
}

// decodeMessage turns one element of "messages" into a post, or says why
// it is skipped. record names it in errors.
func (d *decoder) decodeMessage(record string, raw []byte) (p post.Post, skip string, err error) {
	var m message
	if err := json.Unmarshal(raw, &m); err != nil {
		return post.Post{}, "", fmt.Errorf("record %s: %w", record, describeJSONError(err))
	}
	switch m.Type {
	case "message":
	case "service":
		if m.Action != "" {
			return post.Post{}, "service " + truncate(m.Action, 48), nil
		}
		return post.Post{}, "service", nil
	case "":
		return post.Post{}, "", &post.FieldError{Record: record, Field: "type", Reason: "missing"}
	default: // "unsupported", or a type newer than this reader
		return post.Post{}, "type " + truncate(m.Type, 48), nil
	}
	if m.ID != "" {
		record += " (" + PostID(d.chat, string(m.ID)) + ")"
	}
	bad := func(field, reason string) error {
		return &post.FieldError{Record: record, Field: field, Reason: reason}
	}
	if m.ID == "" {
		return post.Post{}, "", bad("id", "missing")
	}
	if m.FromID == "" {
		return post.Post{}, "", bad("from_id", "missing")
	}
	t, ferr := d.time(&m)
	if ferr != nil {
		return post.Post{}, "", ferr.at(record)
	}
	p = post.Post{
		Schema:   post.SchemaVersion,
		Platform: post.PlatformTelegram,
		ID:       PostID(d.chat, string(m.ID)),
		Author:   string(m.FromID),
		Time:     t,
	}
	parts, err := textParts(&m)
	if err != nil {
		return post.Post{}, "", bad("text", err.Error())
	}
	var text strings.Builder
	for _, e := range parts {
		text.WriteString(e.Text)
		switch e.Type {
		case "link":
			p.URLs = append(p.URLs, e.Text)
		case "text_link":
			p.URLs = append(p.URLs, e.Href)
		case "hashtag":
			p.Hashtags = append(p.Hashtags, e.Text)
		case "mention":
			p.Mentions = append(p.Mentions, e.Text)
		case "mention_name":
			// A mention of a user without a username: name them as
			// from_id does.
			if e.UserID != "" {
				p.Mentions = append(p.Mentions, "user"+string(e.UserID))
			}
		}
	}
	p.Text = text.String()
	if p.Text == "" && m.Poll != nil {
		p.Text = m.Poll.Question
	}
	if m.ReplyToMessageID != "" {
		chat := d.chat
		if m.ReplyToPeerID != "" {
			chat = bareID(string(m.ReplyToPeerID))
		}
		p.ReplyTo = PostID(chat, string(m.ReplyToMessageID))
	}
	if origin := forwardOrigin(&m); origin != "" {
		p.RepostOf = post.StableID("fwd:", origin, p.Text, m.MediaType, m.MimeType, mediaKind(&m),
			string(m.Width), string(m.Height), string(m.DurationSeconds), string(m.FileSize), string(m.PhotoFileSize), m.StickerEmoji)
	}
	if m.From != nil && *m.From != "" {
		p.Account = &post.Account{Platform: post.PlatformTelegram, ID: p.Author, Name: *m.From}
	}
	ingest.Normalise(&p)
	if err := p.Validate(); err != nil {
		var fe *post.FieldError
		if errors.As(err, &fe) {
			fe.Record = record
		}
		return post.Post{}, "", err
	}
	if limit := d.now().Add(ingest.MaxFutureSkew); p.Time.After(limit) {
		return post.Post{}, "", bad("date", fmt.Sprintf("%s is more than %s in the future", p.Time.Format(time.RFC3339), ingest.MaxFutureSkew))
	}
	return p, "", nil
}

// forwardOrigin names where a forwarded or saved message came from, or ""
// for an original message.
func forwardOrigin(m *message) string {
	switch {
	case m.ForwardedFromID != "":
		return "id:" + string(m.ForwardedFromID)
	case m.ForwardedFrom != nil && *m.ForwardedFrom != "":
		return "name:" + *m.ForwardedFrom
	case m.ForwardedFrom != nil:
		// forwarded_from: null, an origin that hides its name.
		return "hidden"
	case m.SavedFrom != nil && *m.SavedFrom != "":
		return "name:" + *m.SavedFrom
	}
	return ""
}

// mediaKind tells a photo from none when media_type is absent (photos
// have no media_type).
func mediaKind(m *message) string {
	if m.Photo != "" {
		return "photo"
	}
	return ""
}

// textParts returns a message's text as entities. text_entities (newer
// exports) is always a list of objects; "text" is a plain string or a
// list mixing strings and objects.
func textParts(m *message) ([]entity, error) {
	if len(m.TextEntities) > 0 {
		return m.TextEntities, nil
	}
	raw := bytes.TrimSpace(m.Text)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return []entity{{Type: "plain", Text: s}}, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, errors.New("neither a string nor a list of parts")
	}
	out := make([]entity, 0, len(items))
	for i, it := range items {
		it = bytes.TrimSpace(it)
		if len(it) > 0 && it[0] == '"' {
			var s string
			if err := json.Unmarshal(it, &s); err != nil {
				return nil, err
			}
			out = append(out, entity{Type: "plain", Text: s})
			continue
		}
		var e entity
		if err := json.Unmarshal(it, &e); err != nil {
			return nil, fmt.Errorf("part %d is neither a string nor a text object", i)
		}
		out = append(out, e)
	}
	return out, nil
}

// fieldErr is a field error whose record is filled in later.
type fieldErr struct{ field, reason string }

func (e *fieldErr) Error() string { return e.field + ": " + e.reason }

func (e *fieldErr) at(record string) error {
	return &post.FieldError{Record: record, Field: e.field, Reason: e.reason}
}

// time reads date_unixtime (UTC seconds, exports since 2021), else "date",
// which is local time on the exporting machine with no zone: it is read
// in d.loc.
func (d *decoder) time(m *message) (time.Time, *fieldErr) {
	if m.DateUnixtime != "" {
		s, err := strconv.ParseInt(string(m.DateUnixtime), 10, 64)
		if err != nil {
			return time.Time{}, &fieldErr{"date_unixtime", fmt.Sprintf("%q is not a Unix time", truncate(string(m.DateUnixtime), 32))}
		}
		return time.Unix(s, 0).UTC(), nil
	}
	if m.Date == "" {
		return time.Time{}, &fieldErr{"date", "missing"}
	}
	t, err := time.ParseInLocation("2006-01-02T15:04:05", m.Date, d.loc)
	if err != nil {
		return time.Time{}, &fieldErr{"date", fmt.Sprintf("%q is not a date", truncate(m.Date, 32))}
	}
	return t.UTC(), nil
}

// bareID strips the peer kind from an ID as exports write them
// ("channel123" -> "123").
func bareID(s string) string {
	for _, p := range []string{"channel", "chat", "user"} {
		if rest, ok := strings.CutPrefix(s, p); ok && rest != "" {
			return rest
		}
	}
	return s
}

var stringType = reflect.TypeFor[string]()

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
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
