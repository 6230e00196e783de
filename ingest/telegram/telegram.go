// Package telegram reads a chat history exported by Telegram Desktop
// ("Export chat history", JSON format: result.json) as a source of posts.
// It streams the file with encoding/json's tokenizer, one message at a
// time, so a multi-gigabyte channel export is never held in memory. See
// message.go for the ID scheme and how forwards are keyed.
package telegram

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/vigie-osint/vigie/ingest"
	"github.com/vigie-osint/vigie/post"
)

// Config configures an export source.
type Config struct {
	// Path is result.json, or the export directory holding it.
	Path string
	// Location is the zone the exporting machine was in, used only for
	// messages without date_unixtime (exports before 2021), whose "date"
	// has no zone (default UTC).
	Location *time.Location
	// ChatID replaces the export's top-level "id", for files whose "id"
	// does not come before "messages".
	ChatID string
	Log    *slog.Logger
	// Now bounds message dates; nil is time.Now.
	Now func() time.Time
}

func (cfg *Config) setDefaults() {
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
}

// Stats counts what an export source read. Skipped messages are not
// errors, but they are counted, so that nothing disappears unseen.
type Stats struct {
	Messages int64            // elements of "messages" read
	Posts    int64            // posts returned
	Rejected int64            // messages returned as *ingest.RecordError
	Skipped  map[string]int64 // by reason: "service pin_message", "type unsupported", ...
}

// maxSkipReasons bounds the skip counters.
const maxSkipReasons = 64

// Export reads one chat export. Position.Line is the index (1-based) of
// the last message read, Position.Offset the file offset just after it;
// a restart seeks there (checking that the offset still falls between two
// messages, else it re-reads from the start and skips Line messages).
type Export struct {
	cfg  Config
	name string
	f    readerAtCloser

	dec    *json.Decoder
	fx     *escapeFixer
	base   int64 // file offset where fx reads from
	prefix int64 // bytes the decoder sees before fx's ("[" on resume)
	d      decoder

	ChatName, ChatType string

	pos  ingest.Position
	done bool

	mu sync.Mutex
	st Stats
}

// Open opens the export named by name: result.json or its directory.
func Open(ctx context.Context, name string, from ingest.Position) (ingest.Source, error) {
	return New(Config{Path: name}, from)
}

// New opens an export and positions it at from (zero: the first message).
func New(cfg Config, from ingest.Position) (*Export, error) {
	cfg.setDefaults()
	path := cfg.Path
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, "result.json")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", err)
	}
	return newExport(cfg, path, f, from)
}

type readerAtCloser interface {
	io.ReaderAt
	io.Closer
}

func newExport(cfg Config, name string, f readerAtCloser, from ingest.Position) (*Export, error) {
	cfg.setDefaults()
	e := &Export{cfg: cfg, name: name, f: f}
	if err := e.start(from); err != nil {
		f.Close()
		return nil, err
	}
	return e, nil
}

// start reads the header (the chat's ID, name and type) and positions the
// decoder at the message after from.
func (e *Export) start(from ingest.Position) error {
	e.reset(0, nil)
	id, err := e.readHeader()
	if err != nil {
		return err
	}
	if e.cfg.ChatID != "" {
		id = e.cfg.ChatID
	}
	if id == "" {
		return fmt.Errorf("telegram: %s: no chat \"id\" before \"messages\"; set the chat ID in the configuration", e.name)
	}
	e.d = decoder{chat: bareID(id), loc: e.cfg.Location, now: e.cfg.Now}
	if from.Line <= 0 {
		return nil
	}
	if from.Offset > 0 {
		ok, end, err := e.boundary(from.Offset)
		if err != nil {
			return err
		}
		if ok {
			e.pos = from
			if end {
				e.done = true
				return nil
			}
			return nil
		}
		e.cfg.Log.Warn("telegram export changed since its checkpoint: re-reading it to skip the messages already read",
			"file", e.name, "offset", from.Offset, "messages", from.Line)
	}
	// Slow path: skip from.Line messages from the start.
	for e.pos.Line < from.Line {
		if !e.dec.More() {
			return fmt.Errorf("telegram: %s: the checkpoint is at message %d but the export has %d", e.name, from.Line, e.pos.Line)
		}
		var skip json.RawMessage
		if err := e.dec.Decode(&skip); err != nil {
			return e.syntaxError(err)
		}
		e.pos.Line++
	}
	e.pos.Offset = e.offset(e.dec.InputOffset())
	return nil
}

// reset makes a decoder reading the file from off; prefix is fed to the
// decoder first.
func (e *Export) reset(off int64, prefix []byte) {
	e.base, e.prefix = off, int64(len(prefix))
	e.fx = newEscapeFixer(bufio.NewReaderSize(io.NewSectionReader(e.f, off, 1<<62), 256<<10))
	var r io.Reader = e.fx
	if len(prefix) > 0 {
		r = io.MultiReader(strings.NewReader(string(prefix)), e.fx)
	}
	e.dec = json.NewDecoder(r)
	e.dec.UseNumber()
}

// offset maps a decoder offset to the file's.
func (e *Export) offset(dec int64) int64 {
	return e.base + e.fx.inputOffset(dec-e.prefix)
}

// boundary checks that off is just after a message (a '}' before it, then
// ',' or ']') and, if so, resumes the decoder there. end is true when no
// message follows.
func (e *Export) boundary(off int64) (ok, end bool, err error) {
	var b [1]byte
	if _, err := e.f.ReadAt(b[:], off-1); err != nil || b[0] != '}' {
		return false, false, nil
	}
	r := bufio.NewReader(io.NewSectionReader(e.f, off, 1<<62))
	at := off
	for {
		c, err := r.ReadByte()
		if err != nil {
			return false, false, nil
		}
		at++
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case ']':
			return true, true, nil
		case ',':
			// Feed the decoder a "[" so it reads the rest as an array.
			e.reset(at, []byte("["))
			if _, err := e.dec.Token(); err != nil {
				return false, false, err
			}
			return true, false, nil
		default:
			return false, false, nil
		}
	}
}

// readHeader reads the top-level object up to the start of "messages".
func (e *Export) readHeader() (id string, err error) {
	if err := e.expectDelim('{'); err != nil {
		return "", err
	}
	for e.dec.More() {
		tok, err := e.dec.Token()
		if err != nil {
			return "", e.syntaxError(err)
		}
		key, _ := tok.(string)
		switch key {
		case "messages":
			if err := e.expectDelim('['); err != nil {
				return "", err
			}
			return id, nil
		case "chats", "left_chats", "personal_information":
			return "", fmt.Errorf("telegram: %s is a whole-account export; export one chat's history (\"Export chat history\") instead", e.name)
		case "id", "name", "type":
			var v json.RawMessage
			if err := e.dec.Decode(&v); err != nil {
				return "", e.syntaxError(err)
			}
			var s flexString
			if err := json.Unmarshal(v, &s); err != nil {
				return "", fmt.Errorf("telegram: %s: field %q: not a string or number", e.name, key)
			}
			switch key {
			case "id":
				id = string(s)
			case "name":
				e.ChatName = string(s)
			case "type":
				e.ChatType = string(s)
			}
		default:
			var skip json.RawMessage
			if err := e.dec.Decode(&skip); err != nil {
				return "", e.syntaxError(err)
			}
		}
	}
	return "", fmt.Errorf("telegram: %s: no \"messages\" list: not a chat export", e.name)
}

func (e *Export) expectDelim(want json.Delim) error {
	tok, err := e.dec.Token()
	if err != nil {
		return e.syntaxError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("telegram: %s: want %q at byte %d, found %v: not a Telegram Desktop JSON export",
			e.name, string(want), e.offset(e.dec.InputOffset()), tok)
	}
	return nil
}

// syntaxError names where in the file the JSON broke. Past that point the
// export cannot be read: JSON has no record boundary to resynchronise on.
func (e *Export) syntaxError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("telegram: %s: invalid JSON at byte %d, after message %d: %w",
			e.name, e.offset(se.Offset), e.pos.Line, err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("telegram: %s: the file ends inside the export, after message %d (an interrupted export?): %w",
			e.name, e.pos.Line, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("telegram: %s: after message %d: %w", e.name, e.pos.Line, err)
}

// Position returns the index of the last message read and the file offset
// after it.
func (e *Export) Position() ingest.Position { return e.pos }

// Stats returns what the source has read so far.
func (e *Export) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.st
	out.Skipped = make(map[string]int64, len(e.st.Skipped))
	for k, v := range e.st.Skipped {
		out.Skipped[k] = v
	}
	return out
}

func (e *Export) count(f func(*Stats)) {
	e.mu.Lock()
	f(&e.st)
	e.mu.Unlock()
}

// Close closes the file.
func (e *Export) Close() error { return e.f.Close() }

// Next returns the next message as a post. Service messages (joins, pins,
// title changes) and unsupported ones are skipped and counted. A message
// that cannot be read comes back as a *ingest.RecordError; io.EOF ends the
// export; a JSON syntax error ends it too, with an error naming the byte.
func (e *Export) Next(ctx context.Context) (post.Post, error) {
	for {
		if err := ctx.Err(); err != nil {
			return post.Post{}, err
		}
		if e.done {
			return post.Post{}, io.EOF
		}
		if !e.dec.More() {
			if _, err := e.dec.Token(); err != nil { // the closing ']'
				return post.Post{}, e.syntaxError(err)
			}
			e.done = true
			return post.Post{}, io.EOF
		}
		var raw json.RawMessage
		if err := e.dec.Decode(&raw); err != nil {
			return post.Post{}, e.syntaxError(err)
		}
		e.pos.Line++
		e.pos.Offset = e.offset(e.dec.InputOffset())
		e.count(func(s *Stats) { s.Messages++ })
		record := fmt.Sprintf("%s#%d", e.name, e.pos.Line)
		p, skip, err := e.d.decodeMessage(record, raw)
		switch {
		case err != nil:
			e.count(func(s *Stats) { s.Rejected++ })
			if len(raw) > ingest.MaxLineBytes {
				raw = raw[:ingest.MaxLineBytes]
			}
			return post.Post{}, &ingest.RecordError{Source: e.name, Line: e.pos.Line, Raw: raw, Err: err}
		case skip != "":
			e.count(func(s *Stats) {
				if s.Skipped == nil {
					s.Skipped = map[string]int64{}
				}
				if _, ok := s.Skipped[skip]; !ok && len(s.Skipped) >= maxSkipReasons {
					skip = "other" // a file could hold endless made-up types
				}
				s.Skipped[skip]++
			})
		default:
			e.count(func(s *Stats) { s.Posts++ })
			return p, nil
		}
	}
}
