package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/store/sqlite"
)

const hostile = `<script>alert("x")</script><img src=x onerror=alert(1)>`

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	at := time.Date(2017, 5, 5, 19, 0, 0, 0, time.UTC)
	posts := []post.Post{
		{Platform: post.PlatformTwitter, ID: "1", Author: "a", Time: at, Text: "Les #MacronLeaks " + hostile, Hashtags: []string{"macronleaks"}},
		{Platform: post.PlatformTwitter, ID: "2", Author: "b", Time: at.Add(5 * time.Second), RepostOf: "1"},
	}
	if err := st.PutPosts(ctx, posts); err != nil {
		t.Fatal(err)
	}
	c := post.Cluster{
		ID: "c-0123456789abcdef", Status: post.StatusActive, Platform: post.PlatformTwitter, Detected: at,
		FirstSeen: at, LastSeen: at, Members: []string{"twitter:a", "twitter:b", "twitter:c"},
		Edges: []post.Edge{{A: "twitter:a", B: "twitter:b", Weight: 3, Evidence: []post.Evidence{
			{Kind: post.KindRepost, Key: "twitter:1" + hostile, PostA: "1", PostB: "2", TimeA: at, TimeB: at}}}},
		Signals:    map[post.Kind]int{post.KindRepost: 3},
		TopObjects: []post.KeyCount{{Kind: post.KindLink, Key: "https://x.example/" + hostile, Count: 3}},
		Scores:     post.Scores{Risk: 80, Reasons: []string{"reason " + hostile}},
	}
	if err := st.PutClusters(ctx, []post.Cluster{c}); err != nil {
		t.Fatal(err)
	}
	s := &Server{Store: st, Log: slog.New(slog.DiscardHandler)}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestAPI(t *testing.T) {
	ts := newServer(t)
	tests := []struct {
		path     string
		code     int
		contains string
	}{
		{"/healthz", 200, `"ok"`},
		{"/readyz", 200, `"ready"`},
		{"/api/clusters", 200, `"c-0123456789abcdef"`},
		{"/api/clusters?min_risk=90", 200, `"count": 0`},
		{"/api/clusters?min_risk=high", 400, `"param": "min_risk"`},
		{"/api/clusters?limit=-1", 400, `"param": "limit"`},
		{"/api/clusters?status=weird", 400, `"param": "status"`},
		{"/api/clusters?since=yesterday", 400, `"param": "since"`},
		{"/api/clusters/c-0123456789abcdef", 200, `"members"`},
		{"/api/clusters/nope", 404, `not found`},
		{"/api/clusters/c-0123456789abcdef/graph", 200, `"weight": 3`},
		{"/api/clusters/nope/graph", 404, `not found`},
		{"/api/posts?q=macronleaks", 200, `"total": 1`},
		{"/api/posts?q=%22unclosed", 200, `"posts"`},
		{"/api/posts?hashtag=%23MacronLeaks", 200, `"total": 1`},
		{"/api/posts?from=2017-05-06", 200, `"total": 0`},
		{"/api/posts/twitter:2", 200, `"repost_of": "1"`},
		{"/api/accounts/twitter:a", 200, `"c-0123456789abcdef"`},
		{"/api/alerts", 200, `"alerts": []`},
		{"/api/stats", 200, `"posts": 2`},
		{"/nowhere", 404, ``},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			code, body := get(t, ts.URL+tt.path)
			if code != tt.code || !strings.Contains(body, tt.contains) {
				t.Fatalf("GET %s = %d %s; want %d containing %q", tt.path, code, body, tt.code, tt.contains)
			}
			if strings.HasPrefix(tt.path, "/api/") && code < 500 && code != 404 && !json.Valid([]byte(body)) {
				t.Fatalf("not JSON: %s", body)
			}
		})
	}
}

// TestPagesEscapeHostileText: text written by the accounts Vigie watches
// must never run in an analyst's browser.
func TestPagesEscapeHostileText(t *testing.T) {
	ts := newServer(t)
	for _, path := range []string{"/", "/clusters/c-0123456789abcdef"} {
		code, body := get(t, ts.URL+path)
		if code != 200 {
			t.Fatalf("GET %s = %d", path, code)
		}
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Errorf("GET %s: hostile markup rendered unescaped", path)
		}
		if !strings.Contains(body, "&lt;script&gt;") {
			t.Errorf("GET %s: expected the escaped text to be shown", path)
		}
	}
	res, err := http.Get(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if csp := res.Header.Get("Content-Security-Policy"); csp != CSP || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Errorf("CSP = %q", csp)
	}
}

func FuzzAPIQuery(f *testing.F) {
	for _, q := range []string{"q=macron", "min_risk=1e309", "limit=99999999999999999999", "since=2017-05-05T00:00:00Z", "q=%00", "hashtag=%23%23"} {
		f.Add(q)
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	// No rate limit: every fuzzed request comes from one address.
	acc, err := NewAccess(AccessOptions{RateLimit: -1})
	if err != nil {
		f.Fatal(err)
	}
	h := (&Server{Store: st, Log: slog.New(slog.DiscardHandler), Access: acc}).Handler()
	f.Fuzz(func(t *testing.T, rawQuery string) {
		for _, path := range []string{"/api/posts", "/api/clusters", "/api/alerts", "/", "/posts", "/alerts", "/briefings"} {
			req := httptest.NewRequest("GET", "http://x"+path, nil)
			req.URL.RawQuery = rawQuery
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code >= 500 {
				t.Fatalf("GET %s?%s = %d %s", path, rawQuery, w.Code, w.Body)
			}
		}
	})
}
