package bluesky

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/vigie-osint/vigie/ingest"
)

// jetServer is a loopback Jetstream: each connection runs the script for
// its number, and the queries it was dialled with are kept.
type jetServer struct {
	*httptest.Server
	mu      sync.Mutex
	queries []url.Values
}

func newJetServer(t *testing.T, script func(n int, c *websocket.Conn, r *http.Request)) *jetServer {
	js := &jetServer{}
	js.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/subscribe" {
			http.NotFound(w, r)
			return
		}
		js.mu.Lock()
		js.queries = append(js.queries, r.URL.Query())
		n := len(js.queries)
		js.mu.Unlock()
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		defer c.CloseNow()
		script(n, c, r)
	}))
	t.Cleanup(js.Close)
	return js
}

func (js *jetServer) query(i int) url.Values {
	js.mu.Lock()
	defer js.mu.Unlock()
	if i >= len(js.queries) {
		return nil
	}
	return js.queries[i]
}

func (js *jetServer) wsURL() string {
	return "ws" + strings.TrimPrefix(js.URL, "http") + "/subscribe?wantedCollections=app.bsky.feed.post&wantedCollections=app.bsky.feed.repost"
}

func send(t *testing.T, c *websocket.Conn, msgs ...string) {
	for _, m := range msgs {
		if err := c.Write(context.Background(), websocket.MessageText, []byte(m)); err != nil {
			t.Logf("write: %v", err) // the client may have gone
			return
		}
	}
}

// next reads one result: a post ID, or "!" for a record error.
func next(t *testing.T, src ingest.Source, ctx context.Context) string {
	t.Helper()
	p, err := src.Next(ctx)
	var re *ingest.RecordError
	switch {
	case errors.As(err, &re):
		if re.Source == "" || re.Line == 0 {
			t.Errorf("record error %v does not name its message", re)
		}
		return "!"
	case err != nil:
		t.Fatalf("Next: %v", err)
	}
	return p.ID
}

func TestJetstreamDisconnectAndResume(t *testing.T) {
	evs := testEvents(t)
	oversized := `{"did":"did:plc:big","time_us":1725911162500000,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post","rkey":"big","record":{"text":"` +
		strings.Repeat("x", 4096) + `"}}}`
	js := newJetServer(t, func(n int, c *websocket.Conn, r *http.Request) {
		switch n {
		case 1:
			send(t, c, string(evs[0]), string(evs[1]), string(evs[5]), `{"did":"did:plc:x","time_us":1725911163`, oversized, string(evs[6]))
			// Drop the connection without a close frame, as a crashed
			// server or a network failure would.
			c.CloseNow()
		case 2:
			// Jetstream replays from the cursor: the last event again,
			// then new ones.
			send(t, c, string(evs[6]), string(evs[7]))
			<-r.Context().Done()
		default:
			<-r.Context().Done()
		}
	})
	src, err := New(Config{URL: js.wsURL(), MaxMessageBytes: 2048, MinBackoff: time.Millisecond,
		Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return testNow }}, ingest.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var got []string
	for i := 0; i < 6; i++ {
		got = append(got, next(t, src, ctx))
	}
	want := []string{
		"at://did:plc:eygmaihciaxprqvxpfvl6flk/app.bsky.feed.post/3l3qo2vuowo2b",
		"at://did:plc:abcdefghijklmnopqrstuvwx/app.bsky.feed.repost/3l3qo3bbbbb2b",
		"!", // garbage JSON
		"!", // oversized
		"at://did:plc:abcdefghijklmnopqrstuvwx/app.bsky.feed.post/3l3qo4bbbbb2b",
		// reconnected; the replayed post is skipped
		"at://did:web:news.example/app.bsky.feed.post/3l3qo5bbbbb2b",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	q1, q2 := js.query(0), js.query(1)
	if q1.Get("cursor") != "" || q1.Get("maxMessageSizeBytes") != "2048" || len(q1["wantedCollections"]) != 2 {
		t.Errorf("first subscription %v", q1)
	}
	// Resume from the last event's time_us minus the 2 s margin.
	if q2.Get("cursor") != fmt.Sprint(int64(1725911164000002)-2_000_000) || len(q2["wantedCollections"]) != 2 {
		t.Errorf("resumed subscription %v", q2)
	}
	st := src.Stats()
	if st.Reconnects != 1 || st.Skipped["identity"] != 1 || st.Skipped["replayed"] != 1 || st.Rejected != 2 || st.Posts != 4 {
		t.Errorf("stats %+v", st)
	}
	if pos := src.Position(); pos.Cursor != "1725911165000003" || pos.Line != 8 {
		t.Errorf("position %+v", pos)
	}
	// Nothing more: Next waits until ctx ends.
	short, c2 := context.WithTimeout(ctx, 100*time.Millisecond)
	defer c2()
	if _, err := src.Next(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("idle Next: %v", err)
	}
}

func TestJetstreamRestartFromCursor(t *testing.T) {
	evs := testEvents(t)
	js := newJetServer(t, func(n int, c *websocket.Conn, r *http.Request) {
		send(t, c, string(evs[7]))
		<-r.Context().Done()
	})
	src, err := New(Config{URL: js.wsURL(), ReplayMargin: 5 * time.Second, Log: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return testNow }}, ingest.Position{Cursor: "1725911165000000", Line: 41})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if id := next(t, src, ctx); !strings.HasSuffix(id, "3l3qo5bbbbb2b") {
		t.Errorf("got %s", id)
	}
	if c := js.query(0).Get("cursor"); c != "1725911160000000" {
		t.Errorf("cursor %s, want the saved one minus 5 s", c)
	}
	if pos := src.Position(); pos.Line != 42 || pos.Cursor != "1725911165000003" {
		t.Errorf("position %+v", pos)
	}
}

func TestJetstreamIdleReconnects(t *testing.T) {
	evs := testEvents(t)
	js := newJetServer(t, func(n int, c *websocket.Conn, r *http.Request) {
		if n == 2 {
			send(t, c, string(evs[5]))
		}
		<-r.Context().Done() // connection 1 stays silent
	})
	src, err := New(Config{URL: js.wsURL(), IdleTimeout: 100 * time.Millisecond, MinBackoff: time.Millisecond,
		Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return testNow }}, ingest.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if id := next(t, src, ctx); !strings.Contains(id, "repost") {
		t.Errorf("got %s", id)
	}
	if st := src.Stats(); st.Reconnects != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestJetstreamRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "invalid wantedCollections", http.StatusBadRequest)
	}))
	defer srv.Close()
	src, err := New(Config{URL: "ws" + strings.TrimPrefix(srv.URL, "http") + "/subscribe", Log: slog.New(slog.DiscardHandler)}, ingest.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := src.Next(ctx); err == nil || !strings.Contains(err.Error(), "400") {
		t.Errorf("error %v, want a fatal HTTP 400", err)
	}
}

func TestOpen(t *testing.T) {
	for name, want := range map[string]string{
		"":          DefaultURL,
		"jetstream": DefaultURL,
		"wss://jet.example/subscribe?wantedDids=did:plc:x": "wss://jet.example/subscribe?wantedDids=did:plc:x",
	} {
		src, err := Open(context.Background(), name, ingest.Position{})
		if err != nil {
			t.Fatal(err)
		}
		if got := src.(*Jetstream).cfg.URL; got != want {
			t.Errorf("Open(%q) reads %s", name, got)
		}
	}
	for _, bad := range []string{"ftp://x/subscribe", "wss:///subscribe"} {
		if _, err := Open(context.Background(), bad, ingest.Position{}); err == nil {
			t.Errorf("Open(%q) accepted", bad)
		}
	}
	if _, err := New(Config{}, ingest.Position{Cursor: "yesterday"}); err == nil {
		t.Error("bad cursor accepted")
	}
}
