package telegram

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/vigie-osint/vigie/ingest"
)

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

func FuzzTelegramExport(f *testing.F) {
	f.Add([]byte(`{"name":"c","type":"public_channel","id":1,"messages":[{"id":1,"type":"message","date_unixtime":"1645671600","from_id":"channel1","text":["a ",{"type":"link","text":"https://x"},{"type":"text_link","text":"y","href":"https://y"},{"type":"hashtag","text":"#h"},{"type":"mention_name","text":"n","user_id":5}],"forwarded_from":"o","reply_to_message_id":3},{"id":2,"type":"service","action":"pin_message"}]}`))
	f.Add([]byte("{\"id\":1,\"messages\":[{\"id\":2,\"type\":\"message\",\"date\":\"2022-02-24T05:00:00\",\"from_id\":\"user1\",\"text\":\"a\\x0Bb\",\"text_entities\":[{\"type\":\"plain\",\"text\":\"a\\x0Bb\"}]},{\"id\":3}]}"))
	f.Add([]byte(`{"id":1,"messages":[{"id":"x","type":"message","from_id":2,"date_unixtime":1,"text":{"a":1}}, 5, "s", null]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := newExport(testConfig("fuzz"), "fuzz", nopCloser{bytes.NewReader(b)}, ingest.Position{})
		if err != nil {
			return
		}
		var last ingest.Position
		for i := 0; ; i++ {
			p, err := e.Next(context.Background())
			pos := e.Position()
			if pos.Line < last.Line || pos.Offset < last.Offset || pos.Offset > int64(len(b)) {
				t.Fatalf("position went from %+v to %+v (input of %d bytes)", last, pos, len(b))
			}
			last = pos
			var re *ingest.RecordError
			switch {
			case errors.Is(err, io.EOF):
				return
			case errors.As(err, &re):
				continue
			case err != nil:
				return // a syntax error ends the export
			}
			if err := p.Validate(); err != nil {
				t.Fatalf("invalid post: %v", err)
			}
			if b[pos.Offset-1] != '}' {
				t.Fatalf("offset %d is not just after a message", pos.Offset)
			}
			if i > len(b) {
				t.Fatal("more posts than input bytes")
			}
		}
	})
}
