package twitter

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/vigie-osint/vigie/ingest"
	"github.com/vigie-osint/vigie/post"
)

// The columns of the information-operations archives' tweet files
// (..._tweets_csv_hashed.csv and _unhashed.csv) that Vigie maps. Columns
// are found by header name, in any order; other columns (latitude,
// like_count, poll_choices...) are ignored, and of these only the
// required ones must be present: the releases differ over the years.
var (
	ioRequired = []string{"tweetid", "userid", "tweet_time"}
	ioOptional = []string{
		"user_display_name", "user_screen_name", "user_profile_description", "follower_count",
		"following_count", "account_creation_date", "tweet_language", "tweet_text",
		"in_reply_to_tweetid", "quoted_tweet_tweetid", "is_retweet", "retweet_tweetid",
		"hashtags", "urls", "user_mentions",
	}
)

// ioCols maps each known column to its index in a record, -1 when the
// file lacks it.
type ioCols map[string]int

func (c ioCols) get(rec []string, name string) string {
	i, ok := c[name]
	if !ok || i < 0 || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

// newIOCols builds the column map from a header, or an error naming the
// required columns it lacks.
func newIOCols(head []string) (ioCols, error) {
	c := ioCols{}
	for _, name := range append(append([]string(nil), ioRequired...), ioOptional...) {
		c[name] = -1
	}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if j, known := c[h]; known && j < 0 {
			c[h] = i
		}
	}
	var missing []string
	for _, name := range ioRequired {
		if c[name] < 0 {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, &post.FieldError{Field: "header", Reason: fmt.Sprintf("required columns missing: %s (an information-operations tweets file has tweetid,userid,...,tweet_time,...)", strings.Join(missing, ", "))}
	}
	return c, nil
}

// IOArchiveCSV reads the tweet files of Twitter's information-operations
// archives (the transparency releases of state-backed networks). It
// streams with encoding/csv, one record at a time (quoted fields may hold
// newlines), and implements ingest.Source.
//
// The archives give the profile as it was when the accounts were
// suspended, not when each tweet was posted, so Account.ObservedAt is
// left zero (the store then takes the post's time). user_mentions holds
// user IDs, so Mentions are IDs here. A retweet (is_retweet, or a
// retweet_tweetid) carries no URLs, as in every Twitter format.
type IOArchiveCSV struct {
	name  string
	f     *os.File
	lim   *ingest.RecordLimiter
	r     *csv.Reader
	cols  ioCols
	width int
	base  ingest.Position // where r started: its line 1 and offset 0
	pos   ingest.Position
}

// OpenIOArchiveCSV opens path, reads its header and moves to from (the
// zero Position reads every record).
func OpenIOArchiveCSV(path string, from ingest.Position) (*IOArchiveCSV, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("twitter: open %s: %w", path, err)
	}
	c, err := NewIOArchiveCSV(path, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	c.f = f
	if from.Offset > c.pos.Offset {
		if _, err := f.Seek(from.Offset, io.SeekStart); err != nil {
			f.Close()
			return nil, fmt.Errorf("twitter: seek %s to %d: %w", path, from.Offset, err)
		}
		from.Cursor = ""
		c.restart(f, from)
	}
	return c, nil
}

// NewIOArchiveCSV reads the header of an archive CSV named name (for
// errors) from r.
func NewIOArchiveCSV(name string, r io.Reader) (*IOArchiveCSV, error) {
	c := &IOArchiveCSV{name: name}
	c.restart(r, ingest.Position{})
	head, err := c.r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("empty file, no header")
		}
		return nil, &ingest.RecordError{Source: name, Line: 1, Err: &post.FieldError{Record: name + ":1", Field: "header", Reason: err.Error()}}
	}
	cols, err := newIOCols(head)
	if err != nil {
		var fe *post.FieldError
		if errors.As(err, &fe) {
			fe.Record = name + ":1"
		}
		return nil, &ingest.RecordError{Source: name, Line: 1, Raw: rawRecord(head), Err: err}
	}
	c.cols, c.width = cols, len(head)
	c.pos = ingest.Position{Offset: c.r.InputOffset(), Line: 1}
	return c, nil
}

func (c *IOArchiveCSV) restart(r io.Reader, at ingest.Position) {
	c.lim = ingest.NewRecordLimiter(r, ingest.MaxLineBytes)
	c.r = newCSVReader(c.lim)
	c.base, c.pos = at, at
}

func newCSVReader(r io.Reader) *csv.Reader {
	cr := csv.NewReader(bufio.NewReaderSize(r, 64<<10))
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1 // checked in Next, to name both counts
	return cr
}

// Position returns the byte offset after the last record returned and
// that record's last line.
func (c *IOArchiveCSV) Position() ingest.Position { return c.pos }

// Close closes the file, if OpenIOArchiveCSV opened it.
func (c *IOArchiveCSV) Close() error {
	if c.f == nil {
		return nil
	}
	return c.f.Close()
}

// Next returns the next tweet as a post. A record that cannot be read or
// is not a valid post is a *ingest.RecordError naming the file, the line
// the record starts on and the column; a record over ingest.MaxLineBytes
// (an unterminated quote, say) is one bad record and reading resumes at
// the next line. io.EOF ends the file.
func (c *IOArchiveCSV) Next(ctx context.Context) (post.Post, error) {
	if err := ctx.Err(); err != nil {
		return post.Post{}, err
	}
	c.lim.Reset()
	rec, err := c.r.Read()
	if errors.Is(err, io.EOF) {
		return post.Post{}, io.EOF
	}
	c.pos.Offset = c.base.Offset + c.r.InputOffset() + c.lim.Skipped()
	if err != nil {
		return post.Post{}, c.readError(rec, err)
	}
	start, _ := c.r.FieldPos(0)
	last, _ := c.r.FieldPos(len(rec) - 1)
	line := c.base.Line + int64(start)
	c.pos.Line = c.base.Line + int64(last) + int64(strings.Count(rec[len(rec)-1], "\n"))
	record := fmt.Sprintf("%s:%d", c.name, line)
	if len(rec) != c.width {
		return post.Post{}, &ingest.RecordError{Source: c.name, Line: line, Raw: rawRecord(rec), Err: &post.FieldError{
			Record: record, Field: "record", Reason: fmt.Sprintf("%d fields, the header has %d", len(rec), c.width)}}
	}
	p, err := decodeIORecord(record, c.cols, rec)
	if err != nil {
		return post.Post{}, &ingest.RecordError{Source: c.name, Line: line, Raw: rawRecord(rec), Err: err}
	}
	return p, nil
}

// readError turns a read error into a *ingest.RecordError, or a fatal
// error when the file itself cannot be read.
func (c *IOArchiveCSV) readError(rec []string, err error) error {
	var pe *csv.ParseError
	switch {
	case errors.Is(err, ingest.ErrRecordTooLong):
		line := c.pos.Line + 1
		end := line // the last line of the record, through its cut
		for _, f := range rec {
			end += int64(strings.Count(f, "\n"))
		}
		consumed := c.r.InputOffset()
		if serr := c.lim.SkipLine(); serr != nil {
			return fmt.Errorf("twitter: read %s: %w", c.name, serr)
		}
		// Start a fresh csv.Reader after the skipped line: the old one
		// counted lines of a record it never finished.
		at := ingest.Position{Offset: c.base.Offset + consumed + c.lim.Skipped(), Line: end}
		c.lim.ClearSkipped()
		c.r = newCSVReader(c.lim)
		c.base, c.pos = at, at
		return &ingest.RecordError{Source: c.name, Line: line, Err: &post.FieldError{Record: fmt.Sprintf("%s:%d", c.name, line),
			Field: "record", Reason: fmt.Sprintf("longer than %d bytes (an unterminated quote?); skipped to the next line", ingest.MaxLineBytes)}}
	case errors.As(err, &pe):
		line := c.base.Line + int64(pe.StartLine)
		c.pos.Line = c.base.Line + int64(pe.Line)
		field := "record"
		if pe.Column > 0 {
			field = fmt.Sprintf("column %d", pe.Column)
		}
		return &ingest.RecordError{Source: c.name, Line: line, Raw: rawRecord(rec),
			Err: &post.FieldError{Record: fmt.Sprintf("%s:%d", c.name, line), Field: field, Reason: pe.Err.Error()}}
	}
	return fmt.Errorf("twitter: read %s: %w", c.name, err)
}

// ioTimeLayouts are the tweet_time forms of the releases: minutes (most),
// seconds, and RFC 3339.
var ioTimeLayouts = []string{"2006-01-02 15:04", "2006-01-02 15:04:05", time.RFC3339, "2006-01-02T15:04:05"}

// decodeIORecord maps one archive record; see IOArchiveCSV.
func decodeIORecord(record string, c ioCols, rec []string) (post.Post, error) {
	bad := func(field, reason string) error {
		return &post.FieldError{Record: record, Field: field, Reason: reason}
	}
	p := post.Post{
		Schema: post.SchemaVersion, Platform: post.PlatformTwitter,
		ID: ioID(c.get(rec, "tweetid")), Author: c.get(rec, "userid"),
		Text: unescapeText(c.get(rec, "tweet_text")), Lang: normLang(c.get(rec, "tweet_language")),
		ReplyTo: ioID(c.get(rec, "in_reply_to_tweetid")), QuoteOf: ioID(c.get(rec, "quoted_tweet_tweetid")),
		RepostOf: ioID(c.get(rec, "retweet_tweetid")),
	}
	if p.ID == "" {
		return post.Post{}, bad("tweetid", "missing")
	}
	if p.Author == "" {
		return post.Post{}, bad("userid", "missing")
	}
	ts, err := parseIOTime(c.get(rec, "tweet_time"))
	if err != nil {
		return post.Post{}, bad("tweet_time", err.Error())
	}
	p.Time = ts
	retweet := p.RepostOf != ""
	if s := c.get(rec, "is_retweet"); s != "" {
		b, err := parseBool(s)
		if err != nil {
			return post.Post{}, bad("is_retweet", err.Error())
		}
		retweet = retweet || b
	}
	if retweet {
		p.QuoteOf = "" // the original's, as in the other formats
	}
	for _, l := range []struct {
		col string
		dst *[]string
	}{{"hashtags", &p.Hashtags}, {"user_mentions", &p.Mentions}, {"urls", &p.URLs}} {
		if l.col == "urls" && retweet {
			continue
		}
		items, err := parseList(c.get(rec, l.col), l.col == "urls")
		if err != nil {
			return post.Post{}, bad(l.col, err.Error())
		}
		*l.dst = items
	}
	if c["user_screen_name"] >= 0 || c["user_display_name"] >= 0 || c["follower_count"] >= 0 {
		a := &post.Account{
			Platform: post.PlatformTwitter, ID: p.Author, Handle: c.get(rec, "user_screen_name"),
			Name: c.get(rec, "user_display_name"), Description: c.get(rec, "user_profile_description"),
		}
		for _, n := range []struct {
			col string
			dst *int64
		}{{"follower_count", &a.Followers}, {"following_count", &a.Following}} {
			v, err := parseCount(c.get(rec, n.col))
			if err != nil {
				return post.Post{}, bad(n.col, err.Error())
			}
			*n.dst = v
		}
		if s := c.get(rec, "account_creation_date"); s != "" {
			ts, err := time.Parse("2006-01-02", s)
			if err != nil {
				if ts, err = parseIOTime(s); err != nil {
					return post.Post{}, bad("account_creation_date", fmt.Sprintf("%q is not a date like 2014-03-01", s))
				}
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

// ioID cleans an ID cell: empty for pandas' missing values, and without
// the ".0" pandas adds to integer columns that had gaps.
func ioID(s string) string {
	switch strings.ToLower(s) {
	case "", "nan", "none", "null":
		return ""
	}
	if t, ok := strings.CutSuffix(s, ".0"); ok && t != "" && strings.Trim(t, "0123456789") == "" {
		return t
	}
	return s
}

func parseIOTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("missing")
	}
	for _, l := range ioTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time like 2017-05-05 19:02", s)
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "1", "yes", "t":
		return true, nil
	case "false", "0", "no", "f":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", s)
}

// parseCount reads a count; pandas writes integer columns with gaps as
// floats ("1234.0").
func parseCount(s string) (int64, error) {
	switch strings.ToLower(s) {
	case "", "nan":
		return 0, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > math.MaxInt64/2 || f != math.Trunc(f) {
		return 0, fmt.Errorf("%q is not a count", s)
	}
	return int64(f), nil
}

// parseList reads the archives' list cells: "[a, b]", Python's repr
// "['a', 'b']" (items with a quote in double quotes, backslash escapes),
// or a bare "a". Unquoted items are split at commas; for URLs a piece
// that does not start a new URL (no "://") is a comma inside the previous
// one and is joined back.
func parseList(s string, urls bool) ([]string, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "", "[]", "nan", "none":
		return nil, nil
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	var out []string
	for rest := strings.TrimSpace(s); rest != ""; {
		if q := rest[0]; q == '\'' || q == '"' {
			item, tail, err := pyString(rest)
			if err != nil {
				return nil, err
			}
			out = append(out, item)
			rest = strings.TrimSpace(tail)
			if rest != "" {
				if rest[0] != ',' {
					return nil, fmt.Errorf("list %q: expected a comma after %q", s, item)
				}
				rest = strings.TrimSpace(rest[1:])
			}
			continue
		}
		item, tail, _ := strings.Cut(rest, ",")
		item = strings.TrimSpace(item)
		if urls && len(out) > 0 && !strings.Contains(item, "://") {
			out[len(out)-1] += "," + item
		} else if item != "" {
			out = append(out, item)
		}
		rest = strings.TrimSpace(tail)
	}
	return out, nil
}

// pyString reads one Python string literal at the start of s and returns
// its value and what follows it.
func pyString(s string) (string, string, error) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == q:
			return b.String(), s[i+1:], nil
		case c == '\\' && i+1 < len(s):
			i++
			switch e := s[i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case '\\', '\'', '"':
				b.WriteByte(e)
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", "", fmt.Errorf("unterminated quote in list %q", s)
}

// rawRecord re-encodes a record as CSV for the dead-letter record, capped
// at ingest.MaxLineBytes.
func rawRecord(rec []string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(rec)
	w.Flush()
	out := bytes.TrimRight(b.Bytes(), "\n")
	if len(out) > ingest.MaxLineBytes {
		out = out[:ingest.MaxLineBytes]
	}
	return out
}
