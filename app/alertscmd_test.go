package app

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/alert"
	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/store/sqlite"
)

// TestAlertsTestCommand sends the sample to a real loopback receiver in
// each format, signed; without --allow-private the loopback target is
// refused before any connection.
func TestAlertsTestCommand(t *testing.T) {
	var got []string
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := alert.VerifyRequest(r, []byte("k"), time.Minute, 0)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if r.Header.Get(alert.HeaderEvent) != alert.TypeTest {
			http.Error(w, "event", http.StatusBadRequest)
			return
		}
		got = append(got, string(body))
	}))
	defer rc.Close()
	for _, f := range alert.Formats {
		var out, errb bytes.Buffer
		code := Main(t.Context(), []string{"alerts", "test", "--url", rc.URL, "--format", f, "--secret", "k", "--allow-private"}, &out, &errb)
		if code != 0 || !strings.Contains(out.String(), "HTTP 200") {
			t.Errorf("%s: exit %d, out %q, err %q", f, code, out.String(), errb.String())
		}
	}
	if len(got) != 3 || !strings.Contains(got[0], `"type":"test"`) || !strings.Contains(got[1], "blocks") || !strings.Contains(got[2], "AdaptiveCard") {
		t.Errorf("receiver got %v", got)
	}
	var out, errb bytes.Buffer
	if code := Main(t.Context(), []string{"alerts", "test", "--url", rc.URL, "--secret", "k"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "non-public") {
		t.Errorf("loopback without --allow-private: exit %d, %q", code, errb.String())
	}
	if len(got) != 3 {
		t.Error("the refused sample reached the receiver")
	}
	if code := Main(t.Context(), []string{"alerts", "test", "--url", "ftp://x", "--format", "slack"}, &out, &errb); code != 2 {
		t.Errorf("bad URL: exit %d", code)
	}
}

// TestBriefCommand writes a briefing from a small store.
func TestBriefCommand(t *testing.T) {
	dir := t.TempDir()
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "vigie.db"))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2017, 5, 4, 10, 0, 0, 0, time.UTC)
	var ps []post.Post
	for i := range 5 {
		ps = append(ps, post.Post{Platform: post.PlatformTwitter, ID: string(rune('1' + i)), Author: string(rune('a' + i)), Time: at.Add(time.Duration(i) * time.Minute),
			Text: "Le vote #Presidentielle2017", Hashtags: []string{"Presidentielle2017"}})
	}
	c := post.Cluster{ID: "c-x", Status: post.StatusActive, Detected: at, FirstSeen: at, LastSeen: at.Add(time.Hour),
		Members: []string{"twitter:a", "twitter:b", "twitter:c"}, Scores: post.Scores{Risk: 66},
		Edges: []post.Edge{{A: "twitter:a", B: "twitter:b", Weight: 3, First: at, Last: at}}, Posts: []string{"twitter:1"}}
	if err := st.PutPosts(t.Context(), ps); err != nil {
		t.Fatal(err)
	}
	if err := st.PutClusters(t.Context(), []post.Cluster{c}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	var out, errb bytes.Buffer
	if code := Main(t.Context(), []string{"brief", "--data-dir", dir, "--date", "2017-05-04"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s %s", code, out.String(), errb.String())
	}
	md, err := os.ReadFile(filepath.Join(dir, "briefings", "2017-05-04.md"))
	if err != nil || !strings.Contains(string(md), "c-x") || !strings.Contains(string(md), "5 posts") {
		t.Errorf("Markdown: %v\n%s", err, md)
	}
	st, err = sqlite.Open(t.Context(), filepath.Join(dir, "vigie.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b, err := st.GetBriefing(t.Context(), "2017-05-04")
	if err != nil || !strings.Contains(b.HTML, "data:image/png;base64,") {
		t.Errorf("stored briefing: %v", err)
	}
	raw, _ := json.Marshal(b.Summarize())
	if code := Main(t.Context(), []string{"brief", "--data-dir", dir, "--date", "May 4"}, &out, &errb); code != 2 {
		t.Errorf("bad date: exit %d (%s)", code, raw)
	}
}
