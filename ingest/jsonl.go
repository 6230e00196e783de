// Package ingest reads posts from sources and normalises them for the
// posts topic. Every source reports bad records as a *RecordError that
// names the record (file and line, or offset) and the field, so the ingest
// stage can dead-letter that record and go on: one bad line never stops a
// replay or loses the lines after it.
package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/vigie-osint/vigie/post"
)

// MaxLineBytes bounds one input line. A longer line is rejected as one bad
// record (and skipped to its end) rather than buffered without limit.
const MaxLineBytes = 1 << 20

// RecordError is a record the source could not turn into a valid post.
type RecordError struct {
	Source string // file path or stream name
	Line   int64  // 1-based line, for line-oriented sources
	Raw    []byte // the record as read (truncated to MaxLineBytes)
	Err    error
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("%s:%d: %v", e.Source, e.Line, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// Position is where a source stands: the byte offset just after the last
// record returned, and its line number. Saved after the records up to it
// are acknowledged by Kafka, it lets a restarted ingest resume there.
type Position struct {
	Offset int64 `json:"offset"`
	Line   int64 `json:"line"`
	// Cursor is a network source's resume token (Mastodon max_id,
	// Bluesky time_us...); empty for files.
	Cursor string `json:"cursor,omitempty"`
}

// JSONL reads Vigie's own post JSON, one post per line, as written by
// `vigie gen` or exported by another Vigie.
type JSONL struct {
	name string
	f    *os.File
	r    *bufio.Reader
	pos  Position
	// decode turns one non-blank line into a post; nil is DecodeLine.
	// OpenMappedJSONL sets a field mapping here.
	decode func(name string, line []byte) (post.Post, error)
}

// OpenJSONL opens path and seeks to from (the zero Position reads it all).
func OpenJSONL(path string, from Position) (*JSONL, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ingest: open %s: %w", path, err)
	}
	if from.Offset > 0 {
		if _, err := f.Seek(from.Offset, io.SeekStart); err != nil {
			f.Close()
			return nil, fmt.Errorf("ingest: seek %s to %d: %w", path, from.Offset, err)
		}
	}
	return &JSONL{name: path, f: f, r: bufio.NewReaderSize(f, 256<<10), pos: from}, nil
}

// Position returns where the next Next will read.
func (j *JSONL) Position() Position { return j.pos }

// Close closes the file.
func (j *JSONL) Close() error { return j.f.Close() }

// Next returns the next post. A bad record comes back as a *RecordError;
// the caller dead-letters it and calls Next again. io.EOF ends the file.
// Blank lines are skipped.
func (j *JSONL) Next(ctx context.Context) (post.Post, error) {
	if err := ctx.Err(); err != nil {
		return post.Post{}, err
	}
	for {
		line, n, tooLong, err := readLine(j.r)
		if n == 0 && err != nil {
			if errors.Is(err, io.EOF) {
				return post.Post{}, io.EOF
			}
			return post.Post{}, fmt.Errorf("ingest: read %s: %w", j.name, err)
		}
		j.pos.Offset += n
		j.pos.Line++
		if tooLong {
			return post.Post{}, &RecordError{Source: j.name, Line: j.pos.Line, Raw: line,
				Err: fmt.Errorf("line longer than %d bytes", MaxLineBytes)}
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			if err != nil { // last line without newline, blank
				return post.Post{}, io.EOF
			}
			continue
		}
		decode := j.decode
		if decode == nil {
			decode = DecodeLine
		}
		p, derr := decode(fmt.Sprintf("%s:%d", j.name, j.pos.Line), line)
		if derr != nil {
			return post.Post{}, &RecordError{Source: j.name, Line: j.pos.Line, Raw: line, Err: derr}
		}
		return p, nil
	}
}

// MaxFutureSkew is how far past the wall clock a post's time may be. The
// graph builder's stream time follows the latest post time, so one post
// dated years ahead (a broken clock, or an attacker) would make every later
// post look late and age every edge out; such posts are rejected here.
const MaxFutureSkew = time.Hour

// now is the wall clock, replaceable in tests.
var now = time.Now

// DecodeLine decodes and normalises one JSON post. record names it in
// errors.
func DecodeLine(record string, line []byte) (post.Post, error) {
	p, err := post.DecodePost(record, line)
	if err != nil {
		return post.Post{}, err
	}
	Normalise(&p)
	if err := p.Validate(); err != nil {
		return post.Post{}, err
	}
	if limit := now().Add(MaxFutureSkew); p.Time.After(limit) {
		return post.Post{}, &post.FieldError{Record: record + " (" + p.Key() + ")", Field: "time",
			Reason: fmt.Sprintf("%s is more than %s in the future", p.Time.Format(time.RFC3339), MaxFutureSkew)}
	}
	return p, nil
}

// readLine reads up to and including '\n'. It returns the bytes consumed
// (n, for the position), the line (without the newline, capped at
// MaxLineBytes) and whether the line was over the cap.
func readLine(r *bufio.Reader) (line []byte, n int64, tooLong bool, err error) {
	for {
		chunk, e := r.ReadSlice('\n')
		n += int64(len(chunk))
		if len(line)+len(chunk) <= MaxLineBytes {
			line = append(line, chunk...)
		} else {
			tooLong = true
		}
		if e == bufio.ErrBufferFull {
			continue
		}
		if e != nil {
			return bytes.TrimRight(line, "\r\n"), n, tooLong, e
		}
		return bytes.TrimRight(line, "\r\n"), n, tooLong, nil
	}
}

// Normalise puts a post's fields in the form the graph builder matches on:
// hashtags case-folded without '#', mentions without '@' and lower-cased,
// duplicates within a list removed (order kept), UTC time. Canonical URLs
// are the sources' concern (issue 4 adds URL canonicalisation); here URLs
// are only trimmed.
func Normalise(p *post.Post) {
	p.Time = p.Time.UTC()
	if p.Schema == 0 {
		p.Schema = post.SchemaVersion
	}
	p.Hashtags = normList(p.Hashtags, func(s string) string { return strings.ToLower(strings.TrimPrefix(s, "#")) })
	p.Mentions = normList(p.Mentions, func(s string) string { return strings.ToLower(strings.TrimPrefix(s, "@")) })
	p.URLs = normList(p.URLs, strings.TrimSpace)
	p.MediaHashes = normList(p.MediaHashes, strings.TrimSpace)
}

func normList(in []string, f func(string) string) []string {
	if len(in) == 0 {
		return in
	}
	seen := make(map[string]bool, len(in))
	out := in[:0]
	for _, s := range in {
		s = f(strings.TrimSpace(s))
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}
