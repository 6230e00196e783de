package twitter

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/vigie-osint/vigie/ingest"
	"github.com/vigie-osint/vigie/post"
)

// now is the wall clock, replaceable in tests.
var now = time.Now

// finish normalises p and checks it as every Vigie source does: valid
// fields, and a time no more than ingest.MaxFutureSkew past the wall
// clock (the graph's stream time follows the latest post, so one post
// dated years ahead would age every edge out).
func finish(record string, p *post.Post) error {
	ingest.Normalise(p)
	if err := p.Validate(); err != nil {
		var fe *post.FieldError
		if errors.As(err, &fe) {
			if fe.Record == "" {
				fe.Record = record
			} else {
				fe.Record = record + " (" + fe.Record + ")"
			}
		}
		return err
	}
	if limit := now().Add(ingest.MaxFutureSkew); p.Time.After(limit) {
		return &post.FieldError{Record: record + " (" + p.Key() + ")", Field: "time",
			Reason: fmt.Sprintf("%s is more than %s in the future", p.Time.Format(time.RFC3339), ingest.MaxFutureSkew)}
	}
	return nil
}

// unescapeText decodes the three entities Twitter escapes in tweet text.
// Only these three: a user who typed "&eacute;" gets "&amp;eacute;" from
// the API, and must get "&eacute;" back, not "é". One pass, so "&amp;lt;"
// becomes "&lt;".
var unescapeText = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">").Replace

// normLang drops Twitter's "und" (undetermined) so language detection may
// fill the field.
func normLang(s string) string {
	if s == "und" {
		return ""
	}
	return s
}

// lineFile reads a file line by line with a resumable Position. The JSON
// formats share it.
type lineFile struct {
	name string
	f    *os.File
	r    *bufio.Reader
	pos  ingest.Position
}

func openLines(path string, from ingest.Position) (*lineFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("twitter: open %s: %w", path, err)
	}
	if from.Offset > 0 {
		if _, err := f.Seek(from.Offset, io.SeekStart); err != nil {
			f.Close()
			return nil, fmt.Errorf("twitter: seek %s to %d: %w", path, from.Offset, err)
		}
	}
	from.Cursor = ""
	return &lineFile{name: path, f: f, r: bufio.NewReaderSize(f, 256<<10), pos: from}, nil
}

// next returns the next non-blank line (trimmed) and advances the
// position past it. A line over ingest.MaxLineBytes is returned as a
// *ingest.RecordError, the rest of it skipped. io.EOF ends the file.
func (l *lineFile) next() ([]byte, error) {
	for {
		line, n, tooLong, err := readLine(l.r)
		if n == 0 && err != nil {
			if errors.Is(err, io.EOF) {
				return nil, io.EOF
			}
			return nil, fmt.Errorf("twitter: read %s: %w", l.name, err)
		}
		l.pos.Offset += n
		l.pos.Line++
		if tooLong {
			return nil, &ingest.RecordError{Source: l.name, Line: l.pos.Line, Raw: line,
				Err: fmt.Errorf("line longer than %d bytes", ingest.MaxLineBytes)}
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			if err != nil { // a blank last line without a newline
				return nil, io.EOF
			}
			continue
		}
		return line, nil
	}
}

// record names the current line in errors: "path:line".
func (l *lineFile) record() string { return fmt.Sprintf("%s:%d", l.name, l.pos.Line) }

// readLine reads up to and including '\n'. It returns the bytes consumed
// (n, for the position), the line without its line ending (capped at
// ingest.MaxLineBytes) and whether the line was over the cap.
func readLine(r *bufio.Reader) (line []byte, n int64, tooLong bool, err error) {
	for {
		chunk, e := r.ReadSlice('\n')
		n += int64(len(chunk))
		if len(line)+len(chunk) <= ingest.MaxLineBytes {
			line = append(line, chunk...)
		} else {
			tooLong = true
		}
		if e == bufio.ErrBufferFull {
			continue
		}
		return bytes.TrimRight(line, "\r\n"), n, tooLong, e
	}
}

// Skipped counts the records a source read but did not turn into posts
// because they are not tweets: stream notices (delete, limit, warning,
// scrub_geo, status_withheld, user_withheld, disconnect...), v2 partial
// errors and empty pages. They are not bad input, so they are counted
// rather than dead-lettered.
type Skipped map[string]int64

func (s Skipped) clone() Skipped {
	out := make(Skipped, len(s))
	for k, v := range s {
		out[k] = v
	}
	return out
}
