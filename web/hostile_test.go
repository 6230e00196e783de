package web

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vigie-osint/vigie/post"
	"github.com/vigie-osint/vigie/store"
	"github.com/vigie-osint/vigie/store/sqlite"
)

// The payloads an account Vigie watches may write, in any field it
// controls: its handle and name, its posts' text, hashtags and links, and
// so the cluster records and alerts built from them.
var payloads = []string{
	`<script>alert(1)</script>`,
	`"><img src=x onerror=alert(2)>`,
	`'><svg onload=alert(3)>`,
	`javascript:alert(4)`,
	`</textarea><iframe src=javascript:alert(5)>`,
	`{{.}}<!--`,
}

// hostileFixture stores one post, account, cluster, alert and briefing
// per payload, the payload in every text field, and serves them.
func hostileFixture(t *testing.T) *httptest.Server {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "hostile.db"), sqlite.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	at := time.Date(2017, 5, 5, 19, 0, 0, 0, time.UTC)
	var posts []post.Post
	var members []string
	for i, p := range payloads {
		author := "u" + string(rune('a'+i))
		acct := &post.Account{Platform: post.PlatformTwitter, ID: author, Handle: p, Name: "name " + p, Description: "bio " + p, ObservedAt: at}
		posts = append(posts, post.Post{Platform: post.PlatformTwitter, ID: "p" + author, Author: author, Time: at.Add(time.Duration(i) * time.Second),
			Text: "text " + p + " #tag", Hashtags: []string{"tag", "h" + p}, URLs: []string{p, "https://example.org/?q=" + p},
			Mentions: []string{p}, Lang: "fr", Account: acct})
		members = append(members, "twitter:"+author)
	}
	if err := st.PutPosts(ctx, posts); err != nil {
		t.Fatal(err)
	}
	var edges []post.Edge
	for i := 1; i < len(members); i++ {
		edges = append(edges, post.Edge{A: members[0], B: members[i], Weight: 3, Evidence: []post.Evidence{
			{Kind: post.KindLink, Key: payloads[i], PostA: posts[0].Key(), PostB: posts[i].Key(), TimeA: at, TimeB: at}}})
	}
	c := post.Cluster{ID: "c-hostile", Status: post.StatusActive, Platform: post.PlatformTwitter, Detected: at, FirstSeen: at, LastSeen: at,
		Members: members, Edges: edges, Posts: []string{posts[0].Key(), posts[1].Key()},
		Signals:    map[post.Kind]int{post.KindLink: 3},
		TopObjects: []post.KeyCount{{Kind: post.KindHashtag, Key: payloads[0], Count: 3}, {Kind: post.KindLink, Key: payloads[3], Count: 3}},
		Scores: post.Scores{Risk: 90, Reasons: payloads, Stance: map[string]float64{payloads[1]: -0.9},
			Factors: []post.Factor{{Name: payloads[2], Value: 1, Weight: 1}}},
		Extra: map[string]any{"label": payloads[0], payloads[1]: payloads[3]}}
	if err := st.PutClusters(ctx, []post.Cluster{c}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutAlerts(ctx, []post.Alert{{ID: "a-hostile", ClusterID: c.ID, Rule: "risk " + payloads[1], Time: at, Risk: 90, Size: len(members),
		Summary: strings.Join(payloads, " "), Targets: payloads}}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutBriefing(ctx, store.Briefing{Date: "2017-05-05", Generated: at, Title: "B " + payloads[0], Summary: strings.Join(payloads, " "),
		Markdown: "# B", HTML: "<p>b</p>"}); err != nil {
		t.Fatal(err)
	}
	s := &Server{Store: st, Log: slog.New(slog.DiscardHandler)}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// Markup checks. html/template writes every "<" of text as "&lt;", so
// each "<" followed by a letter in a page starts a real element: the page
// is scanned element by element, attributes decoded as a browser would.
var (
	tagRe  = regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s=>/]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?)*)\s*/?>`)
	attrRe = regexp.MustCompile(`([^\s=>/]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]+))?`)
	// The elements Vigie's templates use; any other is foreign.
	ownTags = map[string]bool{}
)

func init() {
	for _, t := range strings.Fields("a b blockquote body br button caption code dd details div dl dt footer form h1 h2 h3 h4 h5 h6 head header html input " +
		"label li link main meta meter nav noscript ol p script section small span summary table tbody td th thead time title tr ul") {
		ownTags[t] = true
	}
}

// checkNoMarkup fails if any payload came out as markup: a foreign
// element, an event handler, a script that is not ours, a javascript: URL.
func checkNoMarkup(t *testing.T, what, body string) {
	t.Helper()
	for _, p := range markupProblems(body) {
		t.Errorf("%s: %s", what, p)
	}
}

// markupProblems lists what checkNoMarkup reports.
func markupProblems(body string) []string {
	var out []string
	errorf := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	for _, p := range payloads {
		if strings.ContainsAny(p, "<>\"'") && strings.Contains(body, p) {
			errorf("payload %q appears unescaped", p)
		}
	}
	for _, m := range tagRe.FindAllStringSubmatch(body, -1) {
		tag := strings.ToLower(m[1])
		if !ownTags[tag] {
			errorf("foreign element %q", m[0])
		}
		attrs := map[string]string{}
		for _, a := range attrRe.FindAllStringSubmatch(m[2], -1) {
			name := strings.ToLower(a[1])
			v := html.UnescapeString(strings.Trim(a[2], `"'`))
			attrs[name] = v
			if strings.HasPrefix(name, "on") || name == "style" || name == "srcdoc" {
				errorf("attribute %s in %q", name, m[0])
			}
			switch name {
			case "href", "src", "action", "formaction", "xlink:href":
				u := strings.ToLower(strings.Map(func(r rune) rune {
					if r <= ' ' {
						return -1
					}
					return r
				}, v))
				if strings.HasPrefix(u, "javascript:") || strings.HasPrefix(u, "vbscript:") || strings.HasPrefix(u, "data:") {
					errorf("%s=%q in %q", name, v, m[0])
				}
			}
		}
		if tag == "script" && !strings.HasPrefix(attrs["src"], "/static/dist/app.js?v=") && attrs["type"] != "application/json" {
			errorf("a script that is not ours: %q", m[0])
		}
	}
	if !utf8.ValidString(body) {
		errorf("the page is not valid UTF-8")
	}
	return out
}

// TestMarkupProblems: the checks above can fail.
func TestMarkupProblems(t *testing.T) {
	for _, bad := range []string{
		`<p><img src=x onerror=alert(1)></p>`,
		`<a href="java&#115;cript:alert(1)">x</a>`,
		`<a href=" JavaScript:alert(1)">x</a>`,
		`<p onclick='x()'>`,
		`<script>alert(1)</script>`,
		`<form action="data:text/html,x">`,
		`<iframe src="/x">`,
		"<p>\xff</p>",
	} {
		if len(markupProblems(bad)) == 0 {
			t.Errorf("%q passed the markup checks", bad)
		}
	}
	for _, good := range []string{
		`<p>&lt;script&gt;alert(1)&lt;/script&gt; javascript:alert(1) onerror=x</p>`,
		`<a href="/accounts/twitter:javascript:alert(1)">x</a>`,
		`<script src="/static/dist/app.js?v=1" defer></script><script type="application/json" id="d">{}</script>`,
	} {
		if p := markupProblems(good); len(p) != 0 {
			t.Errorf("%q: %v", good, p)
		}
	}
}

// TestHostileTextEverywhere renders every page over records whose every
// text field is hostile and checks nothing of it became markup.
func TestHostileTextEverywhere(t *testing.T) {
	ts := hostileFixture(t)
	pages := []string{"/", "/clusters/c-hostile", "/accounts/twitter:ua", "/accounts/twitter:ub", "/posts/twitter:pua", "/posts/twitter:pub",
		"/posts?q=text", "/posts?hashtag=tag", "/alerts", "/alerts?cluster=c-hostile", "/briefings"}
	for _, p := range payloads {
		q := url.QueryEscape(p)
		// Reflected: the payload in the path and the query.
		pages = append(pages, "/posts?q="+q, "/posts?author="+q, "/posts?hashtag="+q, "/posts?from="+q, "/alerts?cluster="+q,
			"/clusters/"+url.PathEscape(p), "/accounts/"+url.PathEscape(p), "/posts/"+url.PathEscape(p), "/login?next="+q, "/?status="+q)
	}
	shown := 0
	for _, path := range pages {
		res := fetch(t, ts.URL+path)
		b := body(t, res)
		if res.StatusCode >= 500 {
			t.Fatalf("GET %s = %d", path, res.StatusCode)
		}
		checkNoMarkup(t, "GET "+path, b)
		if strings.Contains(b, "&lt;script&gt;alert(1)") || strings.Contains(b, "&#34;&gt;&lt;img") {
			shown++
		}
	}
	// The payloads are shown, escaped: an analyst must see what was written.
	if shown < 8 {
		t.Errorf("the escaped payloads are shown on only %d pages", shown)
	}
	// The API hands the text back as JSON strings (escaped for HTML too).
	for _, path := range []string{"/api/clusters/c-hostile", "/api/posts?q=text", "/api/alerts", "/api/accounts/twitter:ua", "/api/posts/twitter:pua"} {
		res := fetch(t, ts.URL+path)
		b := body(t, res)
		if res.StatusCode != 200 || !json.Valid([]byte(b)) || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
			t.Errorf("GET %s = %d %q", path, res.StatusCode, res.Header.Get("Content-Type"))
		}
		checkNoMarkup(t, "GET "+path, b)
	}
}

// TestInvalidUTF8Params: invalid UTF-8 in query parameters and paths is
// an answer (shown, or a 4xx), never a server error nor an invalid page.
func TestInvalidUTF8Params(t *testing.T) {
	ts := hostileFixture(t)
	for _, path := range []string{
		"/posts?q=%ff%fe", "/posts?author=%c3%28", "/posts?hashtag=%ed%a0%80", "/posts?q=%00", "/alerts?cluster=%ff",
		"/api/posts?q=%ff%fe", "/api/posts?hashtag=%c3", "/api/clusters?account=%ff", "/api/alerts?cluster=%ff",
		"/api/trends?window=%ff", "/clusters/%ff%fe", "/accounts/%ff", "/posts/%c3%28", "/api/clusters/%ff", "/login?next=%ff",
		"/api/export/graph?format=%ff", "/briefings/%ff",
	} {
		res := fetch(t, ts.URL+path)
		b := body(t, res)
		if res.StatusCode >= 500 {
			t.Errorf("GET %s = %d %s", path, res.StatusCode, b)
			continue
		}
		if !utf8.ValidString(b) {
			t.Errorf("GET %s: answer is not valid UTF-8", path)
		}
		if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") && !json.Valid([]byte(b)) {
			t.Errorf("GET %s: invalid JSON", path)
		}
	}
	// The refusal names the parameter.
	res := fetch(t, ts.URL+"/api/posts?author=a&q=%ff%fe")
	if b := body(t, res); res.StatusCode != 400 || !strings.Contains(b, `"param": "q"`) || !strings.Contains(b, "not valid UTF-8") {
		t.Errorf("invalid q = %d %s", res.StatusCode, b)
	}
}
