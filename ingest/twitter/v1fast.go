package twitter

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/vigie-osint/vigie/post"
)

// Decoding v1.1 JSON with valyala/fastjson instead of encoding/json.
//
// encoding/json was 60 % of the CPU time of ingesting v1.1 files onto the
// broker (issue 4): its Unmarshal scans each record twice (checkValid,
// then the decode) and fills the struct by reflection. fastjson parses a
// record once into a tree held in a reused Parser (no allocation per node
// once warm), and v1FromJSON copies out the few fields the mapping reads,
// into the same v1Tweet the stream fills from go-twitter, so the mapping
// (toPost) stays shared. The result is the same post as encoding/json's
// for well-formed input (TestV1DecodeMatchesEncodingJSON compares them on
// every sample). Differences, all on malformed or unusual input:
// object keys match exactly (encoding/json also accepts other letter
// cases); for a key given twice the last wins, as with encoding/json;
// string escapes are decoded best-effort (a bad escape is kept as
// written, where encoding/json rejects the record) and raw control
// characters inside strings are accepted; numbers are checked only where
// a field needs one (an int64 counter, an ID's digits). Invalid UTF-8 in
// a string is replaced by U+FFFD per byte, as encoding/json does.

// v1Parsers are parsers for DecodeV1's callers that have none of their
// own (the stream). A Parser is not safe for concurrent use.
var v1Parsers sync.Pool

// decodeV1With parses one v1.1 message with p and maps it like DecodeV1.
// The post's strings are copies: p may be reused at once.
func decodeV1With(pr *fastjson.Parser, record string, b []byte) (p post.Post, notice string, err error) {
	v, err := pr.ParseBytes(b)
	if err != nil {
		return post.Post{}, "", fmt.Errorf("record %s: invalid JSON: %w", record, err)
	}
	var t v1Tweet
	if err := v1FromJSON(&t, v); err != nil {
		return post.Post{}, "", withRecord(record, err)
	}
	if k := t.notice(); k != "" {
		return post.Post{}, k, nil
	}
	p, err = t.toPost(record)
	return p, "", err
}

// withRecord sets the record of a field error from v1FromJSON.
func withRecord(record string, err error) error {
	if fe, ok := err.(*fieldErr); ok {
		field := fe.field
		if field == "" {
			field = "(record)" // the record is not an object
		}
		return jsonTypeError(record, field, fe.kind)
	}
	return fmt.Errorf("record %s: %w", record, err)
}

// fieldErr is a JSON value of the wrong type for a field; it becomes a
// post.FieldError once the record is known. field is relative to the
// object being decoded, and each enclosing level prefixes its key (under)
// on the way out, so that no field name is built unless there is an error.
type fieldErr struct{ field, kind string }

// under prefixes the field of a *fieldErr with key.
func under(key string, err error) error {
	if fe, ok := err.(*fieldErr); ok {
		if fe.field == "" {
			fe.field = key
		} else {
			fe.field = key + "." + fe.field
		}
	}
	return err
}

func (e *fieldErr) Error() string {
	return fmt.Sprintf("field %q cannot hold a JSON %s", e.field, e.kind)
}

// kindOf names a JSON value's type as encoding/json's errors do.
func kindOf(v *fastjson.Value) string {
	switch v.Type() {
	case fastjson.TypeString:
		return "string"
	case fastjson.TypeNumber:
		return "number"
	case fastjson.TypeObject:
		return "object"
	case fastjson.TypeArray:
		return "array"
	case fastjson.TypeTrue, fastjson.TypeFalse:
		return "bool"
	}
	return "null"
}

// jsonStr copies a JSON string; null leaves it empty, as encoding/json.
func jsonStr(dst *string, v *fastjson.Value) error {
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		*dst = validString(b)
	case fastjson.TypeNull:
	default:
		return &fieldErr{"", kindOf(v)}
	}
	return nil
}

// validString copies b, replacing each byte of invalid UTF-8 by U+FFFD as
// encoding/json does.
func validString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var s strings.Builder
	s.Grow(len(b) + 8)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			s.WriteRune(utf8.RuneError)
		} else {
			s.Write(b[:n])
		}
		b = b[n:]
	}
	return s.String()
}

// jsonNumber fills a jsonNum: a number's text, a string's content, ""
// for null, and the JSON text of anything else (which the mapping then
// rejects, naming the field), like jsonNum.UnmarshalJSON.
func jsonNumber(dst *jsonNum, v *fastjson.Value) {
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		*dst = jsonNum(validString(b))
	case fastjson.TypeNull:
		*dst = ""
	default:
		*dst = jsonNum(v.MarshalTo(nil))
	}
}

// jsonInt fills an int64 counter from an integer number.
func jsonInt(dst *int64, v *fastjson.Value) error {
	switch v.Type() {
	case fastjson.TypeNumber:
		n, err := v.Int64()
		if err != nil {
			return &fieldErr{"", "number " + string(v.MarshalTo(nil))}
		}
		*dst = n
	case fastjson.TypeNull:
	default:
		return &fieldErr{"", kindOf(v)}
	}
	return nil
}

// jsonBool fills a bool.
func jsonBool(dst *bool, v *fastjson.Value) error {
	switch v.Type() {
	case fastjson.TypeTrue:
		*dst = true
	case fastjson.TypeFalse:
		*dst = false
	case fastjson.TypeNull:
	default:
		return &fieldErr{"", kindOf(v)}
	}
	return nil
}

// object returns v's object, nil for null, or a type error.
func object(v *fastjson.Value) (*fastjson.Object, error) {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		return o, nil
	case fastjson.TypeNull:
		return nil, nil
	}
	return nil, &fieldErr{"", kindOf(v)}
}

// array returns v's elements, nil for null, or a type error.
func array(v *fastjson.Value) ([]*fastjson.Value, error) {
	switch v.Type() {
	case fastjson.TypeArray:
		a, _ := v.Array()
		return a, nil
	case fastjson.TypeNull:
		return nil, nil
	}
	return nil, &fieldErr{"", kindOf(v)}
}

// v1FromJSON fills t from a parsed v1.1 message. The first type error
// ends it; its field is relative to t (see under).
func v1FromJSON(t *v1Tweet, v *fastjson.Value) error {
	if v.Type() != fastjson.TypeObject {
		if v.Type() == fastjson.TypeNull {
			return nil
		}
		return &fieldErr{"", kindOf(v)}
	}
	o, _ := v.Object()
	var err error
	o.Visit(func(k []byte, v *fastjson.Value) {
		if err != nil {
			return
		}
		switch string(k) {
		case "id":
			jsonNumber(&t.ID, v)
		case "id_str":
			err = under("id_str", jsonStr(&t.IDStr, v))
		case "created_at":
			err = under("created_at", jsonStr(&t.CreatedAt, v))
		case "timestamp_ms":
			jsonNumber(&t.TimestampMS, v)
		case "text":
			err = under("text", jsonStr(&t.Text, v))
		case "full_text":
			err = under("full_text", jsonStr(&t.FullText, v))
		case "lang":
			err = under("lang", jsonStr(&t.Lang, v))
		case "entities":
			t.Entities, err = v1EntitiesFromJSON(v)
			err = under("entities", err)
		case "extended_entities":
			t.ExtendedEntities, err = v1EntitiesFromJSON(v)
			err = under("extended_entities", err)
		case "extended_tweet":
			t.ExtendedTweet, err = v1ExtendedFromJSON(v)
			err = under("extended_tweet", err)
		case "in_reply_to_status_id":
			jsonNumber(&t.InReplyToStatusID, v)
		case "in_reply_to_status_id_str":
			err = under("in_reply_to_status_id_str", jsonStr(&t.InReplyToStatusIDStr, v))
		case "quoted_status_id":
			jsonNumber(&t.QuotedStatusID, v)
		case "quoted_status_id_str":
			err = under("quoted_status_id_str", jsonStr(&t.QuotedStatusIDStr, v))
		case "retweeted_status":
			t.RetweetedStatus = nil
			if v.Type() == fastjson.TypeNull {
				return
			}
			rs := new(v1Tweet)
			if err = under("retweeted_status", v1FromJSON(rs, v)); err == nil {
				t.RetweetedStatus = rs
			}
		case "user":
			t.User, err = v1UserFromJSON(v)
			err = under("user", err)
		case "delete":
			t.Delete = raw(v)
		case "scrub_geo":
			t.ScrubGeo = raw(v)
		case "limit":
			t.Limit = raw(v)
		case "status_withheld":
			t.StatusWithheld = raw(v)
		case "user_withheld":
			t.UserWithheld = raw(v)
		case "disconnect":
			t.Disconnect = raw(v)
		case "warning":
			t.Warning = raw(v)
		case "event":
			t.Event = raw(v)
		case "friends":
			t.Friends = raw(v)
		case "direct_message":
			t.DirectMessage = raw(v)
		}
	})
	return err
}

// raw is a value's JSON text, for the notice fields whose presence only
// matters.
func raw(v *fastjson.Value) json.RawMessage { return v.MarshalTo(nil) }

func v1ExtendedFromJSON(v *fastjson.Value) (*v1Extended, error) {
	o, err := object(v)
	if o == nil || err != nil {
		return nil, err
	}
	x := new(v1Extended)
	o.Visit(func(k []byte, v *fastjson.Value) {
		if err != nil {
			return
		}
		switch string(k) {
		case "full_text":
			err = under("full_text", jsonStr(&x.FullText, v))
		case "entities":
			x.Entities, err = v1EntitiesFromJSON(v)
			err = under("entities", err)
		case "extended_entities":
			x.ExtendedEntities, err = v1EntitiesFromJSON(v)
			err = under("extended_entities", err)
		}
	})
	return x, err
}

func v1EntitiesFromJSON(v *fastjson.Value) (*v1Entities, error) {
	o, err := object(v)
	if o == nil || err != nil {
		return nil, err
	}
	e := new(v1Entities)
	o.Visit(func(k []byte, v *fastjson.Value) {
		if err != nil {
			return
		}
		switch string(k) {
		case "hashtags":
			e.Hashtags, err = eachObject(v, func(h *v1Hashtag, k []byte, v *fastjson.Value) error {
				if string(k) == "text" {
					return jsonStr(&h.Text, v)
				}
				return nil
			})
			err = under("hashtags", err)
		case "urls":
			e.URLs, err = v1URLsFromJSON(v)
			err = under("urls", err)
		case "user_mentions":
			e.UserMentions, err = eachObject(v, func(m *v1Mention, k []byte, v *fastjson.Value) error {
				if string(k) == "screen_name" {
					return jsonStr(&m.ScreenName, v)
				}
				return nil
			})
			err = under("user_mentions", err)
		case "media":
			e.Media, err = v1URLsFromJSON(v)
			err = under("media", err)
		}
	})
	return e, err
}

func v1URLsFromJSON(v *fastjson.Value) ([]v1URL, error) {
	return eachObject(v, func(u *v1URL, k []byte, v *fastjson.Value) error {
		switch string(k) {
		case "url":
			return jsonStr(&u.URL, v)
		case "expanded_url":
			return jsonStr(&u.ExpandedURL, v)
		}
		return nil
	})
}

// eachObject decodes an array of objects, calling fill for each key of
// each (it ignores the keys it does not know). A null element is a zero
// element, as with encoding/json.
func eachObject[T any](v *fastjson.Value, fill func(*T, []byte, *fastjson.Value) error) ([]T, error) {
	a, err := array(v)
	if a == nil || err != nil {
		return nil, err
	}
	out := make([]T, len(a))
	for i, el := range a {
		o, err := object(el)
		if err != nil {
			return nil, err
		}
		o.Visit(func(k []byte, kv *fastjson.Value) {
			if err == nil {
				if err = fill(&out[i], k, kv); err != nil {
					err = under(string(k), err)
				}
			}
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func v1UserFromJSON(v *fastjson.Value) (*v1User, error) {
	o, err := object(v)
	if o == nil || err != nil {
		return nil, err
	}
	u := new(v1User)
	o.Visit(func(k []byte, v *fastjson.Value) {
		if err != nil {
			return
		}
		switch string(k) {
		case "id":
			jsonNumber(&u.ID, v)
		case "id_str":
			err = under("id_str", jsonStr(&u.IDStr, v))
		case "screen_name":
			err = under("screen_name", jsonStr(&u.ScreenName, v))
		case "name":
			err = under("name", jsonStr(&u.Name, v))
		case "description":
			err = under("description", jsonStr(&u.Description, v))
		case "created_at":
			err = under("created_at", jsonStr(&u.CreatedAt, v))
		case "followers_count":
			err = under("followers_count", jsonInt(&u.FollowersCount, v))
		case "friends_count":
			err = under("friends_count", jsonInt(&u.FriendsCount, v))
		case "statuses_count":
			err = under("statuses_count", jsonInt(&u.StatusesCount, v))
		case "verified":
			err = under("verified", jsonBool(&u.Verified, v))
		case "default_profile":
			err = under("default_profile", jsonBool(&u.DefaultProfile, v))
		}
	})
	return u, err
}

// jsonTypeError is the error for a value of the wrong JSON type, worded
// as jsonError words encoding/json's.
func jsonTypeError(record, field, kind string) error {
	return jsonError(record, &json.UnmarshalTypeError{Field: field, Value: kind})
}
