package mastodon

import (
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func readAllEvents(t testing.TB, r io.Reader, max int) ([]Event, *SSEReader) {
	t.Helper()
	s := NewSSEReader(r, max)
	var out []Event
	for {
		ev, err := s.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("error %v", err)
			}
			return out, s
		}
		out = append(out, ev)
	}
}

func TestSSEReader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		max  int
		want []Event
	}{
		{"mastodon update with heartbeats", ":thump\n\nevent: update\ndata: {\"id\":\"1\"}\n\n:thump\n",
			0, []Event{{Type: "update", Data: []byte(`{"id":"1"}`)}}},
		{"no event field is a message", "data: x\n\n", 0, []Event{{Type: "message", Data: []byte("x")}}},
		{"multi-line data joined by LF", "event: update\ndata: {\"a\":\ndata: 1}\n\n", 0,
			[]Event{{Type: "update", Data: []byte("{\"a\":\n1}")}}},
		{"CRLF line ends", "event: delete\r\ndata: 42\r\n\r\n", 0, []Event{{Type: "delete", Data: []byte("42")}}},
		{"lone CR line ends", "event: delete\rdata: 42\r\rdata: 43\r\r", 0,
			[]Event{{Type: "delete", Data: []byte("42")}, {Type: "message", Data: []byte("43")}}},
		{"only one leading space is removed", "data:  two\ndata:none\n\n", 0, []Event{{Type: "message", Data: []byte(" two\nnone")}}},
		{"field without colon", "data\n\n", 0, []Event{{Type: "message", Data: []byte("")}}},
		{"empty data line dispatches an empty event", "data:\n\n", 0, []Event{{Type: "message", Data: []byte("")}}},
		{"event without data is not dispatched", "event: update\n\ndata: y\n\n", 0, []Event{{Type: "message", Data: []byte("y")}}},
		{"event type resets between events", "event: a\ndata: 1\n\ndata: 2\n\n", 0,
			[]Event{{Type: "a", Data: []byte("1")}, {Type: "message", Data: []byte("2")}}},
		{"incomplete event at EOF is dropped", "data: 1\n\ndata: 2\n", 0, []Event{{Type: "message", Data: []byte("1")}}},
		{"unknown fields ignored", "foo: bar\ndata: 1\n\n", 0, []Event{{Type: "message", Data: []byte("1")}}},
		{"id carries over", "id: 7\ndata: a\n\ndata: b\n\nid: 8\x00x\ndata: c\n\n", 0,
			[]Event{{Type: "message", Data: []byte("a"), ID: "7"}, {Type: "message", Data: []byte("b"), ID: "7"},
				{Type: "message", Data: []byte("c"), ID: "7"}}},
		{"byte-order mark", "\xEF\xBB\xBFdata: 1\n\n", 0, []Event{{Type: "message", Data: []byte("1")}}},
		{"oversized event is cut and flagged", "data: 0123456789\ndata: abc\n\ndata: ok\n\n", 8,
			[]Event{{Type: "message", Data: []byte("01234567"), TooLarge: true}, {Type: "message", Data: []byte("ok")}}},
		{"oversized line is cut and flagged", "event: update\ndata: " + strings.Repeat("x", 1000) + "\n\ndata: ok\n\n", 10,
			[]Event{{Type: "update", Data: []byte(strings.Repeat("x", 10)), TooLarge: true}, {Type: "message", Data: []byte("ok")}}},
		{"oversized comment is still a comment", ":" + strings.Repeat("c", 1000) + "\ndata: ok\n\n", 10,
			[]Event{{Type: "message", Data: []byte("ok")}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, split := range []bool{false, true} {
				var r io.Reader = strings.NewReader(tc.in)
				if split {
					// One byte per read: a CR at a read boundary must not
					// swallow or stall on the next line.
					r = iotest.OneByteReader(r)
				}
				got, _ := readAllEvents(t, r, tc.max)
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("split=%v: got %+v\nwant %+v", split, got, tc.want)
				}
			}
		})
	}
}

func TestSSERetryAndComments(t *testing.T) {
	_, s := readAllEvents(t, strings.NewReader(":a\n:b\nretry: 2500\n\nretry: 1x\n\nid: 9\n\n"), 0)
	if s.Retry() != 2500*time.Millisecond {
		t.Errorf("retry %v", s.Retry())
	}
	if s.Comments() != 2 {
		t.Errorf("comments %d", s.Comments())
	}
	if s.LastEventID() != "9" {
		t.Errorf("last event id %q", s.LastEventID())
	}
}

// A lone CR followed by silence must not block the event it ends.
func TestSSELoneCRDoesNotStall(t *testing.T) {
	pr, pw := io.Pipe()
	s := NewSSEReader(pr, 0)
	go pw.Write([]byte("data: 1\r\r"))
	done := make(chan Event)
	go func() {
		ev, _ := s.Next()
		done <- ev
	}()
	select {
	case ev := <-done:
		if string(ev.Data) != "1" {
			t.Errorf("event %q", ev.Data)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the reader waited for a byte after CR")
	}
	pw.Close()
}

func TestLinks(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]string
	}{
		{`<https://m.example/api/v1/timelines/public?limit=40&max_id=2>; rel="next", <https://m.example/api/v1/timelines/public?limit=40&min_id=9>; rel="prev"`,
			map[string]string{"next": "https://m.example/api/v1/timelines/public?limit=40&max_id=2", "prev": "https://m.example/api/v1/timelines/public?limit=40&min_id=9"}},
		{`<https://a.example/x,y>;rel=next;title="a, b",<https://a.example/z>; rel="prev first"`,
			map[string]string{"next": "https://a.example/x,y", "prev": "https://a.example/z", "first": "https://a.example/z"}},
		{``, map[string]string{}},
		{`garbage`, map[string]string{}},
		{`<https://unterminated`, map[string]string{}},
	}
	for _, tc := range tests {
		if got := links(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("links(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestRateLimitHeaders(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	h := http.Header{}
	h.Set("X-RateLimit-Limit", "300")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset", "2024-05-01T12:03:00.000Z")
	// The server's clock is 60 s ahead of ours: the wait is measured on
	// the server's.
	h.Set("Date", now.Add(time.Minute).Format(http.TimeFormat))
	rl := parseRateLimit(h, now)
	if !rl.known || rl.remaining != 0 || rl.wait != 2*time.Minute {
		t.Errorf("rate limit %+v", rl)
	}
	h = http.Header{}
	h.Set("Retry-After", "7")
	if d := resetWait(h, now); d != 7*time.Second {
		t.Errorf("retry-after wait %v", d)
	}
	h.Set("X-RateLimit-Reset", "2099-01-01T00:00:00Z")
	if d := resetWait(h, now); d != maxRateWait {
		t.Errorf("absurd reset not capped: %v", d)
	}
	if rl := parseRateLimit(http.Header{}, now); rl.known {
		t.Error("no headers taken as a limit")
	}
}

func TestBackoff(t *testing.T) {
	for n := 0; n < 40; n++ {
		d := backoff(time.Second, time.Minute, n)
		lim := time.Second << min(n, 6)
		lim = min(lim, time.Minute)
		if d < lim/2 || d > lim {
			t.Errorf("attempt %d: %v outside [%v, %v]", n, d, lim/2, lim)
		}
	}
}
