package mastodon

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"time"
)

// Event is one server-sent event, as dispatched by the rules of the HTML
// standard's event-stream interpretation.
type Event struct {
	Type string // the event field; "message" when the event named none
	Data []byte // data lines joined by "\n"
	ID   string // the last event ID seen on the stream
	// TooLarge is set when the event's data passed the reader's limit;
	// Data then holds only its beginning.
	TooLarge bool
}

// SSEReader parses a text/event-stream. It follows the standard: lines
// end in CRLF, LF or a lone CR; a line starting with ':' is a comment
// (Mastodon's ":thump" heartbeat); "field: value" loses one leading space
// of its value; data lines accumulate, joined by LF; a blank line
// dispatches the event, unless no data came; an id containing NUL is
// ignored; retry sets the reconnection delay only when all digits; other
// fields are ignored; and an event cut off by the end of the stream is
// never dispatched.
//
// Memory is bounded: a line or an event's data beyond max bytes is cut,
// and the event comes back with TooLarge, so one hostile event cannot
// exhaust memory nor desynchronise the stream.
type SSEReader struct {
	r   *bufio.Reader
	max int
	// lineMax bounds a line: the data limit plus room for a field name.
	lineMax int
	skipLF  bool // the previous line ended with CR: a following LF belongs to it
	bom     bool // the leading byte-order mark was checked

	lastID   string
	retry    time.Duration
	comments int64

	typ     []byte
	data    []byte
	hasData bool
	tooBig  bool
}

// NewSSEReader reads events from r, cutting events over max bytes of data
// (max <= 0 means 1 MiB).
func NewSSEReader(r io.Reader, max int) *SSEReader {
	if max <= 0 {
		max = 1 << 20
	}
	return &SSEReader{r: bufio.NewReaderSize(r, 64<<10), max: max, lineMax: max + 256}
}

// Retry is the reconnection delay the stream asked for with "retry:", or
// zero.
func (s *SSEReader) Retry() time.Duration { return s.retry }

// LastEventID is the last "id:" the stream sent, for the Last-Event-ID
// header of a reconnection.
func (s *SSEReader) LastEventID() string { return s.lastID }

// Comments counts comment lines (heartbeats) read so far.
func (s *SSEReader) Comments() int64 { return s.comments }

// Next returns the next event. At the end of the stream it returns io.EOF
// (or the read error), discarding any incomplete event.
func (s *SSEReader) Next() (Event, error) {
	for {
		line, tooLong, err := s.readLine()
		if err != nil {
			return Event{}, err
		}
		if len(line) == 0 && !tooLong {
			if ev, ok := s.dispatch(); ok {
				return ev, nil
			}
			continue
		}
		s.processLine(line, tooLong)
	}
}

func (s *SSEReader) processLine(line []byte, tooLong bool) {
	if line[0] == ':' {
		s.comments++
		return
	}
	field, value := line, []byte(nil)
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		field, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(field) {
	case "event":
		if len(value) > 256 {
			value = value[:256]
		}
		s.typ = append(s.typ[:0], value...)
	case "data":
		s.hasData = true
		if tooLong || len(s.data)+len(value)+1 > s.max {
			s.tooBig = true
			if room := s.max - len(s.data); room > 0 {
				s.data = append(s.data, value[:min(room, len(value))]...)
			}
			return
		}
		s.data = append(s.data, value...)
		s.data = append(s.data, '\n')
	case "id":
		if !bytes.Contains(value, []byte{0}) && !tooLong {
			s.lastID = string(value)
		}
	case "retry":
		if len(value) > 0 && len(value) <= 12 && allDigits(value) {
			ms, _ := strconv.ParseInt(string(value), 10, 64)
			s.retry = time.Duration(ms) * time.Millisecond
		}
	}
}

func (s *SSEReader) dispatch() (Event, bool) {
	defer func() {
		s.typ, s.data, s.hasData, s.tooBig = s.typ[:0], s.data[:0], false, false
	}()
	if !s.hasData {
		return Event{}, false
	}
	ev := Event{Type: "message", ID: s.lastID, TooLarge: s.tooBig}
	if len(s.typ) > 0 {
		ev.Type = string(s.typ)
	}
	data := s.data
	if !s.tooBig && len(data) > 0 && data[len(data)-1] == '\n' {
		data = data[:len(data)-1]
	}
	ev.Data = append(make([]byte, 0, len(data)), data...)
	return ev, true
}

// readLine returns the next line without its terminator, cut at lineMax
// bytes (tooLong tells; the rest of the line is consumed). A lone CR ends
// a line without waiting for the next byte, so a live stream is never
// stalled by a peek.
func (s *SSEReader) readLine() (line []byte, tooLong bool, err error) {
	for {
		if _, err := s.r.Peek(1); err != nil {
			// A last line with no terminator belongs to an event the
			// standard discards anyway.
			return nil, false, err
		}
		if !s.bom {
			s.bom = true
			if b, _ := s.r.Peek(1); b[0] == 0xEF {
				// Only a stream that starts like a BOM waits for 3 bytes.
				if b, _ := s.r.Peek(3); bytes.Equal(b, []byte("\xEF\xBB\xBF")) {
					s.r.Discard(3)
					continue
				}
			}
		}
		buf, _ := s.r.Peek(s.r.Buffered())
		if s.skipLF {
			s.skipLF = false
			if buf[0] == '\n' {
				s.r.Discard(1)
				continue
			}
		}
		i := bytes.IndexAny(buf, "\r\n")
		chunk := buf
		if i >= 0 {
			chunk = buf[:i]
		}
		if len(line)+len(chunk) <= s.lineMax {
			line = append(line, chunk...)
		} else {
			if room := s.lineMax - len(line); room > 0 {
				line = append(line, chunk[:room]...)
			}
			tooLong = true
		}
		if i < 0 {
			s.r.Discard(len(buf))
			continue
		}
		s.skipLF = buf[i] == '\r'
		s.r.Discard(i + 1)
		return line, tooLong, nil
	}
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
