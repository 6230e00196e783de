package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigie-osint/vigie/post"
)

// FieldMapping says which column (generic CSV) or field (generic JSON
// lines, dotted for nested objects: "user.id") fills each post field.
// Research exports come in every shape; a mapping lets an analyst ingest
// one without code. ID, Author and Time are required; the rest are
// optional and an empty name leaves the field empty.
type FieldMapping struct {
	ID, Author, Time           string
	Text, Lang                 string
	URLs, Hashtags, Mentions   string // lists: a JSON array, or a string split on ListSeparator
	ReplyTo, RepostOf, QuoteOf string
	MediaHashes                string
	Platform                   string // a column holding the platform name; empty uses DefaultPlatform
	Handle                     string // the author's handle, kept as an account snapshot
	TimeFormat                 string // "" (auto), "unix", "unix_ms", "rfc3339" or a Go time layout
	ListSeparator              string // default " "
	DefaultPlatform            post.Platform
}

// mappedField pairs a post field name (as post.Validate names it) with
// the source name the mapping gives it.
type mappedField struct{ field, source string }

func (m *FieldMapping) fields() []mappedField {
	return []mappedField{
		{"id", m.ID}, {"author", m.Author}, {"time", m.Time}, {"text", m.Text}, {"lang", m.Lang},
		{"urls", m.URLs}, {"hashtags", m.Hashtags}, {"mentions", m.Mentions}, {"reply_to", m.ReplyTo},
		{"repost_of", m.RepostOf}, {"quote_of", m.QuoteOf}, {"media_hashes", m.MediaHashes},
		{"platform", m.Platform}, {"handle", m.Handle},
	}
}

// Check reports a mapping that cannot work, naming the missing part.
func (m *FieldMapping) Check() error {
	var missing []string
	if strings.TrimSpace(m.ID) == "" {
		missing = append(missing, "id")
	}
	if strings.TrimSpace(m.Author) == "" {
		missing = append(missing, "author")
	}
	if strings.TrimSpace(m.Time) == "" {
		missing = append(missing, "time")
	}
	if len(missing) > 0 {
		return fmt.Errorf("ingest: field mapping names no source for %s (set ingest.mapping.%s)", strings.Join(missing, ", "), missing[0])
	}
	return nil
}

func (m *FieldMapping) sep() string {
	if m.ListSeparator == "" {
		return " "
	}
	return m.ListSeparator
}

// mappedValue is one looked-up value: a scalar as text, or a list.
type mappedValue struct {
	s    string
	list []string
	ok   bool
}

// build turns looked-up values into a valid post. get returns the value
// the mapping's source name holds; errors name the source column or field,
// which is what the analyst sees in the file.
func (m *FieldMapping) build(get func(source string) (mappedValue, error)) (post.Post, error) {
	var p post.Post
	str := func(field, source string) (string, error) {
		if source == "" {
			return "", nil
		}
		v, err := get(source)
		if err != nil {
			return "", &post.FieldError{Field: source, Reason: err.Error()}
		}
		if v.list != nil {
			return "", &post.FieldError{Field: source, Reason: "a list where " + field + " wants one value"}
		}
		return v.s, nil
	}
	list := func(source string) ([]string, error) {
		if source == "" {
			return nil, nil
		}
		v, err := get(source)
		if err != nil {
			return nil, &post.FieldError{Field: source, Reason: err.Error()}
		}
		if v.list != nil {
			return v.list, nil
		}
		var out []string
		for s := range strings.SplitSeq(v.s, m.sep()) {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out, nil
	}
	var err error
	set := func(dst *string, field, source string) {
		if err == nil {
			*dst, err = str(field, source)
		}
	}
	setList := func(dst *[]string, source string) {
		if err == nil {
			*dst, err = list(source)
		}
	}
	var ts, platform, handle string
	set(&p.ID, "id", m.ID)
	set(&p.Author, "author", m.Author)
	set(&ts, "time", m.Time)
	set(&p.Text, "text", m.Text)
	set(&p.Lang, "lang", m.Lang)
	set(&p.ReplyTo, "reply_to", m.ReplyTo)
	set(&p.RepostOf, "repost_of", m.RepostOf)
	set(&p.QuoteOf, "quote_of", m.QuoteOf)
	set(&platform, "platform", m.Platform)
	set(&handle, "handle", m.Handle)
	setList(&p.URLs, m.URLs)
	setList(&p.Hashtags, m.Hashtags)
	setList(&p.Mentions, m.Mentions)
	setList(&p.MediaHashes, m.MediaHashes)
	if err != nil {
		return post.Post{}, err
	}
	p.Schema = post.SchemaVersion
	switch {
	case platform != "":
		p.Platform = post.Platform(strings.ToLower(strings.TrimSpace(platform)))
	case m.DefaultPlatform != "":
		p.Platform = m.DefaultPlatform
	default:
		p.Platform = post.PlatformOther
	}
	t, terr := parseMappedTime(ts, m.TimeFormat)
	if terr != nil {
		return post.Post{}, &post.FieldError{Field: m.Time, Reason: terr.Error()}
	}
	p.Time = t
	if handle != "" {
		p.Account = &post.Account{Platform: p.Platform, ID: p.Author, Handle: handle}
	}
	Normalise(&p)
	if err := p.Validate(); err != nil {
		var fe *post.FieldError
		if errors.As(err, &fe) {
			name, _, _ := strings.Cut(fe.Field, "[")
			for _, f := range m.fields() {
				if f.field == name && f.source != "" {
					fe.Field = f.source
				}
			}
		}
		return post.Post{}, err
	}
	if limit := now().Add(MaxFutureSkew); p.Time.After(limit) {
		return post.Post{}, &post.FieldError{Record: p.Key(), Field: m.Time,
			Reason: fmt.Sprintf("%s is more than %s in the future", p.Time.Format(time.RFC3339), MaxFutureSkew)}
	}
	return p, nil
}

// parseMappedTime reads a time in the mapping's format. Auto reads digits
// as Unix seconds, or milliseconds when the value is past year 5000 in
// seconds (13-digit epochs are milliseconds), and anything else as RFC 3339.
func parseMappedTime(s, format string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("missing")
	}
	switch format {
	case "unix":
		return parseUnixSeconds(s)
	case "unix_ms":
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil || ms < 0 || ms > maxUnixSeconds*1000 {
			return time.Time{}, fmt.Errorf("%q is not a Unix time in milliseconds", s)
		}
		return time.UnixMilli(ms).UTC(), nil
	case "", "auto":
		if s[0] >= '0' && s[0] <= '9' && !strings.ContainsAny(s, "-:T") {
			if isDigits(s) && len(s) >= 13 {
				return parseMappedTime(s, "unix_ms")
			}
			return parseUnixSeconds(s)
		}
		return parseMappedTime(s, "rfc3339")
	case "rfc3339":
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time", s)
		}
		return t.UTC(), nil
	default:
		t, err := time.Parse(format, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q does not match the layout %q", s, format)
		}
		return t.UTC(), nil
	}
}

// MappedJSONL reads JSON lines of any shape through a FieldMapping whose
// names are JSON object keys, dotted to reach into nested objects. It
// implements Source; it is a JSONL reader (same lines, positions and
// errors) with the mapping as its decoder.
type MappedJSONL struct {
	*JSONL
}

// OpenMappedJSONL opens path with mapping m and seeks to from.
func OpenMappedJSONL(path string, m FieldMapping, from Position) (*MappedJSONL, error) {
	if err := m.Check(); err != nil {
		return nil, err
	}
	j, err := OpenJSONL(path, from)
	if err != nil {
		return nil, err
	}
	paths := map[string][]string{} // dotted name → its parts, split once
	for _, mf := range m.fields() {
		if mf.source != "" {
			paths[mf.source] = strings.Split(mf.source, ".")
		}
	}
	j.decode = func(_ string, line []byte) (post.Post, error) { return DecodeMappedJSON(&m, paths, line) }
	return &MappedJSONL{j}, nil
}

// DecodeMappedJSON decodes one JSON object through mapping m. paths caches
// the split dotted names (nil splits them on each call).
func DecodeMappedJSON(m *FieldMapping, paths map[string][]string, line []byte) (post.Post, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return post.Post{}, &post.FieldError{Field: "line", Reason: "not a JSON object: " + err.Error()}
	}
	if obj == nil {
		return post.Post{}, &post.FieldError{Field: "line", Reason: "not a JSON object: null"}
	}
	return m.build(func(source string) (mappedValue, error) {
		parts := paths[source]
		if parts == nil {
			parts = strings.Split(source, ".")
		}
		var v any = obj
		for _, k := range parts {
			o, ok := v.(map[string]any)
			if !ok {
				return mappedValue{}, nil
			}
			if v, ok = o[k]; !ok {
				return mappedValue{}, nil
			}
		}
		return jsonValue(v)
	})
}

func jsonValue(v any) (mappedValue, error) {
	switch x := v.(type) {
	case nil:
		return mappedValue{}, nil
	case string:
		return mappedValue{s: x, ok: true}, nil
	case json.Number:
		return mappedValue{s: x.String(), ok: true}, nil
	case bool:
		return mappedValue{s: strconv.FormatBool(x), ok: true}, nil
	case []any:
		out := make([]string, 0, len(x))
		for i, e := range x {
			ev, err := jsonValue(e)
			if err != nil || ev.list != nil {
				return mappedValue{}, fmt.Errorf("element %d: want a string or number", i)
			}
			if ev.s != "" {
				out = append(out, ev.s)
			}
		}
		return mappedValue{list: out, ok: true}, nil
	default:
		return mappedValue{}, errors.New("an object where a value or a list is wanted")
	}
}
