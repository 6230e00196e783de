package mastodon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/ingest"
	"github.com/vigie-osint/vigie/post"
)

// compact returns a testdata status on one line, optionally with its id
// and created_at replaced.
func compact(t testing.TB, file, id, created string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readTestdata(t, file), &m); err != nil {
		t.Fatal(err)
	}
	if id != "" {
		m["id"] = id
	}
	if created != "" {
		m["created_at"] = created
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sleeps records the waits a source asked for, without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

func testLogger(buf *bytes.Buffer, mu *sync.Mutex) *slog.Logger {
	return slog.New(slog.NewTextHandler(lockedWriter{buf, mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func TestStreamSSE(t *testing.T) {
	const token = "s3cret-token"
	var (
		mu          sync.Mutex
		connections int
		lastEventID []string
		auth        []string
		catchUps    []string
	)
	pretty := string(readTestdata(t, "status.json"))
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/streaming/public", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		connections++
		n := connections
		lastEventID = append(lastEventID, r.Header.Get("Last-Event-ID"))
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		fl := w.(http.Flusher)
		send := func(s string) {
			fmt.Fprint(w, s)
			fl.Flush()
		}
		switch n {
		case 1:
			send(":)\n\n")
			send(":thump\n")
			send("id: 5\nevent: update\ndata: " + compact(t, "reply.json", "", "") + "\n\n")
			// The status as Mastodon's docs print it, one data line per
			// JSON line.
			var b strings.Builder
			b.WriteString("event: update\r\n")
			for _, line := range strings.Split(strings.TrimSpace(pretty), "\n") {
				b.WriteString("data: " + line + "\r\n")
			}
			send(b.String() + "\r\n")
			send(":thump\n")
			send("event: delete\ndata: 108914327388663283\n\n")
			send("event: notification\ndata: {\"id\":\"1\",\"type\":\"mention\"}\n\n")
			send("event: update\ndata: {\"id\":\"9\",\"created_at\":\n\n")
			send("retry: 10\n\n")
			// The connection drops mid-event: that event is never
			// dispatched.
			send("event: update\ndata: {\"id\":\"999\"")
		case 2:
			send(":thump\n")
			send("event: status.update\ndata: " + compact(t, "edit.json", "", "") + "\n\n")
			// Already caught up over REST: skipped as a duplicate.
			send("event: update\ndata: " + compact(t, "status.json", "200000000000000001", "2024-01-01T00:00:01Z") + "\n\n")
			send("event: update\ndata: " + compact(t, "status.json", "200000000000000003", "2024-01-01T00:00:03Z") + "\n\n")
			<-r.Context().Done()
		default:
			<-r.Context().Done()
		}
	})
	mux.HandleFunc("/api/v1/timelines/public", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		catchUps = append(catchUps, r.URL.RawQuery)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("min_id") == "200000000000000002" {
			fmt.Fprint(w, "[]")
			return
		}
		prev := "http://" + r.Host + "/api/v1/timelines/public?limit=40&min_id=200000000000000002"
		w.Header().Set("Link", "<"+prev+">; rel=\"prev\"")
		// Newest first, as Mastodon pages are.
		fmt.Fprintf(w, "[%s,%s]", compact(t, "status.json", "200000000000000002", "2024-01-01T00:00:02Z"),
			compact(t, "status.json", "200000000000000001", "2024-01-01T00:00:01Z"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	var logBuf bytes.Buffer
	var logMu sync.Mutex
	sl := &sleeps{}
	src, err := New(Config{
		URL: srv.URL + "/api/v1/streaming/public", Token: token, Instance: "mastodon.example",
		Log: testLogger(&logBuf, &logMu), Sleep: sl.sleep,
	}, ingest.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	st := src.(*Stream)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	type result struct {
		id  string
		bad bool
	}
	want := []result{
		{id: "mastodon.example:108914327388663283"},
		{id: "mastodon.example:103270115826048975"},
		{bad: true},
		// reconnected: the gap is caught up over REST, oldest first
		{id: "mastodon.example:200000000000000001"},
		{id: "mastodon.example:200000000000000002"},
		{id: "mastodon.example:109348677773283527"}, // status.update
		{id: "mastodon.example:200000000000000003"},
	}
	var got []result
	var gotPosts []post.Post
	for range want {
		p, err := src.Next(ctx)
		var re *ingest.RecordError
		switch {
		case errors.As(err, &re):
			if re.Line == 0 || !strings.Contains(re.Error(), "/api/v1/streaming/public") {
				t.Errorf("record error %q does not name the stream and event", re)
			}
			got = append(got, result{bad: true})
		case err != nil:
			t.Fatalf("Next: %v", err)
		default:
			got = append(got, result{id: p.ID})
			gotPosts = append(gotPosts, p)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	if gotPosts[1].Text == "" || len(gotPosts[1].URLs) == 0 {
		t.Errorf("multi-line status decoded as %+v", gotPosts[1])
	}

	// Nothing more comes: Next waits until ctx ends, then returns its
	// error.
	short, cancelShort := context.WithTimeout(ctx, 200*time.Millisecond)
	_, err = src.Next(short)
	cancelShort()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("idle Next returned %v", err)
	}

	stats := st.Stats()
	if stats.Skipped["delete"] != 1 || stats.Skipped["notification"] != 1 || stats.Skipped["duplicate"] != 1 {
		t.Errorf("skipped %v", stats.Skipped)
	}
	if stats.Reconnects < 1 || stats.Heartbeats < 3 || stats.Rejected != 1 {
		t.Errorf("stats %+v", stats)
	}
	mu.Lock()
	if len(lastEventID) < 2 || lastEventID[1] != "5" {
		t.Errorf("Last-Event-ID on reconnection: %q", lastEventID)
	}
	for _, a := range auth {
		if a != "Bearer "+token {
			t.Errorf("Authorization %q", a)
		}
	}
	if len(catchUps) != 2 || !strings.Contains(catchUps[0], "min_id=108914327388663283") {
		t.Errorf("catch-up requests %q", catchUps)
	}
	mu.Unlock()
	// The server asked for retry: 10 ms; the reconnection waited on that
	// base, with jitter.
	if d := sl.all(); len(d) == 0 || d[0] < 5*time.Millisecond || d[0] > 10*time.Millisecond {
		t.Errorf("reconnection waits %v", d)
	}
	if pos := src.Position(); pos.Cursor != "200000000000000003" || pos.Line < 8 {
		t.Errorf("position %+v", pos)
	}
	logMu.Lock()
	logs := logBuf.String()
	logMu.Unlock()
	if strings.Contains(logs, token) {
		t.Errorf("the token leaked into the logs:\n%s", logs)
	}
	if !strings.Contains(logs, "reconnecting") {
		t.Errorf("no reconnection logged:\n%s", logs)
	}
}

func TestStreamIdleTimeoutReconnects(t *testing.T) {
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		c := n
		mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		w.(http.Flusher).Flush()
		if c == 2 {
			fmt.Fprint(w, "event: update\ndata: "+compact(t, "edit.json", "", "")+"\n\n")
			w.(http.Flusher).Flush()
		}
		<-r.Context().Done() // a silent, stalled connection
	}))
	defer srv.Close()
	src, err := New(Config{URL: srv.URL + "/api/v1/streaming/hashtag?tag=vote", IdleTimeout: 100 * time.Millisecond,
		MinBackoff: time.Millisecond, Log: slog.New(slog.DiscardHandler), CatchUp: -1}, ingest.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := src.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != "127.0.0.1:109348677773283527" {
		t.Errorf("post %q", p.ID)
	}
	if s := src.(*Stream).Stats(); s.Reconnects != 1 {
		t.Errorf("reconnects %d", s.Reconnects)
	}
}

func TestStreamRefusedIsFatal(t *testing.T) {
	for _, tc := range []struct {
		code  int
		fatal bool
	}{{401, true}, {404, true}, {503, false}} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.code)
				fmt.Fprint(w, `{"error":"The access token is invalid"}`)
			}))
			defer srv.Close()
			src, err := New(Config{URL: srv.URL + "/api/v1/streaming/user", Token: "tok-123", MinBackoff: time.Millisecond,
				MaxBackoff: 2 * time.Millisecond, Log: slog.New(slog.DiscardHandler)}, ingest.Position{})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			_, err = src.Next(ctx)
			if tc.fatal {
				if err == nil || errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), fmt.Sprint(tc.code)) {
					t.Errorf("want a fatal HTTP %d error, got %v", tc.code, err)
				}
				if strings.Contains(err.Error(), "tok-123") {
					t.Errorf("token in error %q", err)
				}
			} else if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("a 503 should be retried until ctx ends, got %v", err)
			}
		})
	}
}

func TestConfigChecks(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no url", Config{}, "no URL"},
		{"not an endpoint", Config{URL: "https://m.example/@alice"}, "not a streaming"},
		{"token over http", Config{URL: "http://m.example/api/v1/streaming/public", Token: "x"}, "plain HTTP"},
		{"token in url", Config{URL: "https://m.example/api/v1/streaming/public?access_token=x"}, TokenEnv},
		{"ftp", Config{URL: "ftp://m.example/api/v1/streaming/public"}, "endpoint"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg, ingest.Position{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestOpenByName(t *testing.T) {
	dir := t.TempDir()
	f := dir + "/token"
	if err := os.WriteFile(f, []byte("file-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(TokenEnv, "")
	t.Setenv(TokenFileEnv, f)
	src, err := Open(context.Background(), "https://m.example/api/v1/timelines/tag/vote?since=2024-06-01T00:00:00Z&max_posts=50&local=true", ingest.Position{})
	if err != nil {
		t.Fatal(err)
	}
	b, ok := src.(*Backfill)
	if !ok {
		t.Fatalf("%T, want *Backfill", src)
	}
	if b.cfg.Token != "file-token" || b.cfg.MaxPosts != 50 || !b.cfg.Since.Equal(time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("config %+v", b.cfg)
	}
	if q := b.next.Query(); q.Get("since") != "" || q.Get("max_posts") != "" || q.Get("local") != "true" || q.Get("limit") != "40" {
		t.Errorf("first page %s", b.next)
	}
	t.Setenv(TokenEnv, "env-token")
	src, err = Open(context.Background(), "https://m.example/api/v1/streaming/hashtag/local?tag=vote", ingest.Position{Cursor: "42"})
	if err != nil {
		t.Fatal(err)
	}
	s, ok := src.(*Stream)
	if !ok || s.cfg.Token != "env-token" || !s.catchUp || s.ep.timeline.String() != "https://m.example/api/v1/timelines/tag/vote?local=true" {
		t.Errorf("%T %+v", src, s.ep.timeline)
	}
	if _, err := Open(context.Background(), "https://m.example/api/v1/timelines/public?since=yesterday", ingest.Position{}); err == nil {
		t.Error("bad since accepted")
	}
	if v := fmt.Sprint(slog.AnyValue(s.cfg).Resolve()); strings.Contains(v, "env-token") {
		t.Errorf("LogValue shows the token: %s", v)
	}
}
