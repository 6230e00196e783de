package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/scoring"
	"github.com/vigie-osint/vigie/store/sqlite"
)

// TestTrendsAPI: /api/trends ranks what cluster members push, ignores
// non-members, validates its parameters; cluster records show stance,
// target and bot share.
func TestTrendsAPI(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "trends.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	at := time.Date(2017, 5, 5, 20, 0, 0, 0, time.UTC)
	var posts []post.Post
	for i, a := range []string{"a", "b", "a", "b", "x"} {
		tag := "MacronLeaks"
		if a == "x" {
			tag = "Organic"
		}
		posts = append(posts, post.Post{Platform: post.PlatformTwitter, ID: string(rune('1' + i)), Author: a,
			Time: at.Add(-time.Duration(i) * time.Minute), Hashtags: []string{tag}, URLs: []string{"https://www.fringe.example/p"}})
	}
	if err := st.PutPosts(ctx, posts); err != nil {
		t.Fatal(err)
	}
	c := post.Cluster{ID: "c-00000000000000aa", Status: post.StatusActive, Platform: post.PlatformTwitter, Detected: at,
		FirstSeen: at.Add(-time.Hour), LastSeen: at, Members: []string{"twitter:a", "twitter:b"},
		Edges:   []post.Edge{{A: "twitter:a", B: "twitter:b", Weight: 3}},
		Signals: map[post.Kind]int{post.KindLink: 3}, Scores: post.Scores{Risk: 70, Coordination: 0.8},
		Stance: map[string]post.StanceScore{"macron": {Smear: 0.9}}, Target: "macron", TargetStance: "smear", BotShare: 0.5}
	if err := st.PutClusters(ctx, []post.Cluster{c}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer((&Server{Store: st, Log: slog.New(slog.DiscardHandler)}).Handler())
	t.Cleanup(ts.Close)

	code, body := get(t, ts.URL+"/api/trends")
	if code != 200 {
		t.Fatalf("GET /api/trends = %d %s", code, body)
	}
	var res struct {
		Trends []scoring.Trend `json:"trends"`
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	keys := map[string]scoring.Trend{}
	for _, tr := range res.Trends {
		keys[tr.Kind+":"+tr.Key] = tr
	}
	if tr := keys["hashtag:macronleaks"]; tr.Posts != 4 || tr.Accounts != 2 || len(tr.Clusters) != 1 {
		t.Errorf("macronleaks trend %+v in %s", tr, body)
	}
	if _, ok := keys["hashtag:organic"]; ok {
		t.Error("a non-member's hashtag trends")
	}
	if _, ok := keys["domain:fringe.example"]; !ok {
		t.Errorf("no domain trend in %s", body)
	}
	for path, want := range map[string]string{
		"/api/trends?window=forever": `"param": "window"`,
		"/api/trends?window=1s":      `"param": "window"`,
		"/api/trends?limit=-2":       `"param": "limit"`,
		"/api/trends?now=soon":       `"param": "now"`,
	} {
		if code, body := get(t, ts.URL+path); code != 400 || !strings.Contains(body, want) {
			t.Errorf("GET %s = %d %s; want 400 with %s", path, code, body, want)
		}
	}
	if code, body := get(t, ts.URL+"/api/trends?now=2017-05-01T00:00:00Z"); code != 200 || !strings.Contains(body, `"count": 0`) {
		t.Errorf("trends before any post: %d %s", code, body)
	}
	code, body = get(t, ts.URL+"/api/clusters/"+c.ID)
	for _, want := range []string{`"target": "macron"`, `"target_stance": "smear"`, `"bot_share": 0.5`, `"smear": 0.9`} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("cluster record lacks %s: %s", want, body)
		}
	}
	code, body = get(t, ts.URL+"/api/clusters")
	if code != 200 || !strings.Contains(body, `"target": "macron"`) {
		t.Errorf("cluster list lacks the target: %s", body)
	}
}
