package mastodon

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"
)

func FuzzStatus(f *testing.F) {
	// Small seeds: the fuzzer minimises every new input, which takes a
	// long time on the multi-kilobyte statuses of testdata/.
	f.Add([]byte(`{"id":"1","created_at":"2024-01-01T00:00:00.000Z","spoiler_text":"cw","language":"fr","content":"<p>a &amp; <a href=\"https://x.example/?a=1&amp;b\">x</a><br>b</p><p><a href=\"https://m/tags/t\" class=\"mention hashtag\" rel=\"tag\">#<span>t</span></a></p>","account":{"acct":"Bob","created_at":"2020-01-01T00:00:00Z","note":"<p>n</p>","avatar":"/missing.png"},"tags":[{"name":"T"}],"mentions":[{"acct":"c@d"}],"card":{"url":"https://x.example/"}}`))
	f.Add([]byte(`{"id":"2","created_at":"2024-01-01T00:00:00Z","in_reply_to_id":"1","content":"","account":{"acct":"a@b"},"reblog":{"id":"3","created_at":"2023-01-01T00:00:00Z","content":"<pre>x  y</pre>","account":{"acct":"z"}}}`))
	f.Add([]byte(`{"id":"4","created_at":"2024-01-01T00:00:00Z","content":"<p class=\"quote-inline\">RE: <a href=\"https://q/1\">q</a></p>x","account":{"acct":"a"},"quote":{"state":"accepted","quoted_status_id":"5"}}`))
	f.Add([]byte(`{"id":1,"created_at":"2024-01-01T00:00:00Z","account":{"acct":"a"},"content":"<p>x<br>y</p>","reblog":{"id":"2"}}`))
	f.Add([]byte(`{"id":"1","created_at":"2024-01-01T00:00:00Z","account":{"acct":"a"},"content":"<a href='https://x'><p class=quote-inline><pre>"}`))
	dec := Decoder{Instance: "m.example", Now: func() time.Time { return testNow }}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := dec.Decode("fuzz", b)
		if err == nil {
			if err := p.Validate(); err != nil {
				t.Fatalf("decoded an invalid post: %v", err)
			}
			if !strings.HasPrefix(p.ID, "m.example:") || p.Account == nil {
				t.Fatalf("post %+v", p)
			}
		}
		// The converter on its own: never panics, keeps valid UTF-8 valid.
		text, links := htmlText(string(b))
		if utf8.Valid(b) && !utf8.ValidString(text) {
			t.Fatalf("invalid UTF-8 out of valid input: %q", text)
		}
		for _, l := range links {
			if !strings.HasPrefix(l, "http") {
				t.Fatalf("link %q", l)
			}
		}
	})
}

func FuzzSSE(f *testing.F) {
	f.Add([]byte(":thump\n\nevent: update\ndata: {\"id\":\"1\"}\n\n"))
	f.Add([]byte("event: delete\r\ndata: 42\r\n\r\nid: 1\rretry: 10\r\rdata: a\ndata: b\n\n"))
	f.Add([]byte("\xEF\xBB\xBFdata\n\ndata: " + strings.Repeat("x", 100) + "\n\n"))
	const max = 64
	f.Fuzz(func(t *testing.T, b []byte) {
		read := func(r io.Reader) []Event {
			s := NewSSEReader(r, max)
			var out []Event
			for i := 0; ; i++ {
				ev, err := s.Next()
				if err != nil {
					if !errors.Is(err, io.EOF) {
						t.Fatal(err)
					}
					return out
				}
				if len(ev.Data) > max {
					t.Fatalf("event data of %d bytes over the %d limit", len(ev.Data), max)
				}
				if i > len(b) {
					t.Fatal("more events than input bytes")
				}
				out = append(out, ev)
			}
		}
		whole := read(strings.NewReader(string(b)))
		bytewise := read(iotest.OneByteReader(strings.NewReader(string(b))))
		if !reflect.DeepEqual(whole, bytewise) {
			t.Fatalf("events depend on how reads are split:\n%+v\n%+v", whole, bytewise)
		}
	})
}
