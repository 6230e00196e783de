package ingest

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
	"unicode/utf8"

	"github.com/vigie-osint/vigie/post"
)

// CSVFormat names a CSV layout of research data that peer tools read.
type CSVFormat string

// The CSV layouts. Columns are found by header name, in any order, and a
// file may carry extra columns (ignored), but every named column must be
// there.
const (
	// CSVCooRTweet is CooRTweet's input, one row per share:
	// object_id,account_id,content_id,timestamp_share (Unix seconds). What
	// object_id is (a retweeted post, a URL...) is not in the file:
	// CSVOptions.ObjectKind says it. The same format also covers the
	// layout of CooRTweet's German election data set, one row per post and
	// shared object: account_id,post_id,url_id,hashtag_id,domain_id,
	// phash_id,timestamp, an empty cell meaning none.
	CSVCooRTweet CSVFormat = "coortweet"
	// CSVCNT is the QUT Coordination Network Toolkit's CSV, one row per
	// message: message_id,user_id,username,repost_id,reply_id,message,
	// timestamp (Unix seconds, decimals allowed),urls (space-separated).
	CSVCNT CSVFormat = "cnt"
	// CSVGeneric is any CSV with a header, read through
	// CSVOptions.Mapping, which names the column of each post field.
	CSVGeneric CSVFormat = "csv"
)

// CSVOptions configure a CSV source.
type CSVOptions struct {
	// Format is the expected layout; empty detects it from the header.
	Format CSVFormat
	// ObjectKind is what object_id holds in CooRTweet's four-column
	// layout (other layouts ignore it), and so which post field receives
	// it: repost (RepostOf, the
	// default, as in CooRTweet's Russian retweet data), reply (ReplyTo),
	// link (URLs), hashtag, mention, media (MediaHashes) or text (Text, as
	// CooRTweet's co-tweet mode does). The object's kind is not written in
	// CooRTweet's files, so only the caller can say it.
	ObjectKind post.Kind
	// Platform is the platform of accounts whose ID has no "tw_" (Twitter)
	// or "fb_" (Facebook) prefix; default twitter, the platform both peer
	// tools were built for. The prefix stays in the account ID, so account
	// names match the peer tools' outputs.
	Platform post.Platform
	// Mapping names the columns of a CSVGeneric file (required for it,
	// ignored otherwise). Its DefaultPlatform defaults to Platform.
	Mapping *FieldMapping
	// RowIDs makes each row of CooRTweet's German layout a post of its
	// own, with the ID post_id + "/" + the row's objects
	// ("129235/u:23678", "129235/u:23678+h:12+m:9280"; a row without
	// objects keeps the bare post_id). That layout spreads a post over
	// rows that are not adjacent, one per shared object; every row is a
	// share event, and a stream that deduplicates by post ID would
	// otherwise keep only a post's first row and lose the objects of the
	// others. The ID is a function of the row, so a replay yields the
	// same IDs and only true duplicate rows are dropped; the original
	// post_id stays readable as the part before the "/". Batch callers
	// that reproduce the peer tools (vigie detect) leave it off: there
	// the content ID must be CooRTweet's post_id.
	RowIDs bool
}

// csvLayout is a header this reader knows, by column name.
type csvLayout struct {
	name    string
	format  CSVFormat
	columns []string
	// field maps a post field named by post.Validate to the column that
	// fills it, so errors name the column an analyst can find in the file.
	field map[string]string
	// mapping is set for a CSVGeneric layout, built from the options.
	mapping *FieldMapping
	index   map[string]int // mapped column name → index into columns
}

var (
	layoutCooRTweet = csvLayout{
		name: "coortweet", format: CSVCooRTweet,
		columns: []string{"object_id", "account_id", "content_id", "timestamp_share"},
		field:   map[string]string{"id": "content_id", "author": "account_id", "time": "timestamp_share"},
	}
	layoutCooRTweetPosts = csvLayout{
		name: "coortweet-posts", format: CSVCooRTweet,
		columns: []string{"account_id", "post_id", "url_id", "hashtag_id", "domain_id", "phash_id", "timestamp"},
		field: map[string]string{"id": "post_id", "author": "account_id", "time": "timestamp",
			"urls": "url_id", "hashtags": "hashtag_id", "media_hashes": "phash_id"},
	}
	layoutCNT = csvLayout{
		name: "cnt", format: CSVCNT,
		columns: []string{"message_id", "user_id", "username", "repost_id", "reply_id", "message", "timestamp", "urls"},
		field: map[string]string{"id": "message_id", "author": "user_id", "time": "timestamp",
			"repost_of": "repost_id", "reply_to": "reply_id", "text": "message", "urls": "urls"},
	}
	csvLayouts = []*csvLayout{&layoutCooRTweet, &layoutCooRTweetPosts, &layoutCNT}
)

// CSV reads one of the CSV layouts as posts. It streams: memory is one
// record (at most MaxLineBytes, see Next) plus the reader's buffer,
// whatever the file's size. It implements Source.
//
// A post is one row: CooRTweet's German layout spreads a post over
// several rows (one per URL, hashtag, image), and CSV returns each with
// that row's objects and the same post ID, because joining them would
// mean holding the whole file (rows of one post lie up to 40,000 rows
// apart there). A batch caller merges them; a stream, which deduplicates
// by ID, sets CSVOptions.RowIDs so that each row has an ID of its own.
type CSV struct {
	name   string
	f      *os.File // nil when reading a caller's io.Reader
	lim    *RecordLimiter
	r      *csv.Reader
	layout *csvLayout
	col    []int // column index of each layout column
	width  int   // fields per record, from the header
	opts   CSVOptions
	pos    Position
	base   Position // where the csv.Reader started: its line 1, offset 0
	prev   int64    // last line of the previous record
}

// OpenCSV opens path, reads its header and seeks to from (the zero
// Position reads every record).
func OpenCSV(path string, opts CSVOptions, from Position) (*CSV, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ingest: open %s: %w", path, err)
	}
	c, err := NewCSV(path, f, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	c.f = f
	if from.Offset > 0 && from.Offset != c.pos.Offset {
		if _, err := f.Seek(from.Offset, io.SeekStart); err != nil {
			f.Close()
			return nil, fmt.Errorf("ingest: seek %s to %d: %w", path, from.Offset, err)
		}
		c.restart(f, from)
	}
	return c, nil
}

// NewCSV reads the header of a CSV stream named name (for errors) and
// returns a source of its records.
func NewCSV(name string, r io.Reader, opts CSVOptions) (*CSV, error) {
	if opts.Platform == "" && opts.Format != CSVGeneric {
		opts.Platform = post.PlatformTwitter
	}
	if opts.ObjectKind == "" {
		opts.ObjectKind = post.KindRepost
	}
	c := &CSV{name: name, opts: opts}
	c.restart(r, Position{})
	c.r.FieldsPerRecord = 0 // the header sets it
	head, err := c.r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("empty file, no header")
		}
		return nil, &RecordError{Source: name, Line: 1, Err: &post.FieldError{Field: "header", Reason: err.Error()}}
	}
	if err := c.useHeader(head); err != nil {
		return nil, &RecordError{Source: name, Line: 1, Raw: rawRecord(head), Err: err}
	}
	if c.layout == &layoutCooRTweet {
		switch opts.ObjectKind {
		case post.KindRepost, post.KindReply, post.KindLink, post.KindHashtag, post.KindMention, post.KindMedia, post.KindText:
		default:
			return nil, fmt.Errorf("ingest: %s: object_id cannot hold a %q object (want repost, reply, link, hashtag, mention, media or text)", name, opts.ObjectKind)
		}
	}
	c.r.FieldsPerRecord = c.width
	c.pos = Position{Offset: c.r.InputOffset(), Line: 1}
	c.prev = 1
	return c, nil
}

// restart reads r from position at (an offset just after a record).
func (c *CSV) restart(r io.Reader, at Position) {
	c.lim = NewRecordLimiter(r, MaxLineBytes)
	c.r = csv.NewReader(bufio.NewReaderSize(c.lim, 64<<10))
	c.r.ReuseRecord = true
	c.r.LazyQuotes = false
	c.r.FieldsPerRecord = c.width
	c.base = at
	c.pos = at
	c.prev = at.Line
}

// useHeader picks the layout whose columns the header names.
func (c *CSV) useHeader(head []string) error {
	names := map[string]int{}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if _, dup := names[h]; !dup {
			names[h] = i
		}
	}
	if c.opts.Format == CSVGeneric {
		return c.useMapping(head, names)
	}
	var tried []string
	for _, l := range csvLayouts {
		if c.opts.Format != "" && l.format != c.opts.Format {
			continue
		}
		col := make([]int, len(l.columns))
		ok := true
		for i, name := range l.columns {
			j, has := names[name]
			if !has {
				ok = false
				break
			}
			col[i] = j
		}
		if ok {
			c.layout, c.col, c.width = l, col, len(head)
			return nil
		}
		tried = append(tried, strings.Join(l.columns, ","))
	}
	if c.opts.Format != "" && len(tried) == 0 {
		return &post.FieldError{Field: "header", Reason: fmt.Sprintf("unknown CSV format %q (want %q or %q)", c.opts.Format, CSVCooRTweet, CSVCNT)}
	}
	return &post.FieldError{Field: "header", Reason: fmt.Sprintf("columns %q match no known layout; want %s", strings.Join(head, ","), strings.Join(tried, " or "))}
}

// useMapping builds the layout of a generic CSV from the mapping: every
// column it names must be in the header.
func (c *CSV) useMapping(head []string, names map[string]int) error {
	m := c.opts.Mapping
	if m == nil {
		return &post.FieldError{Field: "header", Reason: "the generic csv format needs a field mapping (ingest.mapping.id, .author, .time...)"}
	}
	if err := m.Check(); err != nil {
		return &post.FieldError{Field: "header", Reason: err.Error()}
	}
	mc := *m
	if mc.DefaultPlatform == "" {
		mc.DefaultPlatform = c.opts.Platform
	}
	l := &csvLayout{name: "csv", format: CSVGeneric, field: map[string]string{}, mapping: &mc, index: map[string]int{}}
	var col []int
	var missing []string
	for _, f := range mc.fields() {
		if f.source == "" {
			continue
		}
		key := strings.ToLower(strings.TrimSpace(f.source))
		j, ok := names[key]
		if !ok {
			missing = append(missing, f.source)
			continue
		}
		if _, dup := l.index[f.source]; !dup {
			l.index[f.source] = len(col)
			col = append(col, j)
			l.columns = append(l.columns, key)
		}
		l.field[f.field] = f.source
	}
	if len(missing) > 0 {
		return &post.FieldError{Field: "header", Reason: fmt.Sprintf("columns %q named by the mapping are not in the header %q",
			strings.Join(missing, ","), strings.Join(head, ","))}
	}
	c.layout, c.col, c.width = l, col, len(head)
	return nil
}

// Format returns the layout's format.
func (c *CSV) Format() CSVFormat { return c.layout.format }

// Layout names the layout found: "coortweet", "coortweet-posts" (the
// German one-row-per-object layout) or "cnt".
func (c *CSV) Layout() string { return c.layout.name }

// Position returns where the next Next reads: the byte offset after the
// last record returned, and that record's last line.
func (c *CSV) Position() Position { return c.pos }

// Close closes the file, if OpenCSV opened it.
func (c *CSV) Close() error {
	if c.f == nil {
		return nil
	}
	return c.f.Close()
}

// Next returns the next post. A record it cannot read or that is not a
// valid post comes back as a *RecordError naming the file, the line and
// the column; the caller dead-letters it and calls Next again. A record
// longer than MaxLineBytes is one bad record, and reading resumes at the
// next line, so an unterminated quote cannot make the reader hold the rest
// of the file. io.EOF ends the file.
func (c *CSV) Next(ctx context.Context) (post.Post, error) {
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
	c.prev = c.base.Line + int64(last) + int64(strings.Count(rec[len(rec)-1], "\n"))
	c.pos.Line = c.prev
	p, ferr := c.decode(rec)
	if ferr != nil {
		return post.Post{}, &RecordError{Source: c.name, Line: line, Raw: rawRecord(rec), Err: ferr}
	}
	return p, nil
}

// readError turns an encoding/csv error into a RecordError.
func (c *CSV) readError(rec []string, err error) error {
	var pe *csv.ParseError
	switch {
	case errors.Is(err, ErrRecordTooLong):
		if serr := c.lim.SkipLine(); serr != nil {
			return fmt.Errorf("ingest: read %s: %w", c.name, serr)
		}
		c.pos.Offset = c.base.Offset + c.r.InputOffset() + c.lim.Skipped()
		line := c.prev + 1
		c.prev = line
		c.pos.Line = line
		return &RecordError{Source: c.name, Line: line, Err: &post.FieldError{Field: "record",
			Reason: fmt.Sprintf("longer than %d bytes (an unterminated quote?); skipped to the next line", MaxLineBytes)}}
	case errors.As(err, &pe):
		line := c.base.Line + int64(pe.StartLine)
		c.prev = c.base.Line + int64(pe.Line)
		c.pos.Line = c.prev
		field := "record"
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			return &RecordError{Source: c.name, Line: line, Raw: rawRecord(rec), Err: &post.FieldError{Field: field,
				Reason: fmt.Sprintf("%d fields, the header has %d", len(rec), c.width)}}
		}
		if pe.Column > 0 {
			field = fmt.Sprintf("column %d", pe.Column)
		}
		return &RecordError{Source: c.name, Line: line, Err: &post.FieldError{Field: field, Reason: pe.Err.Error()}}
	}
	return fmt.Errorf("ingest: read %s: %w", c.name, err)
}

// decode builds and validates the post of one record.
func (c *CSV) decode(rec []string) (post.Post, error) {
	get := func(i int) string { return rec[c.col[i]] }
	var p post.Post
	var ts, tsCol string
	switch c.layout {
	case &layoutCooRTweet:
		p = post.Post{ID: get(2), Author: get(1)}
		obj := get(0)
		if obj == "" {
			return post.Post{}, &post.FieldError{Field: "object_id", Reason: "missing"}
		}
		switch c.opts.ObjectKind {
		case post.KindRepost:
			p.RepostOf = obj
		case post.KindReply:
			p.ReplyTo = obj
		case post.KindLink:
			p.URLs = []string{obj}
		case post.KindHashtag:
			p.Hashtags = []string{obj}
		case post.KindMention:
			p.Mentions = []string{obj}
		case post.KindMedia:
			p.MediaHashes = []string{obj}
		case post.KindText:
			p.Text = obj
		}
		ts, tsCol = get(3), "timestamp_share"
	case &layoutCooRTweetPosts:
		// domain_id (column 4) has no post field: Vigie derives domains
		// from URLs, and these URLs are opaque IDs; it is read and
		// ignored.
		p = post.Post{ID: get(1), Author: get(0)}
		if u := get(2); u != "" {
			p.URLs = []string{u}
		}
		if h := get(3); h != "" {
			p.Hashtags = []string{h}
		}
		if m := get(5); m != "" {
			p.MediaHashes = []string{m}
		}
		if c.opts.RowIDs {
			p.ID = rowID(p.ID, get(2), get(3), get(5))
		}
		ts, tsCol = get(6), "timestamp"
	case &layoutCNT:
		p = post.Post{ID: get(0), Author: get(1), RepostOf: get(3), ReplyTo: get(4), Text: get(5)}
		if u := get(2); u != "" {
			if len(u) > post.MaxIDLen || !utf8.ValidString(u) {
				return post.Post{}, &post.FieldError{Field: "username", Reason: "longer than 256 bytes or invalid UTF-8"}
			}
			p.Account = &post.Account{ID: p.Author, Handle: u}
		}
		// The toolkit splits urls on single spaces; an empty piece would
		// be a URL "" linking every message without one, so it is dropped.
		for u := range strings.SplitSeq(get(7), " ") {
			if u != "" {
				p.URLs = append(p.URLs, u)
			}
		}
		ts, tsCol = get(6), "timestamp"
	default:
		if c.layout.mapping != nil {
			return c.layout.mapping.build(func(source string) (mappedValue, error) {
				return mappedValue{s: rec[c.col[c.layout.index[source]]], ok: true}, nil
			})
		}
		return post.Post{}, &post.FieldError{Field: "header", Reason: "no layout"}
	}
	p.Schema = post.SchemaVersion
	p.Platform = platformOf(p.Author, c.opts.Platform)
	if p.Account != nil {
		p.Account.Platform = p.Platform
	}
	t, err := parseUnixSeconds(ts)
	if err != nil {
		return post.Post{}, &post.FieldError{Field: tsCol, Reason: err.Error()}
	}
	p.Time = t
	Normalise(&p)
	if err := p.Validate(); err != nil {
		var fe *post.FieldError
		if errors.As(err, &fe) {
			name, _, _ := strings.Cut(fe.Field, "[")
			if col, ok := c.layout.field[name]; ok {
				fe.Field = col
			} else if c.layout == &layoutCooRTweet {
				fe.Field = "object_id"
			}
		}
		return post.Post{}, err
	}
	if limit := now().Add(MaxFutureSkew); p.Time.After(limit) {
		return post.Post{}, &post.FieldError{Record: p.Key(), Field: tsCol,
			Reason: fmt.Sprintf("%s is more than %s in the future", p.Time.Format(time.RFC3339), MaxFutureSkew)}
	}
	return p, nil
}

// rowID is the post ID of one row of CooRTweet's German layout (see
// CSVOptions.RowIDs): the post ID, then "/" and the row's non-empty
// objects, each prefixed by its kind (u: url_id, h: hashtag_id, m:
// phash_id) and joined by "+". An empty post ID stays empty, so
// validation still reports the post_id column.
func rowID(id, url, hashtag, media string) string {
	if id == "" || url == "" && hashtag == "" && media == "" {
		return id
	}
	var b strings.Builder
	b.Grow(len(id) + len(url) + len(hashtag) + len(media) + 10)
	b.WriteString(id)
	sep := byte('/')
	for _, o := range [...]struct{ prefix, v string }{{"u:", url}, {"h:", hashtag}, {"m:", media}} {
		if o.v == "" {
			continue
		}
		b.WriteByte(sep)
		b.WriteString(o.prefix)
		b.WriteString(o.v)
		sep = '+'
	}
	return b.String()
}

// platformOf reads the platform from an account ID's "tw_" or "fb_"
// prefix, the convention of CooRTweet's multi-platform data.
func platformOf(account string, def post.Platform) post.Platform {
	switch {
	case strings.HasPrefix(account, "tw_"):
		return post.PlatformTwitter
	case strings.HasPrefix(account, "fb_"):
		return post.PlatformFacebook
	}
	return def
}

// parseUnixSeconds reads Unix seconds: an integer, or a decimal with up
// to nine fractional digits read exactly, or (as R and Python may write
// large numbers) a float with an exponent, rounded to the nanosecond.
func parseUnixSeconds(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("missing")
	}
	bad := func() error { return fmt.Errorf("%q is not a Unix time in seconds", s) }
	whole, frac, dot := strings.Cut(s, ".")
	if !strings.ContainsAny(s, "eE") && len(frac) <= 9 && isDigits(whole) && (isDigits(frac) || (dot && frac == "")) {
		sec, err := strconv.ParseInt(whole, 10, 64)
		if err != nil || sec > maxUnixSeconds {
			return time.Time{}, bad()
		}
		ns := int64(0)
		if frac != "" {
			ns, _ = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		}
		return time.Unix(sec, ns).UTC(), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > maxUnixSeconds {
		return time.Time{}, bad()
	}
	return time.Unix(0, int64(math.Round(f*1e9))).UTC(), nil
}

// maxUnixSeconds keeps a time in nanoseconds within int64.
const maxUnixSeconds = math.MaxInt64/1_000_000_000 - 1

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// rawRecord re-encodes a record as CSV for the dead-letter record, capped
// at MaxLineBytes.
func rawRecord(rec []string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(rec)
	w.Flush()
	out := bytes.TrimRight(b.Bytes(), "\n")
	if len(out) > MaxLineBytes {
		out = out[:MaxLineBytes]
	}
	return out
}

// ErrRecordTooLong is RecordLimiter's signal through encoding/csv.
var ErrRecordTooLong = errors.New("record too long")

// RecordLimiter bounds what encoding/csv can buffer for one record, which
// it would otherwise grow without limit (a line with no newline, or a
// quote never closed, is read to the end of the file). Past max bytes
// since the last reset it fails the read; the caller then skips the rest
// of the line (skipLine), so reading resumes at a line start. The count
// includes the bufio read-ahead, so the limit holds to within one buffer.
type RecordLimiter struct {
	r       io.Reader
	max     int
	n       int
	pending []byte // read past a skipped line's end, served first
	skipped int64  // bytes dropped, for Position offsets
	buf     [4096]byte
}

// NewRecordLimiter bounds each record read from r to max bytes.
func NewRecordLimiter(r io.Reader, max int) *RecordLimiter { return &RecordLimiter{r: r, max: max} }

// Reset starts a new record.
func (l *RecordLimiter) Reset() { l.n = 0 }

// Skipped returns the bytes dropped by SkipLine so far.
func (l *RecordLimiter) Skipped() int64 { return l.skipped }

// ClearSkipped sets the dropped-byte count back to zero.
func (l *RecordLimiter) ClearSkipped() { l.skipped = 0 }

func (l *RecordLimiter) Read(p []byte) (int, error) {
	if l.n >= l.max {
		return 0, ErrRecordTooLong
	}
	if len(p) > l.max-l.n+1 {
		p = p[:l.max-l.n+1]
	}
	if len(l.pending) > 0 {
		n := copy(p, l.pending)
		l.pending = l.pending[n:]
		l.n += n
		return n, nil
	}
	n, err := l.r.Read(p)
	l.n += n
	return n, err
}

// SkipLine drops input up to and including the next newline. The
// csv.Reader's buffer is empty then: bufio hands its whole buffer over
// with the error, and it asked for more only because that buffer held no
// newline, so everything it read belonged to the line being dropped.
func (l *RecordLimiter) SkipLine() error {
	for {
		if len(l.pending) == 0 {
			n, err := l.r.Read(l.buf[:])
			l.pending = l.buf[:n]
			if n == 0 && err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err
			}
		}
		if i := bytes.IndexByte(l.pending, '\n'); i >= 0 {
			l.skipped += int64(i + 1)
			l.pending = bytes.Clone(l.pending[i+1:])
			l.n = 0
			return nil
		}
		l.skipped += int64(len(l.pending))
		l.pending = nil
	}
}
