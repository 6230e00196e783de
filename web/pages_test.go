package web

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/store"
	"github.com/vigie-osint/vigie/store/elastic"
	"github.com/vigie-osint/vigie/store/sqlite"
)

var update = flag.Bool("update", false, "rewrite the golden page fragments in testdata/pages")

// pageFixture is a store holding one cluster whose every text field is
// hostile, an alert, posts (evidence, sample, repost), a profile and a
// briefing; it serves the handler of a Server over it.
func pageFixture(t *testing.T) (*httptest.Server, *sqlite.Store) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "pages.db"), sqlite.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return fillFixture(t, st), st
}

// fixtureStore is what the fixture writes to and the pages read from.
type fixtureStore interface {
	store.Writer
	store.Reader
	store.Briefings
}

func fillFixture(t *testing.T, st fixtureStore) *httptest.Server {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2017, 5, 5, 19, 0, 0, 0, time.UTC)
	profile := &post.Account{Platform: post.PlatformTwitter, ID: "a", Handle: "a" + hostile, Description: "bio " + hostile, Followers: 12, ObservedAt: at}
	posts := []post.Post{
		{Platform: post.PlatformTwitter, ID: "1", Author: "a", Time: at, Text: "Les #MacronLeaks " + hostile,
			Hashtags: []string{"macronleaks", "x" + hostile}, URLs: []string{"https://fake.example/a?" + hostile}, Account: profile},
		{Platform: post.PlatformTwitter, ID: "2", Author: "b", Time: at.Add(5 * time.Second), RepostOf: "1", Hashtags: []string{"macronleaks"}},
		{Platform: post.PlatformTwitter, ID: "3", Author: "c", Time: at.Add(time.Hour), Text: "third", Hashtags: []string{"macronleaks"}, URLs: []string{"https://www.fake.example/b"}},
		{Platform: post.PlatformTwitter, ID: "4", Author: "z", Time: at.Add(24 * time.Hour), Text: "next day #macronleaks", Hashtags: []string{"macronleaks"}},
	}
	if err := st.PutPosts(ctx, posts); err != nil {
		t.Fatal(err)
	}
	c := post.Cluster{
		ID: "c-0123456789abcdef", Status: post.StatusActive, Platform: post.PlatformTwitter, Detected: at.Add(2 * time.Hour),
		FirstSeen: at, LastSeen: at.Add(time.Hour), Members: []string{"twitter:a", "twitter:b", "twitter:c"}, EdgeCount: 2,
		Edges: []post.Edge{
			// Evidence names posts by key, as the graph engine records them,
			// and by bare ID, as the model's comments allow.
			{A: "twitter:a", B: "twitter:b", Weight: 3, MeanDelta: 5, Evidence: []post.Evidence{
				{Kind: post.KindRepost, Key: "twitter:1" + hostile, PostA: "twitter:1", PostB: "twitter:2", TimeA: at, TimeB: at.Add(5 * time.Second)}}},
			{A: "twitter:a", B: "twitter:c", Weight: 1, MeanDelta: 9, Evidence: []post.Evidence{
				{Kind: post.KindLink, Key: "https://fake.example/b", PostA: "1", PostB: "3", TimeA: at, TimeB: at.Add(time.Hour)}}},
		},
		Signals:    map[post.Kind]int{post.KindRepost: 3},
		TopObjects: []post.KeyCount{{Kind: post.KindHashtag, Key: "macronleaks", Count: 3}, {Kind: post.KindLink, Key: "https://x.example/" + hostile, Count: 3}},
		Posts:      []string{"twitter:1", "twitter:3", "twitter:missing"},
		Scores: post.Scores{Risk: 80, Coordination: 0.9, Density: 1, Synchrony: 0.8, Reasons: []string{"reason " + hostile},
			Stance:  map[string]float64{"macron" + hostile: -0.8, "lepen": 0.05},
			Factors: []post.Factor{{Name: "bots" + hostile, Value: 0.5, Weight: 0.2}}},
		Extra: map[string]any{"note" + hostile: "value " + hostile},
	}
	if err := st.PutClusters(ctx, []post.Cluster{c}); err != nil {
		t.Fatal(err)
	}
	a := post.Alert{ID: "a-1", ClusterID: c.ID, Rule: "risk", Time: at.Add(2 * time.Hour), Risk: 80, Size: 3,
		Summary: "summary " + hostile, Targets: []string{"macron" + hostile}}
	if err := st.PutAlerts(ctx, []post.Alert{a}); err != nil {
		t.Fatal(err)
	}
	b := store.Briefing{Date: "2017-05-05", Generated: at.Add(5 * time.Hour), Title: "Briefing " + hostile, Summary: "sum " + hostile,
		Markdown: "# Briefing", HTML: "<!doctype html><p>briefing body</p><script>alert(1)</script>"}
	if err := st.PutBriefing(ctx, b); err != nil {
		t.Fatal(err)
	}
	s := &Server{Store: st, Log: slog.New(slog.DiscardHandler)}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

func fetch(t *testing.T, url string, hdr ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var mainRe = regexp.MustCompile(`(?s)<main id="main" tabindex="-1">(.*)</main>`)

// TestPages renders every page and compares its <main> with a golden
// fragment (go test ./web -run TestPages -update rewrites them), and
// checks the parts each page must have.
func TestPages(t *testing.T) {
	ts, _ := pageFixture(t)
	checkPages(t, ts, true)
}

// TestPagesOnElasticsearch renders the same pages from the Elasticsearch
// store: the pages read through store.Reader only, so they must show the
// same content on either backend (the golden fragments are not compared:
// the backends may order equal-ranked rows differently).
func TestPagesOnElasticsearch(t *testing.T) {
	u := os.Getenv(esEnv)
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set and CI=true: .ci/run must start Elasticsearch", esEnv)
		}
		t.Skipf("%s is not set: start a server with scripts/elasticsearch.sh start", esEnv)
	}
	ctx := context.Background()
	prefix := fmt.Sprintf("vigietest-web-%d", time.Now().UnixNano()%1_000_000_000)
	log := slog.New(slog.DiscardHandler)
	st, err := elastic.Open(ctx, elastic.Config{URLs: []string{u}}, elastic.WithPrefix(prefix), elastic.WithRefresh("wait_for"), elastic.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.DeleteAll(context.Background()); err != nil {
			t.Errorf("DeleteAll: %v", err)
		}
		st.Close()
	})
	checkPages(t, fillFixture(t, st), false)
}

// esEnv names the Elasticsearch the integration tests use, as in
// store/elastic (scripts/elasticsearch.sh start prints it).
const esEnv = "VIGIE_TEST_ELASTICSEARCH"

func checkPages(t *testing.T, ts *httptest.Server, golden bool) {
	tests := []struct {
		name, path string
		code       int
		contains   []string
	}{
		{"overview", "/", 200, []string{`href="/clusters/c-0123456789abcdef"`, `id="trend-data"`, `#macronleaks`, `summary &lt;script&gt;`}},
		{"cluster", "/clusters/c-0123456789abcdef", 200, []string{`id="network"`, `data-members="3"`, `id="members"`, `<th scope="col">Account</th>`,
			`href="/posts/twitter:1"`, `href="/posts/twitter:3"`, `<details id="ev-0">`, `fake.example`, `Les #MacronLeaks`, `smears`, `id="activity-data"`, `<th scope="row">bots&lt;script&gt;`}},
		{"account", "/accounts/twitter:a", 200, []string{`bio &lt;script&gt;`, `href="/clusters/c-0123456789abcdef"`, `Les #MacronLeaks`}},
		{"post", "/posts/twitter:2", 200, []string{`Reposted post`, `href="/posts/twitter:1"`}},
		{"search", "/posts?q=macronleaks", 200, []string{`4 posts found`, `value="macronleaks"`}},
		{"search-filters", "/posts?hashtag=macronleaks&author=twitter:z&from=2017-05-06", 200, []string{`1 post found`, `next day`}},
		{"search-empty", "/posts", 200, []string{`Type words`}},
		{"alerts", "/alerts", 200, []string{`summary &lt;script&gt;`}},
		{"alerts-cluster", "/alerts?cluster=nope", 200, []string{`No alert`}},
		{"briefings", "/briefings", 200, []string{`href="/briefings/2017-05-05"`, `Briefing &lt;script&gt;`}},
		{"bad-date", "/posts?from=yesterday", 400, []string{`parameter &#34;from&#34;`}},
		{"bad-offset", "/alerts?offset=-1", 400, []string{`offset`}},
		{"missing-cluster", "/clusters/nope", 404, []string{`404 Not Found`}},
		{"missing-account", "/accounts/twitter:nobody", 404, []string{`404 Not Found`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := fetch(t, ts.URL+tt.path)
			b := body(t, res)
			if res.StatusCode != tt.code {
				t.Fatalf("GET %s = %d, want %d: %s", tt.path, res.StatusCode, tt.code, b)
			}
			if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			for _, want := range tt.contains {
				if !strings.Contains(b, want) {
					t.Errorf("GET %s: missing %q", tt.path, want)
				}
			}
			m := mainRe.FindStringSubmatch(b)
			if m == nil {
				t.Fatalf("GET %s: no <main>", tt.path)
			}
			if !golden {
				return
			}
			golden := filepath.Join("testdata", "pages", tt.name+".html")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(m[1]), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if m[1] != string(want) {
				t.Errorf("GET %s: <main> differs from %s (run with -update after checking the change)", tt.path, golden)
			}
		})
	}
}

// TestPagesNeverRunHostileText: text from watched accounts appears on
// every page, escaped in HTML and in the embedded JSON, under a CSP that
// would block an inline script anyway.
func TestPagesNeverRunHostileText(t *testing.T) {
	ts, _ := pageFixture(t)
	for _, path := range []string{"/", "/clusters/c-0123456789abcdef", "/accounts/twitter:a", "/posts/twitter:1", "/posts?q=macronleaks", "/alerts", "/briefings"} {
		res := fetch(t, ts.URL+path)
		b := body(t, res)
		if res.StatusCode != 200 {
			t.Fatalf("GET %s = %d", path, res.StatusCode)
		}
		if strings.Contains(b, "<script>alert") || strings.Contains(b, "<img src=x") || strings.Contains(b, `</script><img`) {
			t.Errorf("GET %s: hostile markup rendered unescaped", path)
		}
		if !strings.Contains(b, "&lt;script&gt;") && !strings.Contains(b, `\u003cscript\u003e`) {
			t.Errorf("GET %s: expected the hostile text to be shown escaped", path)
		}
		// The only scripts are the bundle and inert JSON data blocks.
		for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(b, -1) {
			if tag != `<script type="application/json" id="trend-data">` && tag != `<script type="application/json" id="activity-data">` &&
				!regexp.MustCompile(`^<script src="/static/dist/app\.js\?v=[0-9a-f]{16}" defer>$`).MatchString(tag) {
				t.Errorf("GET %s: unexpected script tag %s", path, tag)
			}
		}
		if strings.Contains(b, " style=") || strings.Contains(b, "<style") {
			t.Errorf("GET %s: inline style, which the CSP forbids", path)
		}
		if csp := res.Header.Get("Content-Security-Policy"); csp != CSP {
			t.Errorf("GET %s: CSP = %q", path, csp)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("GET %s: missing security headers %v", path, res.Header)
		}
	}
}

// TestBriefingDocument: a stored briefing is served as it was rendered,
// sandboxed so that nothing in it runs.
func TestBriefingDocument(t *testing.T) {
	ts, _ := pageFixture(t)
	res := fetch(t, ts.URL+"/briefings/2017-05-05")
	b := body(t, res)
	if res.StatusCode != 200 || !strings.Contains(b, "briefing body") {
		t.Fatalf("GET briefing = %d %s", res.StatusCode, b)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "sandbox;") || !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("briefing CSP = %q", csp)
	}
	res = fetch(t, ts.URL+"/briefings/2017-05-05?format=markdown")
	if b := body(t, res); b != "# Briefing" || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/markdown") {
		t.Errorf("markdown = %q %q", b, res.Header.Get("Content-Type"))
	}
	for path, code := range map[string]int{"/briefings/2017-05-06": 404, "/briefings/May-5": 400} {
		if res := fetch(t, ts.URL+path); res.StatusCode != code {
			t.Errorf("GET %s = %d, want %d", path, res.StatusCode, code)
		}
	}
}

// readerOnly hides every method but store.Reader's, as a backend without
// briefings would offer.
type readerOnly struct{ store.Reader }

func TestBriefingsWithoutSupport(t *testing.T) {
	_, st := pageFixture(t)
	ts := httptest.NewServer((&Server{Store: readerOnly{st}, Log: slog.New(slog.DiscardHandler)}).Handler())
	defer ts.Close()
	if b := body(t, fetch(t, ts.URL+"/briefings")); !strings.Contains(b, "keeps no briefings") {
		t.Errorf("briefings page without support: %s", b)
	}
	if res := fetch(t, ts.URL+"/briefings/2017-05-05"); res.StatusCode != 404 {
		t.Errorf("briefing without support = %d", res.StatusCode)
	}
}

// TestStaticAssets: the embedded bundle is served with a content ETag,
// revalidates to 304, and is cached for good under its versioned URL.
func TestStaticAssets(t *testing.T) {
	ts, _ := pageFixture(t)
	page := body(t, fetch(t, ts.URL+"/clusters/c-0123456789abcdef"))
	m := regexp.MustCompile(`src="(/static/dist/app\.js\?v=[0-9a-f]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no versioned script link on the cluster page")
	}
	res := fetch(t, ts.URL+m[1])
	js := body(t, res)
	if res.StatusCode != 200 || len(js) < 10000 || !strings.Contains(res.Header.Get("Content-Type"), "javascript") {
		t.Fatalf("bundle: %d %q, %d bytes", res.StatusCode, res.Header.Get("Content-Type"), len(js))
	}
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("versioned bundle Cache-Control = %q", cc)
	}
	etag := res.Header.Get("ETag")
	if res := fetch(t, ts.URL+"/static/dist/app.js", "If-None-Match", etag); res.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation = %d, want 304", res.StatusCode)
	} else if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("unversioned Cache-Control = %q", cc)
	}
	// Asked for explicitly, so the client does not decode it.
	res = fetch(t, ts.URL+"/static/dist/app.js", "Accept-Encoding", "gzip")
	if gz := body(t, res); res.Header.Get("Content-Encoding") != "gzip" || len(gz) >= len(js)/2 || !strings.HasPrefix(gz, "\x1f\x8b") {
		t.Errorf("gzip: encoding %q, %d bytes of %d", res.Header.Get("Content-Encoding"), len(gz), len(js))
	}
	for _, p := range []string{"/static/dist/app.css", "/static/dist/THIRD-PARTY-LICENSES.txt", "/static/favicon.svg"} {
		if res := fetch(t, ts.URL+p); res.StatusCode != 200 {
			t.Errorf("GET %s = %d", p, res.StatusCode)
		}
	}
	if res := fetch(t, ts.URL+"/static/nope.js"); res.StatusCode != 404 {
		t.Errorf("missing asset = %d", res.StatusCode)
	}
}

// TestTrendsCount checks the overview's narrative trends against the
// posts: #macronleaks on 3 posts on 5 May and 1 on 6 May.
func TestTrendsCount(t *testing.T) {
	_, st := pageFixture(t)
	s := &Server{Store: st, Log: slog.New(slog.DiscardHandler)}
	cs, err := st.ListClusters(context.Background(), store.ClusterQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	// LastSeen is 5 May; stretch it so the trend covers the 6th.
	cs[0].LastSeen = cs[0].LastSeen.Add(24 * time.Hour)
	tr, err := s.narrativeTrends(context.Background(), cs)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(tr.Days, ",") != "2017-05-05,2017-05-06" {
		t.Fatalf("days = %v", tr.Days)
	}
	if len(tr.Series) == 0 || tr.Series[0].Tag != "macronleaks" {
		t.Fatalf("series = %+v", tr.Series)
	}
	if got := tr.Series[0].Counts; len(got) != 2 || got[0] != 3 || got[1] != 1 {
		t.Errorf("macronleaks per day = %v, want [3 1]", got)
	}
}
